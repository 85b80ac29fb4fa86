/**
 * One station working through a shared batch: the batch engine's store when the daemon runs with
 * `--store` (the same steps as the local journal, asynchronous), plus the station's own loop:
 * heartbeats that keep its leases, the sweeper, and the outbox replay when the server comes back.
 *
 * Per tap: claimNext (committed on the server) → beginWrite (committed on the server: from here the
 * item never returns to pending) → burn → markBurned → markVerified → commit. Each step after the
 * claim is written to the outbox first. A server that goes away:
 * - before beginWrite: the step throws STORE_UNAVAILABLE, nothing is written to the token, and the
 *   claim's lease runs out (back to pending);
 * - after beginWrite: markBurned/markVerified/commit/fail stay in the outbox and return, so the burn
 *   under way finishes; `flush()` sends them when the server answers (settling the item from
 *   needs-check if its lease ran out meanwhile);
 * - new claims are refused (`taking` is false) until a round trip succeeds again.
 */
import { EventEmitter } from "node:events";
import { otpbError, OtpbridgeError } from "../../lib/errors.js";
import { silentLogger, type Logger } from "../../lib/log.js";
import type { Outbox, OutboxEntry, OutboxStep } from "./outbox.js";
import type { SharedBatch } from "./shared-batch.js";
import type { StationStore } from "./store.js";
import type { ClaimRequest, Lease, SharedClaimResult, SharedItemRecord, StationReader } from "./types.js";

export interface StationOptions {
  store: StationStore;
  batch: SharedBatch;
  outbox: Outbox;
  /** The readers as the engine sees them, sent with every heartbeat. */
  readers?: () => StationReader[];
  logger?: Logger;
}

interface Held {
  lease: Lease;
  serial: string;
}

/** Steps that may wait in the outbox: the token has (or may have) the seed already. */
const DEFERRABLE: readonly OutboxStep[] = ["burned", "verified", "committed", "failed"];

export class Station extends EventEmitter {
  readonly store: StationStore;
  readonly batch: SharedBatch;
  readonly #outbox: Outbox;
  readonly #readers: () => StationReader[];
  readonly #log: Logger;
  readonly #held = new Map<number, Held>();
  /** Items with a step waiting in the outbox since the server refused or missed it in this life. */
  readonly #deferred = new Set<number>();
  readonly #timers: NodeJS.Timeout[] = [];
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(options: StationOptions) {
    super();
    this.store = options.store;
    this.batch = options.batch;
    this.#outbox = options.outbox;
    this.#readers = options.readers ?? (() => []);
    this.#log = (options.logger ?? silentLogger).child({ station: options.store.station });
    this.store.on("unavailable", this.#onUnavailable);
    this.store.on("available", this.#onAvailable);
  }

  readonly #onUnavailable = (error: Error): void => {
    this.#log.warn("station: the shared store is unreachable; new taps wait, burns under way finish", { reason: (error as OtpbridgeError).reason });
    this.emit("paused", error);
  };

  readonly #onAvailable = (): void => {
    this.#log.info("station: the shared store answers again; taking taps");
    try {
      this.emit("resumed");
    } catch (error) {
      // A listener's failure (the batch was cancelled meanwhile) must not fail the round trip that
      // noticed the server is back.
      this.#log.error("station: a resumed listener failed", { error });
    }
    void this.flush();
  };

  /** Starts the heartbeat (a third of the lease) and the sweeper (half the lease), and replays the outbox. */
  start(): void {
    const beat = Math.max(100, Math.floor(this.store.leaseMs / 3));
    this.#timers.push(setInterval(() => void this.#beat(), beat).unref());
    this.#timers.push(setInterval(() => void this.store.sweep().catch(() => undefined), Math.floor(this.store.leaseMs / 2)).unref());
    void this.#beat();
  }

  /** Whether new taps may be claimed now: the server answered the last round trip. */
  get taking(): boolean {
    return this.store.available && !this.#closed;
  }

  /**
   * Claims for a tapped token (see SharedBatch#claim). Refused at once while the server is away.
   * @throws OtpbridgeError STORE_UNAVAILABLE, BATCH_STATE, SEED_TAMPERED.
   */
  async claimNext(request: ClaimRequest): Promise<SharedClaimResult> {
    if (!this.taking) {
      throw otpbError("STORE_UNAVAILABLE", "the shared store is unreachable: this station takes no new tap until it answers");
    }
    const result = await this.batch.claim(request);
    if ("lease" in result) {
      this.#held.set(result.item.id, { lease: result.lease, serial: request.serial });
      this.#outbox.sent(this.#outbox.record({ ...this.#entry(result.item.id), step: "claimed" }));
    }
    return result;
  }

  /** Must succeed before the first byte of the burn. @throws STORE_UNAVAILABLE, LEASE_LOST. */
  async beginWrite(itemId: number): Promise<SharedItemRecord> {
    const id = this.#outbox.record({ ...this.#entry(itemId), step: "write-started" });
    const item = await this.batch.beginWrite(this.#hold(itemId).lease);
    this.#outbox.sent(id);
    return item;
  }

  markBurned(itemId: number): Promise<void> {
    return this.#step(itemId, "burned");
  }

  markVerified(itemId: number): Promise<void> {
    return this.#step(itemId, "verified");
  }

  commit(itemId: number): Promise<void> {
    return this.#step(itemId, "committed");
  }

  fail(itemId: number, reason: string): Promise<void> {
    return this.#step(itemId, "failed", reason);
  }

  /** Sends what waits in the outbox; stops at the first sign the server is away. */
  flush(): Promise<void> {
    this.#flushing ??= this.#flush().finally(() => (this.#flushing = undefined));
    return this.#flushing;
  }

  /**
   * This batch's steps not yet on the server. Another batch's (left by an earlier run of this
   * station) wait for a station of that batch: only its fences and batch key settle them.
   */
  unsent(): OutboxEntry[] {
    return this.#outbox.pending().filter((entry) => entry.batchId === this.batch.batchId);
  }

  /** Stops the timers and the replay; the store, batch and outbox stay the caller's to close. */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.store.off("unavailable", this.#onUnavailable);
    this.store.off("available", this.#onAvailable);
  }

  async #beat(): Promise<void> {
    try {
      await this.store.heartbeat(this.#readers(), this.batch.batchId);
      if (this.unsent().length > 0) await this.flush();
    } catch (error) {
      if (error instanceof OtpbridgeError && error.reason === "LEASE_LOST") {
        this.#log.error("station: another process registered under this station's name; stopping", {});
        this.emit("replaced");
        this.close();
      }
    }
  }

  async #step(itemId: number, step: OutboxStep, reason?: string): Promise<void> {
    const held = this.#hold(itemId);
    const final = step === "committed" || step === "failed";
    const id = this.#outbox.record({ ...this.#entry(itemId), step, ...(reason !== undefined ? { reason } : {}) });
    try {
      // Once a step of this item waits in the outbox, the later ones wait behind it: the server
      // must get them in order, and the replay settles the item in one go once the burn is over.
      if (this.#deferred.has(itemId)) return;
      if (step === "burned") await this.batch.markBurned(held.lease);
      else if (step === "verified") await this.batch.markVerified(held.lease, { checked: false });
      else if (step === "committed") await this.batch.commit(held.lease);
      else await this.batch.fail(held.lease, reason ?? "failed");
      // A final step the server took supersedes whatever an earlier life left unsent for the item.
      if (final) this.#outbox.sentItem(itemId);
      else this.#outbox.sent(id);
    } catch (error) {
      const why = (error as OtpbridgeError).reason;
      if (!DEFERRABLE.includes(step) || (why !== "STORE_UNAVAILABLE" && why !== "LEASE_LOST")) throw error;
      // The token has the seed (or part of it): the burn goes on, the step waits in the outbox.
      this.#deferred.add(itemId);
      this.#log.warn("station: step kept in the outbox until the shared store takes it", { itemId, step, reason: why });
    } finally {
      if (final) this.#held.delete(itemId);
    }
  }

  async #flush(): Promise<void> {
    const byItem = new Map<number, OutboxEntry[]>();
    for (const entry of this.unsent()) byItem.set(entry.itemId, [...(byItem.get(entry.itemId) ?? []), entry]);
    for (const [itemId, entries] of byItem) {
      // A burn still under way here owns its item's steps; they are replayed once it ends.
      if (this.#held.has(itemId)) continue;
      const last = entries[entries.length - 1]!;
      const lease = { itemId, fence: last.fence };
      try {
        if (last.step === "committed" || last.step === "failed") {
          await this.batch.settle(lease, last.serial, last.step, last.reason ?? undefined);
        } else if (last.step === "burned") {
          await this.batch.markBurned(lease);
        } else if (last.step === "verified") {
          await this.batch.markBurned(lease).catch(() => undefined);
          await this.batch.markVerified(lease, { checked: false });
        }
      } catch (error) {
        const why = (error as OtpbridgeError).reason;
        if (why === "STORE_UNAVAILABLE") return;
        // LEASE_LOST/ITEM_STATE: the item moved on without us (settled already, or another station
        // resumed it with the same seed); the server's record stands, and the local one says why.
        this.#log.warn("station: an outbox step was not applied; the shared store's record stands", { itemId, step: last.step, reason: why });
        this.emit("outbox-refused", { itemId, step: last.step, reason: why });
      }
      this.#outbox.sent(...entries.map((e) => e.id));
      this.#deferred.delete(itemId);
    }
  }

  #hold(itemId: number): Held {
    const held = this.#held.get(itemId);
    if (held === undefined) throw otpbError("ITEM_STATE", `item ${itemId} is not claimed by this station`, { detail: { itemId } });
    return held;
  }

  #entry(itemId: number): { batchId: number; itemId: number; fence: number; serial: string } {
    const held = this.#hold(itemId);
    return { batchId: this.batch.batchId, itemId, fence: held.lease.fence, serial: held.serial };
  }
}
