/**
 * The batch journal: the single source of truth for which seed goes, went, or is going onto which
 * token (docs/ARCHITECTURE.md "The one burn path, and what the journal keeps"). Every state change is one SQLite transaction, and with
 * `synchronous = FULL` in WAL mode a transaction is on disk when the call returns. The order the batch
 * engine must follow for each tap:
 *
 *   claimNext (item bound to the serial, committed) → burn → markBurned → verify → markVerified → commit
 *
 * An interrupted item (claimed, burned or verified, then a crash, a pulled card, a lost reader) is
 * handed out again, with the same seed, when the same serial is tapped in the same batch.
 */
import type Database from "better-sqlite3";
import { aint, aoneOf } from "../lib/checks.js";
import { prepareBatch } from "./batch-input.js";
import { otpbError } from "../lib/errors.js";
import { openJournalFile, type JournalOptions } from "./journal-open.js";
import { batchRecord, eventRecord, itemRecord, type BatchRow, type EventRow, type ItemRow } from "./rows.js";
import type { SeedVault } from "./seed-vault.js";
import { atext } from "./input.js";
import { journalError } from "./sqlite-errors.js";
import { ItemStore, appendEvent } from "./journal-items.js";
import {
  ITEM_STATES,
  type BatchInput,
  type BatchRecord,
  type BatchState,
  type BatchStatus,
  type ClaimOptions,
  type ClaimResult,
  type CommittedSeed,
  type EventRecord,
  type ItemRecord,
  type ItemState,
  type SealedCommittedItems,
  type TokenRef,
} from "./types.js";

export type { JournalOptions, KeySource } from "./journal-open.js";

const GENERATED_SEED_BYTES = 20;

/** Batch state changes the API offers, with the states each may start from. */
const BATCH_TRANSITIONS: Record<"start" | "pause" | "resume" | "cancel", { from: BatchState[]; to: BatchState }> = {
  start: { from: ["created"], to: "running" },
  pause: { from: ["running"], to: "paused" },
  resume: { from: ["paused"], to: "running" },
  cancel: { from: ["created", "running", "paused"], to: "cancelled" },
};

/**
 * An open journal. One process at a time holds it (JOURNAL_BUSY for the next); call
 * {@link Journal.close} to release the lock and zero the key.
 */
export class Journal {
  readonly path: string;
  readonly #db: Database.Database;
  readonly #vault: SeedVault;
  readonly #journalId: Uint8Array;
  readonly #items: ItemStore;

  private constructor(db: Database.Database, vault: SeedVault, journalId: Uint8Array, path: string) {
    this.#db = db;
    this.#vault = vault;
    this.#journalId = journalId;
    this.path = path;
    this.#items = new ItemStore(db, vault, journalId, (action, fn) => this.#write(action, fn));
  }

  /**
   * Opens the journal in `dataDir`, creating it (and the key file, for key-file mode) on first use.
   * @throws OtpbridgeError JOURNAL_CORRUPT / JOURNAL_FOREIGN / JOURNAL_VERSION (the file is left
   *   byte-for-byte untouched), JOURNAL_BUSY, DATA_DIR_PERMISSIONS, KEY_FILE_PERMISSIONS,
   *   KEY_MISMATCH, WRONG_PASSPHRASE.
   * @example const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
   */
  static open(options: JournalOptions): Journal {
    const { db, vault, journalId, path } = openJournalFile(options);
    return new Journal(db, vault, journalId, path);
  }

  /**
   * Creates a batch: listed items (imported seeds are copied and sealed; the caller still zeroes its
   * own arrays) or `count` items with 20-byte seeds from the CSPRNG. The batch starts `created`.
   * @throws TypeError/RangeError (INVALID_INPUT) for bad names, parameters, seeds or counts;
   *   OtpbridgeError JOURNAL_FULL / JOURNAL_IO when the write fails (nothing is stored).
   */
  createBatch(input: BatchInput): BatchRecord {
    const { prepared, params } = prepareBatch(input);
    return this.#write("create a batch", () => {
      const now = Date.now();
      const info = this.#db
        .prepare("INSERT INTO batches (name, issuer, params, state, created_at, updated_at) VALUES (?, ?, ?, 'created', ?, ?)")
        .run(input.name, input.issuer ?? null, JSON.stringify(params), now, now);
      const batchId = Number(info.lastInsertRowid);
      this.#items.insertItems(batchId, prepared, GENERATED_SEED_BYTES, now);
      appendEvent(this.#db, now, batchId, null, "batch.created", { name: input.name, ...params });
      return this.batch(batchId);
    });
  }

  /** Moves a batch between created, running, paused and cancelled.
   * @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE (e.g. resuming a cancelled batch). */
  setBatchState(batchId: number, action: keyof typeof BATCH_TRANSITIONS): BatchRecord {
    aoneOf(action, "action", Object.keys(BATCH_TRANSITIONS) as (keyof typeof BATCH_TRANSITIONS)[]);
    const { from, to } = BATCH_TRANSITIONS[action];
    return this.#write(`${action} batch ${batchId}`, () => {
      const batch = this.batch(batchId);
      if (!from.includes(batch.state)) {
        throw otpbError("BATCH_STATE", `cannot ${action} batch ${batchId}: it is ${batch.state}`, {
          detail: { batchId, state: batch.state, action },
        });
      }
      const now = Date.now();
      this.#db.prepare("UPDATE batches SET state = ?, updated_at = ? WHERE id = ?").run(to, now, batchId);
      appendEvent(this.#db, now, batchId, null, `batch.${action}`, { from: batch.state, to });
      return this.batch(batchId);
    });
  }

  /**
   * Binds the next item of a running batch to a tapped token, in a committed transaction, and hands
   * out its seed. Only after this returns a {@link ClaimedItem} may the first byte go to the token.
   * - same serial, item claimed/burned/verified here before: `resumed`, same item and seed;
   * - same serial, item committed or failed here: reported, unless `reburn` (same item and seed again);
   * - serial live in another batch: `serial-in-other-batch`, unless `reburn`, which supersedes it;
   * - no pending item left: `exhausted`.
   * With `itemId` (one item re-burned, e.g. its token was lost or its code is wrong) that committed or
   * failed item is claimed instead, for the token it is bound to or for a token that holds no other
   * item (then bound to it: the old serial stays in the event, the export names the new one); a
   * token bound to any other item gets `serial-in-other-batch` and nothing is written.
   * The returned `seed` is the caller's: zero it with `seed.fill(0)` once burned.
   * @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE (batch not running), SEED_TAMPERED, ITEM_NOT_FOUND and
   *   ITEM_STATE (`itemId` not an item of the batch, or neither committed nor failed),
   *   JOURNAL_FULL / JOURNAL_IO (nothing was claimed: do not burn).
   */
  claimNext(batchId: number, token: TokenRef, options: ClaimOptions = {}): ClaimResult {
    atext(token.serial, "token.serial", 1, 64);
    if (token.manufacturer !== undefined) atext(token.manufacturer, "token.manufacturer", 1, 64);
    if (token.model !== undefined) atext(token.model, "token.model", 1, 64);
    if (options.itemId !== undefined) return this.#items.claimItem(this.#requireRunning.bind(this), batchId, options.itemId, token);
    return this.#items.claimNext(this.#requireRunning.bind(this), batchId, token, options.reburn === true);
  }

  /** claimed → burned: the seed and configuration were written to the token.
   * @throws OtpbridgeError ITEM_NOT_FOUND, ITEM_STATE, JOURNAL_FULL / JOURNAL_IO. */
  markBurned(itemId: number): ItemRecord {
    return this.#items.transition(itemId, ["claimed"], "burned", "item.burned", {});
  }

  /**
   * burned → verified. `checked` says whether the token's code was compared with the expected one
   * (some families only allow a clock read-back); it is kept in the event log.
   * @throws OtpbridgeError ITEM_NOT_FOUND, ITEM_STATE, JOURNAL_FULL / JOURNAL_IO.
   */
  markVerified(itemId: number, verification: { checked: boolean }): ItemRecord {
    return this.#items.transition(itemId, ["burned"], "verified", "item.verified", {
      checked: verification.checked === true,
    });
  }

  /** verified → committed: the item is done and will appear in exports.
   * @throws OtpbridgeError ITEM_NOT_FOUND, ITEM_STATE, JOURNAL_FULL / JOURNAL_IO. */
  commit(itemId: number): ItemRecord {
    return this.#items.transition(itemId, ["verified"], "committed", "item.committed", {});
  }

  /**
   * Erases a committed item's sealed seed (a seed its owner supplied and keeps elsewhere): the record
   * stays (serial, model, settings, states); exports leave the item out.
   * @throws OtpbridgeError ITEM_NOT_FOUND, ITEM_STATE (not committed), JOURNAL_FULL / JOURNAL_IO.
   */
  forgetSeed(itemId: number): ItemRecord {
    return this.#items.forgetSeed(itemId);
  }

  /**
   * claimed/burned/verified → failed, with a reason for the operator (no secrets in it). The item
   * stays bound to its token: a later tap of that token is reported, and `reburn` retries it.
   * @throws OtpbridgeError ITEM_NOT_FOUND, ITEM_STATE, JOURNAL_FULL / JOURNAL_IO.
   */
  fail(itemId: number, reason: string): ItemRecord {
    atext(reason, "reason", 1, 500);
    return this.#items.transition(itemId, ["claimed", "burned", "verified"], "failed", "item.failed", { reason });
  }

  /** @throws OtpbridgeError BATCH_NOT_FOUND. */
  batch(batchId: number): BatchRecord {
    aint(batchId, "batchId", 1, Number.MAX_SAFE_INTEGER);
    const row = this.#db.prepare("SELECT * FROM batches WHERE id = ?").get(batchId) as BatchRow | undefined;
    if (row === undefined) throw otpbError("BATCH_NOT_FOUND", `no batch ${batchId}`, { detail: { batchId } });
    return batchRecord(row);
  }

  /** All batches, oldest first. */
  batches(): BatchRecord[] {
    return (this.#db.prepare("SELECT * FROM batches ORDER BY id").all() as BatchRow[]).map(batchRecord);
  }

  /** Item counts per state. @throws OtpbridgeError BATCH_NOT_FOUND. */
  status(batchId: number): BatchStatus {
    const batch = this.batch(batchId);
    const counts = Object.fromEntries(ITEM_STATES.map((s) => [s, 0])) as Record<ItemState, number>;
    const rows = this.#db.prepare("SELECT state, count(*) AS n FROM items WHERE batch_id = ? GROUP BY state").all(batchId) as { state: ItemState; n: number }[];
    for (const { state, n } of rows) counts[state] = n;
    const total = rows.reduce((sum, r) => sum + r.n, 0);
    const open = counts.pending + counts.claimed + counts.burned + counts.verified;
    return { batch, counts, total, done: open === 0 };
  }

  /** The items of a batch in position order, without seeds. @throws OtpbridgeError BATCH_NOT_FOUND. */
  items(batchId: number): ItemRecord[] {
    this.batch(batchId);
    const rows = this.#db.prepare("SELECT * FROM items WHERE batch_id = ? ORDER BY position").all(batchId) as ItemRow[];
    return rows.map(itemRecord);
  }

  /** @throws OtpbridgeError ITEM_NOT_FOUND. */
  item(itemId: number): ItemRecord {
    return itemRecord(this.#items.row(itemId));
  }

  /** The event log, oldest first, optionally for one batch. */
  events(batchId?: number): EventRecord[] {
    const rows = (
      batchId === undefined
        ? this.#db.prepare("SELECT * FROM events ORDER BY id").all()
        : this.#db.prepare("SELECT * FROM events WHERE batch_id = ? ORDER BY id").all(batchId)
    ) as EventRow[];
    return rows.map(eventRecord);
  }

  /**
   * Decrypts the committed items of a batch, in position order, for an export, and zeroes every seed
   * when `use` returns or throws. Items in any other state are never decrypted here.
   * @throws OtpbridgeError BATCH_NOT_FOUND, SEED_TAMPERED; whatever `use` throws.
   */
  withCommittedSeeds<T>(batchId: number, use: (items: CommittedSeed[]) => T): T {
    const batch = this.batch(batchId);
    const items = this.#items.committedSeeds(batch);
    try {
      return use(items);
    } finally {
      for (const item of items) item.seed.fill(0);
    }
  }

  /**
   * The committed items of batch `batchId`, or of every batch when it is undefined, in id order, with
   * their seeds still sealed: `openSeed(i, use)` decrypts one seed at a time and zeroes it when `use`
   * returns, so a search can copy each seed into resident memory without holding them all (find).
   * Items in any other state are left out: their seeds are on no token.
   * @throws OtpbridgeError BATCH_NOT_FOUND; openSeed: SEED_TAMPERED, and whatever `use` throws.
   */
  sealedCommitted(batchId?: number): SealedCommittedItems {
    if (batchId !== undefined) this.batch(batchId);
    return this.#items.sealedCommitted(batchId);
  }

  /** Releases the lock and zeroes the key. The journal is unusable afterwards. */
  close(): void {
    this.#vault.destroy();
    this.#journalId.fill(0);
    this.#db.close();
  }

  #requireRunning(batchId: number): BatchRecord {
    const batch = this.batch(batchId);
    if (batch.state !== "running") {
      throw otpbError("BATCH_STATE", `batch ${batchId} is ${batch.state}; only a running batch takes taps`, {
        detail: { batchId, state: batch.state },
      });
    }
    return batch;
  }

  /** Runs `fn` in one IMMEDIATE transaction; SQLite failures become typed journal errors. */
  #write<T>(action: string, fn: () => T): T {
    try {
      return this.#db.transaction(fn).immediate();
    } catch (error) {
      throw journalError(error, this.path, action);
    }
  }
}
