/**
 * One batch tap (see batch-engine.ts for the order of its steps and what each failure leaves): the
 * token on a reader burned through the one burn path (src/service/burn.ts) with the batch's next item,
 * the host clock checked before the claim, the hold-still retries on the reader, and the outcome told
 * as a `batch.item` event.
 */
import { holdStill, type RetryEvent } from "../drivers/hold-still.js";
import { safeToRepeat, type DisplaySeconds } from "../drivers/single-profile.js";
import type { DeviceEvent, DeviceInfo } from "../drivers/device-manager.js";
import { detailOf, reasonOf } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import type { ClaimedItem, ClaimResult } from "../store/types.js";
import type { ApduTransport } from "../transports/types.js";
import type { BatchStore } from "./batch-store.js";
import { seedState, type BatchItemEvent } from "./batch-progress.js";
import { burnFailureOf, burnToken } from "./burn.js";

/** What the engine needs from the device manager (DeviceManager has it). */
export interface BatchDevices {
  list(): DeviceInfo[];
  on(listener: (event: DeviceEvent) => void): () => void;
  withReader<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T>;
}

export interface TapperOptions {
  journal: BatchStore;
  devices: BatchDevices;
  logger: Logger;
  display: DisplaySeconds;
  reburn: boolean;
  /** Largest |token clock − host clock| accepted at verification, seconds. */
  tolerance: number;
  checkClock: (force: boolean) => Promise<{ overridden: string[] }>;
  holdStill: { attempts?: number; waitMs?: number };
}

/** See the module comment. */
export class BatchTapper {
  readonly #journal: BatchStore;
  readonly #devices: BatchDevices;
  readonly #log: Logger;
  readonly #display: DisplaySeconds;
  readonly #reburn: boolean;
  readonly #tolerance: number;
  readonly #checkClock: (force: boolean) => Promise<{ overridden: string[] }>;
  readonly #holdStill: { attempts?: number; waitMs?: number };

  constructor(options: TapperOptions) {
    this.#journal = options.journal;
    this.#devices = options.devices;
    this.#log = options.logger;
    this.#display = options.display;
    this.#reburn = options.reburn;
    this.#tolerance = options.tolerance;
    this.#checkClock = options.checkClock;
    this.#holdStill = options.holdStill;
  }

  /**
   * One tap, start to end, with its hold-still retries; never throws: the event says what happened.
   * `forceClock`: a failing host-clock check is logged, not refused; `onRetry`: the token left the field;
   * `itemId`: the item the operator chose to re-burn is claimed instead of the next one (Journal#claimNext).
   */
  async tap(
    batchId: number,
    reader: string,
    listedSerial: string,
    options: { forceClock: boolean; onRetry: (event: RetryEvent) => void; itemId?: number | undefined },
  ): Promise<BatchItemEvent> {
    const base = { batchId, reader, serial: listedSerial };
    const log = this.#log.child({ batchId, reader });
    try {
      const done = await burnToken({
        records: this.#journal,
        log,
        display: this.#display,
        tolerance: this.#tolerance,
        expectSerial: listedSerial,
        beforeClaim: async () => {
          const overridden = (await this.#checkClock(options.forceClock)).overridden;
          if (overridden.length > 0) log.warn("batch: host clock check overridden", { problems: overridden });
        },
        // The reader goes with the claim: a shared store shows which desk and reader holds each item.
        claim: (token) =>
          this.#journal.claimNext(batchId, { ...token, reader }, options.itemId === undefined ? { reburn: this.#reburn } : { itemId: options.itemId }),
        run: (attempt) =>
          holdStill(this.#devices, { reader, serial: listedSerial }, attempt, (error) => safeToRepeat(error, { seedFollows: true }), {
            ...this.#holdStill,
            connect: (fn) => this.#devices.withReader(reader, fn),
            onRetry: options.onRetry,
          }),
      });
      if (done.outcome === "not-taken") return this.#notTaken(done.claim, { ...base, model: done.model });
      const item = done.item;
      return {
        ...base,
        model: done.model,
        outcome: "committed",
        itemId: item.id,
        position: item.position,
        label: item.label,
        attempts: item.attempts,
        resumed: done.resumed,
        codes: done.burn.codes,
        driftSeconds: done.clock.driftSeconds,
      };
    } catch (error) {
      return this.#failure(error, base, log);
    }
  }

  /** The event for a token the journal does not hand an item to. */
  #notTaken(claim: Exclude<ClaimResult, ClaimedItem>, base: { batchId: number; reader: string; serial: string; model: string }): BatchItemEvent {
    if (claim.outcome === "serial-in-other-batch") {
      const message = claim.conflicts.some((c) => c.batchId === base.batchId)
        ? "this token holds another item's seed: remove it and tap the token of the item to re-burn, or a blank one"
        : "this token holds a seed of another batch: remove it (or run with reburn)";
      return { ...base, outcome: "conflict", conflicts: claim.conflicts, message };
    }
    if (claim.outcome === "exhausted") return { ...base, outcome: "exhausted", message: "no item left in the batch: remove the token" };
    const what = claim.outcome === "already-committed" ? "already burned in this batch" : "failed before in this batch";
    return { ...base, outcome: claim.outcome, itemId: claim.item.id, position: claim.item.position, message: `${what}: remove the token` };
  }

  /** The event for a tap that threw: before its claim nothing was written; after it, the journal kept the item (src/service/burn.ts). */
  #failure(error: unknown, base: { batchId: number; reader: string; serial: string }, log: Logger): BatchItemEvent {
    const reason = reasonOf(error);
    const message = error instanceof Error ? error.message.slice(0, 400) : "the burn failed";
    const journal = burnFailureOf(error);
    if (journal === undefined) {
      log.warn("batch: tap not taken", { ...base, reason });
      return { ...base, outcome: reason === "UNKNOWN_MODEL" ? "unsupported" : "error", reason, message };
    }
    const item = { itemId: journal.itemId, position: journal.position };
    const detail = seedState(detailOf(error));
    if (journal.state !== "failed") {
      return { ...base, ...item, outcome: "interrupted", reason, message: `${message}; tap the same token again to resume`, ...detail };
    }
    return { ...base, ...item, outcome: "failed", reason, message, ...detail };
  }
}
