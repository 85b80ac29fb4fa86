/**
 * A shared batch seen through the journal's interface, for the batch engine: the batch record and
 * status answered at once from a snapshot that live progress keeps fresh (the engine asks them
 * synchronously, on every device event), and the item steps sent through the {@link Station} (which
 * the engine awaits). Ids are the shared store's. While the server is away the batch reads as
 * `paused` here, so the engine takes no new tap; burns under way go on.
 */
import { otpbError } from "../../lib/errors.js";
import type { Logger } from "../../lib/log.js";
import { silentLogger } from "../../lib/log.js";
import {
  ITEM_STATES,
  type BatchRecord,
  type BatchStatus,
  type ClaimOptions,
  type ClaimResult,
  type ItemRecord,
  type ItemState,
  type TokenRef,
} from "../types.js";
import { ProgressFeed } from "./progress.js";
import type { Station } from "./station.js";
import type { SharedBatchStatus, SharedItemRecord } from "./types.js";

export class SharedJournal {
  readonly station: Station;
  readonly #log: Logger;
  readonly #items = new Map<number, SharedItemRecord>();
  #status: SharedBatchStatus;
  #feed: ProgressFeed | undefined;
  readonly #listeners = new Set<(status: SharedBatchStatus) => void>();

  private constructor(station: Station, status: SharedBatchStatus, logger: Logger) {
    this.station = station;
    this.#status = status;
    this.#log = logger;
  }

  /** Reads the batch's status and follows it (LISTEN, or polling while that is down). */
  static async open(station: Station, options: { logger?: Logger; pollMs?: number } = {}): Promise<SharedJournal> {
    const status = await station.store.status(station.batch.batchId);
    const journal = new SharedJournal(station, status, options.logger ?? silentLogger);
    journal.#feed = await ProgressFeed.start(station.store, station.batch.batchId, (s) => journal.#update(s), {
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
    });
    return journal;
  }

  get batchId(): number {
    return this.station.batch.batchId;
  }

  /** The latest status of the shared batch, every station and its readers included. */
  get shared(): SharedBatchStatus {
    return this.#status;
  }

  /** Called with every new status (after a claim or step of any station, or a heartbeat). */
  onStatus(listener: (status: SharedBatchStatus) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** @throws OtpbridgeError BATCH_NOT_FOUND for another batch than the station's. */
  batch(batchId: number): BatchRecord {
    this.#own(batchId);
    const batch = this.#status.batch;
    const state = batch.state === "running" && !this.station.taking ? "paused" : batch.state;
    return { ...batch, state };
  }

  /** Counts per state (see journalStatus); the batch reads paused while the server is away. */
  status(batchId: number): BatchStatus {
    this.#own(batchId);
    return { ...journalStatus(this.#status), batch: this.batch(batchId) };
  }

  /**
   * Changes the shared batch's state for every station. Synchronous like the journal's, for the
   * engine: the snapshot changes at once and the server is told in the background; if the server
   * refuses (another station cancelled the batch meanwhile), the next status read puts it right.
   * @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE (from the snapshot).
   */
  setBatchState(batchId: number, action: "start" | "pause" | "resume" | "cancel"): BatchRecord {
    this.#own(batchId);
    const from = this.#status.batch.state;
    const to = { start: "running", pause: "paused", resume: "running", cancel: "cancelled" } as const;
    const allowed = { start: ["created"], pause: ["running"], resume: ["paused"], cancel: ["created", "running", "paused"] }[action];
    if (!allowed.includes(from)) {
      throw otpbError("BATCH_STATE", `cannot ${action} batch ${batchId}: it is ${from}`, { detail: { batchId, state: from, action } });
    }
    this.#status = { ...this.#status, batch: { ...this.#status.batch, state: to[action], updatedAt: Date.now() } };
    void this.station.store
      .setBatchState(batchId, action)
      .then(() => this.station.store.status(batchId))
      .then(
        (status) => this.#update(status),
        (error: unknown) => this.#log.warn("station: the shared store did not take the batch state change", { batchId, action, error }),
      );
    return this.batch(batchId);
  }

  /**
   * Starts or resumes the batch on the server, then in the snapshot: called before the engine runs
   * the batch, so that no claim reaches the server while it still has the batch created or paused
   * (setBatchState tells the server only in the background).
   * @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE, STORE_UNAVAILABLE.
   */
  async startOnServer(batchId: number): Promise<BatchRecord> {
    this.#own(batchId);
    const state = this.#status.batch.state;
    if (state === "created" || state === "paused") {
      await this.station.store.setBatchState(batchId, state === "created" ? "start" : "resume");
      this.#update(await this.station.store.status(batchId));
    }
    return this.batch(batchId);
  }

  /**
   * The station's claim, in the journal's terms. A token whose item another station holds under a
   * running lease is refused (nothing is written): it is that station's until the lease runs out.
   */
  async claimNext(batchId: number, token: TokenRef & { reader?: string }, options: ClaimOptions = {}): Promise<ClaimResult> {
    this.#own(batchId);
    if (options.itemId !== undefined) {
      throw otpbError("BATCH_STATE", "re-burning one chosen item is not available for a shared batch; run the station with --reburn", {
        detail: { batchId, itemId: options.itemId },
      });
    }
    const result = await this.station.claimNext({ ...token, ...(options.reburn ? { reburn: true } : {}) });
    if (result.outcome === "leased-elsewhere") {
      throw otpbError(
        "ITEM_STATE",
        `token ${token.serial} is being burned at station ${result.item.station ?? "?"}; wait for its lease to run out, or tap it there`,
        {
          detail: { itemId: result.item.id, station: result.item.station },
        },
      );
    }
    if (result.outcome === "exhausted" || result.outcome === "serial-in-other-batch") return result;
    this.#items.set(result.item.id, result.item);
    if (!("seed" in result)) return { outcome: result.outcome, item: itemRecord(result.item) };
    return { outcome: result.outcome, item: itemRecord(result.item), seed: result.seed, superseded: result.superseded };
  }

  /** The server's word that a write is starting; the engine calls it before the first byte. */
  async beginWrite(itemId: number): Promise<ItemRecord> {
    return this.#remember(await this.station.beginWrite(itemId));
  }

  async markBurned(itemId: number): Promise<ItemRecord> {
    await this.station.markBurned(itemId);
    return this.#local(itemId, "burned");
  }

  async markVerified(itemId: number, _verification: { checked: boolean }): Promise<ItemRecord> {
    await this.station.markVerified(itemId);
    return this.#local(itemId, "verified");
  }

  async commit(itemId: number): Promise<ItemRecord> {
    await this.station.commit(itemId);
    return this.#local(itemId, "committed");
  }

  async fail(itemId: number, reason: string): Promise<ItemRecord> {
    await this.station.fail(itemId, reason);
    return this.#local(itemId, "failed");
  }

  async close(): Promise<void> {
    await this.#feed?.close();
    this.#listeners.clear();
  }

  #update(status: SharedBatchStatus): void {
    this.#status = status;
    for (const listener of [...this.#listeners]) {
      try {
        listener(status);
      } catch (error) {
        this.#log.error("station: a status listener failed", { error });
      }
    }
  }

  #own(batchId: number): void {
    if (batchId !== this.batchId) {
      throw otpbError("BATCH_NOT_FOUND", `this station works on shared batch ${this.batchId}, not ${batchId}`, { detail: { batchId } });
    }
  }

  #remember(item: SharedItemRecord): ItemRecord {
    this.#items.set(item.id, item);
    return itemRecord(item);
  }

  /** The item as this station recorded it (the server may get the step later, from the outbox). */
  #local(itemId: number, state: ItemState): ItemRecord {
    const item = this.#items.get(itemId);
    if (item === undefined) throw otpbError("ITEM_STATE", `item ${itemId} is not claimed by this station`, { detail: { itemId } });
    if (state === "committed" || state === "failed") this.#items.delete(itemId);
    return { ...itemRecord(item), state, updatedAt: Date.now() };
  }
}

/** A shared batch's status in the journal's terms: `needs-check` items count as claimed (in flight until their token is tapped). */
export function journalStatus(shared: SharedBatchStatus): BatchStatus {
  const counts = Object.fromEntries(ITEM_STATES.map((s) => [s, shared.counts[s]])) as Record<ItemState, number>;
  counts.claimed += shared.counts["needs-check"];
  return { batch: shared.batch, counts, total: shared.total, done: shared.done };
}

function itemRecord(item: SharedItemRecord): ItemRecord {
  return {
    id: item.id,
    batchId: item.batchId,
    position: item.position,
    label: item.label,
    serial: item.serial,
    manufacturer: item.manufacturer,
    model: item.model,
    state: item.state === "needs-check" ? "claimed" : item.state,
    failReason: item.failReason,
    attempts: item.attempts,
    algorithm: item.algorithm,
    digits: item.digits,
    period: item.period,
    createdAt: item.claimedAt ?? item.updatedAt,
    claimedAt: item.claimedAt,
    burnedAt: null,
    verifiedAt: null,
    committedAt: item.committedAt,
    updatedAt: item.updatedAt,
  };
}
