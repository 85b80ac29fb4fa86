/**
 * The item side of the journal: sealing seeds into rows, the claim rules, the per-item state
 * machine and the committed-seed read for exports. {@link Journal} validates inputs and owns the
 * connection; everything here runs inside its transactions.
 */
import { randomBytes } from "node:crypto";
import type Database from "better-sqlite3";
import { otpbError } from "../lib/errors.js";
import type { PreparedItem } from "./batch-input.js";
import { committedSeed, DEFAULT_MANUFACTURER, itemRecord, type ItemRow } from "./rows.js";
import type { SealedSeed, SeedVault } from "./seed-vault.js";
import type {
  BatchRecord,
  ClaimResult,
  CommittedItemRef,
  CommittedSeed,
  ItemRecord,
  ItemState,
  SealedCommittedItems,
  SerialConflict,
  TokenRef,
  TotpAlgorithm,
} from "./types.js";

/** Runs a function in one journal write transaction (see Journal#write). */
export type WriteFn = <T>(action: string, fn: () => T) => T;

const IN_FLIGHT: readonly ItemState[] = ["claimed", "burned", "verified"];
const REBURNABLE: readonly ItemState[] = ["committed", "failed"];
const LIVE_ELSEWHERE = "('claimed', 'burned', 'verified', 'committed')";
const STAMP_COLUMN: Partial<Record<ItemState, string>> = {
  burned: "burned_at",
  verified: "verified_at",
  committed: "committed_at",
};

/** Appends one event; `detail` must hold no secret (ids, serials, states, reasons). */
export function appendEvent(db: Database.Database, at: number, batchId: number | null, itemId: number | null, kind: string, detail: object): void {
  db.prepare("INSERT INTO events (at, batch_id, item_id, kind, detail) VALUES (?, ?, ?, ?, ?)").run(at, batchId, itemId, kind, JSON.stringify(detail));
}

/** A committed item as sealedCommitted reads it: id, batch, position, label, serial, algorithm, digits, period, nonce length, hex(nonce ‖ sealed seed). */
type SealedRow = [number, number, number, string | null, string, TotpAlgorithm, number, number, number, string];

export class ItemStore {
  readonly #db: Database.Database;
  readonly #vault: SeedVault;
  readonly #journalId: Uint8Array;
  readonly #write: WriteFn;

  constructor(db: Database.Database, vault: SeedVault, journalId: Uint8Array, write: WriteFn) {
    this.#db = db;
    this.#vault = vault;
    this.#journalId = journalId;
    this.#write = write;
  }

  /**
   * Inserts the items of a new batch, each seed sealed to its (journal, batch, item). Item ids are
   * chosen here, inside the caller's transaction, because the seal's AAD needs them before the row
   * exists. Generated seeds are zeroed as soon as they are sealed.
   */
  insertItems(batchId: number, items: PreparedItem[], seedBytes: number, now: number): void {
    const first = (this.#db.prepare("SELECT coalesce(max(id), 0) + 1 FROM items").pluck().get() as number) ?? 1;
    const insert = this.#db.prepare(
      `INSERT INTO items (id, batch_id, position, label, algorithm, digits, period, seed_nonce, seed_sealed,
                          state, attempts, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?)`,
    );
    items.forEach((item, position) => {
      const itemId = first + position;
      const seed = item.seed ?? new Uint8Array(randomBytes(seedBytes));
      try {
        const { nonce, sealed } = this.#vault.seal(seed, { journalId: this.#journalId, batchId, itemId });
        const { algorithm, digits, period } = item.params;
        insert.run(itemId, batchId, position, item.label, algorithm, digits, period, nonce, sealed, now, now);
      } finally {
        if (item.seed === undefined) seed.fill(0);
      }
    });
  }

  /** The claim rules; see Journal#claimNext. */
  claimNext(requireRunning: (batchId: number) => BatchRecord, batchId: number, token: TokenRef, reburn: boolean): ClaimResult {
    let seed: Uint8Array | undefined;
    try {
      return this.#write(`claim an item of batch ${batchId} for token ${token.serial}`, (): ClaimResult => {
        requireRunning(batchId);
        const now = Date.now();
        const own = this.#db.prepare("SELECT * FROM items WHERE batch_id = ? AND serial = ? AND state <> 'superseded'").get(batchId, token.serial) as
          | ItemRow
          | undefined;
        if (own !== undefined) {
          if (IN_FLIGHT.includes(own.state) || reburn) {
            const outcome = IN_FLIGHT.includes(own.state) ? "resumed" : "reburn";
            seed = this.#openSeed(own);
            const item = this.#bind(own.id, token, now);
            appendEvent(this.#db, now, batchId, own.id, `item.${outcome}`, {
              serial: token.serial,
              from: own.state,
              attempts: item.attempts,
            });
            return { outcome, item, seed, superseded: [] };
          }
          const outcome = own.state === "committed" ? "already-committed" : "previously-failed";
          appendEvent(this.#db, now, batchId, own.id, `tap.${outcome}`, { serial: token.serial });
          return { outcome, item: itemRecord(own) };
        }

        const conflicts = (
          this.#db
            .prepare(
              `SELECT id, batch_id, state FROM items
               WHERE serial = ? AND batch_id <> ? AND state IN ${LIVE_ELSEWHERE} ORDER BY id`,
            )
            .all(token.serial, batchId) as { id: number; batch_id: number; state: ItemState }[]
        ).map((r): SerialConflict => ({ batchId: r.batch_id, itemId: r.id, state: r.state }));
        if (conflicts.length > 0 && !reburn) {
          appendEvent(this.#db, now, batchId, null, "tap.serial-in-other-batch", {
            serial: token.serial,
            conflicts,
          });
          return { outcome: "serial-in-other-batch", conflicts };
        }

        const next = this.#db.prepare("SELECT * FROM items WHERE batch_id = ? AND state = 'pending' ORDER BY position LIMIT 1").get(batchId) as
          | ItemRow
          | undefined;
        if (next === undefined) return { outcome: "exhausted" };

        for (const c of conflicts) {
          this.#db
            .prepare("UPDATE items SET state = 'superseded', fail_reason = ?, updated_at = ? WHERE id = ?")
            .run(`token ${token.serial} re-burned by batch ${batchId}`, now, c.itemId);
          appendEvent(this.#db, now, c.batchId, c.itemId, "item.superseded", {
            serial: token.serial,
            from: c.state,
            byBatch: batchId,
          });
        }
        seed = this.#openSeed(next);
        const item = this.#bind(next.id, token, now);
        appendEvent(this.#db, now, batchId, next.id, "item.claimed", {
          serial: token.serial,
          position: next.position,
          superseded: conflicts,
        });
        return { outcome: "claimed", item, seed, superseded: conflicts };
      });
    } catch (error) {
      // The transaction rolled back: nothing is claimed, so the seed must not leave this function.
      seed?.fill(0);
      throw error;
    }
  }

  /** One chosen item claimed again (the operator's reburn); see Journal#claimNext with `itemId`. */
  claimItem(requireRunning: (batchId: number) => BatchRecord, batchId: number, itemId: number, token: TokenRef): ClaimResult {
    let seed: Uint8Array | undefined;
    try {
      return this.#write(`claim item ${itemId} of batch ${batchId} for token ${token.serial}`, (): ClaimResult => {
        requireRunning(batchId);
        const target = this.row(itemId);
        if (target.batch_id !== batchId) throw otpbError("ITEM_NOT_FOUND", `item ${itemId} is not in batch ${batchId}`, { detail: { batchId, itemId } });
        const sameToken = target.serial === token.serial;
        // A half-done reburn of this token resumes; otherwise only a finished item (committed or failed) is taken back.
        if (!(REBURNABLE.includes(target.state) || (sameToken && IN_FLIGHT.includes(target.state)))) {
          throw otpbError("ITEM_STATE", `item ${itemId} is ${target.state}; only a committed or failed item can be re-burned`, {
            detail: { itemId, state: target.state },
          });
        }
        const now = Date.now();
        // One seed per token: a token that holds (or held, failed) any other item's seed is not taken.
        const conflicts = (
          this.#db
            .prepare(
              `SELECT id, batch_id, state FROM items
               WHERE serial = ? AND id <> ? AND state IN ('claimed', 'burned', 'verified', 'committed', 'failed') ORDER BY id`,
            )
            .all(token.serial, itemId) as { id: number; batch_id: number; state: ItemState }[]
        ).map((r): SerialConflict => ({ batchId: r.batch_id, itemId: r.id, state: r.state }));
        if (conflicts.length > 0) {
          appendEvent(this.#db, now, batchId, itemId, "tap.reburn-refused", { serial: token.serial, conflicts });
          return { outcome: "serial-in-other-batch", conflicts };
        }
        seed = this.#openSeed(target);
        const item = this.#bind(itemId, token, now);
        const outcome = IN_FLIGHT.includes(target.state) ? "resumed" : "reburn";
        appendEvent(this.#db, now, batchId, itemId, `item.${outcome}`, {
          serial: token.serial,
          from: target.state,
          attempts: item.attempts,
          // The token this item was on (lost, broken): it still holds the seed until it is destroyed or burned again.
          ...(sameToken || target.serial === null ? {} : { replacedSerial: target.serial }),
        });
        return { outcome, item, seed, superseded: [] };
      });
    } catch (error) {
      seed?.fill(0);
      throw error;
    }
  }

  /** Moves one item between states in a transaction, checking where it starts. */
  transition(itemId: number, from: readonly ItemState[], to: ItemState, kind: string, detail: object): ItemRecord {
    return this.#write(`mark item ${itemId} ${to}`, () => {
      const row = this.row(itemId);
      if (!from.includes(row.state)) {
        throw otpbError("ITEM_STATE", `item ${itemId} is ${row.state}; it cannot become ${to}`, {
          detail: { itemId, state: row.state, to },
        });
      }
      const now = Date.now();
      const stamp = STAMP_COLUMN[to];
      const failReason = to === "failed" ? (detail as { reason: string }).reason : null;
      this.#db
        .prepare(`UPDATE items SET state = ?, fail_reason = ?, updated_at = ?${stamp ? `, ${stamp} = ?` : ""} WHERE id = ?`)
        .run(...([to, failReason, now, ...(stamp ? [now] : []), itemId] as unknown[]));
      appendEvent(this.#db, now, row.batch_id, itemId, kind, { serial: row.serial, ...detail });
      return itemRecord(this.row(itemId));
    });
  }

  /** See Journal#forgetSeed. */
  forgetSeed(itemId: number): ItemRecord {
    return this.#write(`forget the seed of item ${itemId}`, () => {
      const row = this.row(itemId);
      if (row.state !== "committed") {
        throw otpbError("ITEM_STATE", `item ${itemId} is ${row.state}; only a committed item's seed can be forgotten`, {
          detail: { itemId, state: row.state },
        });
      }
      const now = Date.now();
      this.#db.prepare("UPDATE items SET seed_nonce = X'', seed_sealed = X'', updated_at = ? WHERE id = ?").run(now, itemId);
      appendEvent(this.#db, now, row.batch_id, itemId, "item.seed-forgotten", { serial: row.serial });
      return itemRecord(this.row(itemId));
    });
  }

  /** @throws OtpbridgeError ITEM_NOT_FOUND. */
  row(itemId: number): ItemRow {
    const row = this.#db.prepare("SELECT * FROM items WHERE id = ?").get(itemId) as ItemRow | undefined;
    if (row === undefined) throw otpbError("ITEM_NOT_FOUND", `no item ${itemId}`, { detail: { itemId } });
    return row;
  }

  /** Decrypts the committed items of `batch`; on any failure the seeds decrypted so far are zeroed. */
  committedSeeds(batch: BatchRecord): CommittedSeed[] {
    const rows = this.#db
      .prepare("SELECT * FROM items WHERE batch_id = ? AND state = 'committed' AND length(seed_sealed) > 0 ORDER BY position")
      .all(batch.id) as ItemRow[];
    const out: CommittedSeed[] = [];
    try {
      for (const row of rows) {
        out.push(committedSeed(row, batch.issuer, this.#openSeed(row)));
      }
    } catch (error) {
      for (const item of out) item.seed.fill(0);
      throw error;
    }
    return out;
  }

  /**
   * The committed items of one batch (undefined: every batch) in id order, their seeds left sealed
   * until openSeed (one, tag checked) or openForSearch (many, for a search) decrypts them.
   */
  sealedCommitted(batchId: number | undefined): SealedCommittedItems {
    const sql = `SELECT id, batch_id, position, label, serial, algorithm, digits, period,
                        length(seed_nonce), hex(seed_nonce) || hex(seed_sealed)
                 FROM items WHERE state = 'committed'${batchId === undefined ? "" : " AND batch_id = ?"} ORDER BY id`;
    const statement = this.#db.prepare(sql).raw(true);
    const rows = (batchId === undefined ? statement.iterate() : statement.iterate(batchId)) as IterableIterator<SealedRow>;
    // Rows as arrays, iterated, the nonce and sealed seed of each as one hex string decoded into one
    // growing buffer: for 100,000 seeds, two Buffers a row kept for the whole search cost more in
    // garbage collection than the read itself, and hex strings read in about half the time of blobs
    // (measured). The bytes are ciphertext; the key never leaves the vault.
    const items: CommittedItemRef[] = [];
    const bounds: number[] = [0];
    let slab = Buffer.allocUnsafe(1 << 16);
    for (const [itemId, batch, position, label, serial, algorithm, digits, period, nonceBytes, hex] of rows) {
      items.push({ itemId, batchId: batch, position, label, serial, algorithm, digits, period });
      const at = bounds[bounds.length - 1]!;
      if (at + hex.length / 2 > slab.length) {
        const grown = Buffer.allocUnsafe(Math.max(2 * slab.length, at + hex.length / 2));
        slab.copy(grown, 0, 0, at);
        slab = grown;
      }
      bounds.push(at + nonceBytes, at + slab.write(hex, at, "hex"));
    }
    const sealedAt = (index: number): SealedSeed => {
      const [start, middle, end] = [bounds[2 * index]!, bounds[2 * index + 1]!, bounds[2 * index + 2]!];
      return { nonce: slab.subarray(start, middle), sealed: slab.subarray(middle, end) };
    };
    return {
      items,
      openSeed: (index, use) => {
        const item = items[index];
        if (item === undefined) throw otpbError("INVALID_INPUT", `openSeed: no committed item at index ${index}`);
        const seed = this.#vault.open(sealedAt(index), { journalId: this.#journalId, batchId: item.batchId, itemId: item.itemId });
        try {
          use(seed);
        } finally {
          seed.fill(0);
        }
      },
      openForSearch: (indices, use) => {
        for (const index of indices) {
          if (items[index] === undefined) throw otpbError("INVALID_INPUT", `openForSearch: no committed item at index ${index}`);
        }
        this.#vault.openForSearch(indices.length, (k) => sealedAt(indices[k]!), use);
      },
    };
  }

  #openSeed(row: ItemRow): Uint8Array {
    return this.#vault.open({ nonce: row.seed_nonce, sealed: row.seed_sealed }, { journalId: this.#journalId, batchId: row.batch_id, itemId: row.id });
  }

  /** (Re)binds an item to a token as `claimed`, counting the attempt. */
  #bind(itemId: number, token: TokenRef, now: number): ItemRecord {
    this.#db
      .prepare(
        `UPDATE items SET serial = ?, manufacturer = coalesce(?, manufacturer, ?), model = coalesce(?, model),
                state = 'claimed', fail_reason = NULL,
                attempts = attempts + 1, claimed_at = ?, burned_at = NULL, verified_at = NULL,
                committed_at = NULL, updated_at = ?
         WHERE id = ?`,
      )
      .run(token.serial, token.manufacturer ?? null, DEFAULT_MANUFACTURER, token.model ?? null, now, now, itemId);
    return itemRecord(this.row(itemId));
  }
}
