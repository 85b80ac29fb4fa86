/**
 * One batch tap (see batch-engine.ts for the order of its steps and what each failure leaves): the
 * token identified, the host clock checked, the next item claimed, burned, its clock read back and
 * committed, with the hold-still retries around it all. The claim and the burn that went through are
 * kept in a per-tap state, so a retry after the token slipped out neither claims nor burns twice.
 */
import { holdStill, type RetryEvent } from "../drivers/hold-still.js";
import { PERIODS, SingleProfileSession, safeToRepeat, type BurnResult, type DisplaySeconds } from "../drivers/single-profile.js";
import type { DeviceEvent, DeviceInfo } from "../drivers/device-manager.js";
import { OtpbridgeError, otpbError, reasonOf, type Reason } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import type { Journal } from "../store/journal.js";
import type { SharedJournal } from "../store/stations/index.js";
import type { ClaimedItem, ClaimResult } from "../store/types.js";
import type { ApduTransport } from "../transports/types.js";
import { seedState, type BatchItemEvent } from "./batch-progress.js";

/** What the engine needs from the device manager (DeviceManager has it). */
export interface BatchDevices {
  list(): DeviceInfo[];
  on(listener: (event: DeviceEvent) => void): () => void;
  withReader<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T>;
}

export interface TapperOptions {
  journal: Journal | SharedJournal;
  devices: BatchDevices;
  logger: Logger;
  display: DisplaySeconds;
  reburn: boolean;
  /** Largest |token clock − host clock| accepted at verification, seconds. */
  tolerance: number;
  checkClock: (force: boolean) => Promise<{ overridden: string[] }>;
  holdStill: { attempts?: number; waitMs?: number };
}

/** A tap's progress kept across its hold-still attempts. */
interface TapState {
  claimed?: ClaimedItem;
  burned?: BurnResult;
}

/** Failures of the link or of the journal after the claim: the item stays in flight and resumes. */
const INTERRUPTING: ReadonlySet<Reason> = new Set<Reason>([
  "CARD_REMOVED", "READER_GONE", "PCSC_UNAVAILABLE", "DEVICE_BUSY", "TRANSPORT_CLOSED", "JOURNAL_FULL", "JOURNAL_IO",
  "STORE_UNAVAILABLE", "LEASE_LOST",
]);


/** See the module comment. */
export class BatchTapper {
  readonly #journal: Journal | SharedJournal;
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
   * `forceClock`: a failing host-clock check is logged, not refused; `onRetry`: the token left the field.
   */
  async tap(batchId: number, reader: string, listedSerial: string, options: { forceClock: boolean; onRetry: (event: RetryEvent) => void }): Promise<BatchItemEvent> {
    const base = { batchId, reader, serial: listedSerial };
    const state: TapState = {};
    const log = this.#log.child({ batchId, reader });
    try {
      return await holdStill(this.#devices, { reader, serial: listedSerial }, async (transport: ApduTransport) => {
        // Another token in the reader (swapped during a wait, or before the first try) is refused: CARD_REMOVED {swapped}.
        const session = await SingleProfileSession.open(transport, { logger: log, expectSerial: listedSerial });
        const model = session.info().model.name;
        if (state.claimed === undefined) {
          const overridden = (await this.#checkClock(options.forceClock)).overridden;
          if (overridden.length > 0) log.warn("batch: host clock check overridden", { problems: overridden });
          // The claim is committed before anything that writes is sent (issue #6).
          const claim = await this.#journal.claimNext(batchId, { serial: listedSerial, manufacturer: "Token2", model, reader }, { reburn: this.#reburn });
          if (!("seed" in claim)) return this.#notTaken(claim, { ...base, model });
          state.claimed = claim;
        }
        return await this.#burnClaimed(session, state, { ...base, model });
      }, (error) => safeToRepeat(error, { seedFollows: true }), {
        ...this.#holdStill,
        connect: (fn) => this.#devices.withReader(reader, fn),
        onRetry: options.onRetry,
      });
    } catch (error) {
      return await this.#failure(error, base, state.claimed);
    } finally {
      state.claimed?.seed.fill(0);
    }
  }

  /** The event for a token the journal does not hand an item to. */
  #notTaken(claim: Exclude<ClaimResult, ClaimedItem>, base: { batchId: number; reader: string; serial: string; model: string }): BatchItemEvent {
    if (claim.outcome === "serial-in-other-batch") {
      return { ...base, outcome: "conflict", conflicts: claim.conflicts, message: "this token holds a seed of another batch: remove it (or run with reburn)" };
    }
    if (claim.outcome === "exhausted") return { ...base, outcome: "exhausted", message: "no item left in the batch: remove the token" };
    const what = claim.outcome === "already-committed" ? "already burned in this batch" : "failed before in this batch";
    return { ...base, outcome: claim.outcome, itemId: claim.item.id, position: claim.item.position, message: `${what}: remove the token` };
  }

  async #burnClaimed(session: SingleProfileSession, state: TapState, base: { batchId: number; reader: string; serial: string; model: string }): Promise<BatchItemEvent> {
    const claim = state.claimed!;
    const item = claim.item;
    const period = item.period as (typeof PERIODS)[number];
    if (item.digits !== 6 || !PERIODS.includes(period)) {
      // Batch input is checked at creation; an item made otherwise is refused here, unburned.
      throw otpbError("NOT_BURNABLE", `item ${item.id} asks for ${item.digits} digits every ${item.period} s; single-profile tokens show 6 digits every 30 or 60 s`);
    }
    if (state.burned === undefined) {
      // A shared batch: the server must know a write is starting before its first byte (docs/STATIONS.md).
      if ("beginWrite" in this.#journal) await this.#journal.beginWrite(item.id);
      state.burned = await session.burn({ seed: claim.seed, algorithm: item.algorithm, period, display: this.#display });
      await this.#journal.markBurned(item.id);
    }
    // The token runs on its own clock from here: read it back (§2.4) before calling the item good.
    const after = await session.readInfo();
    if (Math.abs(after.driftSeconds) > this.#tolerance) {
      throw otpbError("VERIFY_MISMATCH", `the token's clock reads ${after.driftSeconds} s from the host's after the burn (more than ${this.#tolerance} s)`, {
        detail: { driftSeconds: after.driftSeconds },
      });
    }
    await this.#journal.markVerified(item.id, { checked: false });
    const done = await this.#journal.commit(item.id);
    return {
      ...base, outcome: "committed", itemId: item.id, position: item.position, label: item.label, attempts: done.attempts,
      resumed: claim.outcome !== "claimed", codes: state.burned.codes, driftSeconds: after.driftSeconds,
    };
  }

  /** The event for a tap that threw; fails the item when the token refused or verification failed. */
  async #failure(error: unknown, base: { batchId: number; reader: string; serial: string }, claimed: ClaimedItem | undefined): Promise<BatchItemEvent> {
    const reason = reasonOf(error);
    const message = error instanceof Error ? error.message.slice(0, 400) : "the burn failed";
    const detail = error instanceof OtpbridgeError ? error.detail : {};
    const item = claimed === undefined ? {} : { itemId: claimed.item.id, position: claimed.item.position };
    if (claimed === undefined) {
      // Nothing was claimed (identification failed, the claim itself failed): nothing was written.
      this.#log.warn("batch: tap not taken", { ...base, reason });
      return { ...base, outcome: reason === "UNKNOWN_MODEL" ? "unsupported" : "error", reason, message };
    }
    if (INTERRUPTING.has(reason)) {
      this.#log.warn("batch: burn interrupted; the same token resumes it", { ...base, itemId: claimed.item.id, reason });
      return { ...base, ...item, outcome: "interrupted", reason, message: `${message}; tap the same token again to resume`, ...seedState(detail) };
    }
    try {
      await this.#journal.fail(claimed.item.id, message);
    } catch (failError) {
      // The item stays in flight: the next tap of this token resumes it with the same seed.
      this.#log.error("batch: could not record the failure", { itemId: claimed.item.id, error: failError });
      return { ...base, ...item, outcome: "interrupted", reason: reasonOf(failError), message };
    }
    this.#log.warn("batch: item failed", { ...base, itemId: claimed.item.id, reason });
    return { ...base, ...item, outcome: "failed", reason, message, ...seedState(detail) };
  }
}
