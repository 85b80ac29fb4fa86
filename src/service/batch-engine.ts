/**
 * The batch engine (docs/ARCHITECTURE.md "The one burn path, and what the journal keeps"): while a batch runs, every
 * single-profile token that becomes ready in any reader takes the next item, readers in parallel,
 * one burn per reader. Per tap, in this order:
 *
 *   GET INFO (serial) → host clock check (the token's clock is set from it: src/service/host-clock.ts)
 *   → journal.claimNext (committed: the item is bound to the serial and its sealed seed is on disk
 *   BEFORE any byte that writes goes to the token) → burn (auth, config, seed: docs/PROTOCOL.md §2.10) →
 *   markBurned → clock read-back within 2 s of the host (§2.4) → markVerified → commit.
 *
 * A token that slips out of the field during any of these steps (CARD_REMOVED; all are safe to
 * repeat, `safeToRepeat`) is waited for: the reader shows "hold the token still, retrying", and
 * when the same serial is back within seconds the tap goes on from where it was (claimed once,
 * burned again only if the burn did not go through). Only then is it reported interrupted.
 *
 * What a failure leaves:
 * - a link failure (card pulled, reader unplugged, pcscd gone) or a journal write failing after the
 *   claim leaves the item claimed or burned: the next tap of the same token resumes it with the same
 *   seed (the journal's rule), and no other token can get it;
 * - a journal write failing AT the claim (disk full) means nothing was claimed: nothing is sent;
 * - a token's refusal (locked, auth failed, a status word) or a clock off by more than 2 s fails
 *   the item (journal.fail); it stays bound to that token, and `reburn` retries it;
 * - a token already committed in this batch, failed before, or live in another batch is not
 *   touched: the operator is told to remove it.
 * A token stays in its reader after its burn, so a reader does nothing more until its card changes
 * (no-card or identifying in the device list): the same token is never burned twice by being
 * identified again. One tap is src/service/batch-tap.ts; this file follows the readers and reports.
 */
import { describeRetry, type RetryEvent } from "../drivers/hold-still.js";
import { DISPLAY_SECONDS, type DisplaySeconds } from "../drivers/single-profile.js";
import type { DeviceInfo } from "../drivers/device-manager.js";
import { otpbError } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import type { BatchStore } from "./batch-store.js";
import type { BatchRecord } from "../store/types.js";
import { ProgressMeter, statusAfter, type BatchItemEvent, type BatchProgress, type ReaderState, type ReaderStatus } from "./batch-progress.js";
import { BatchTapper, type BatchDevices } from "./batch-tap.js";
import { CLOCK_TOLERANCE_SECONDS } from "./burn.js";

export type { BatchItemEvent, BatchProgress, ReaderState, ReaderStatus } from "./batch-progress.js";
export type { BatchDevices } from "./batch-tap.js";

export interface BatchEngineOptions {
  journal: BatchStore;
  devices: BatchDevices;
  logger?: Logger;
  /** Display-off timeout written with each config (default 30 s). */
  display?: DisplaySeconds;
  /** Burn again tokens this batch committed or failed before, and take over tokens of other batches. */
  reburn?: boolean;
  /** Largest |token clock − host clock| accepted at verification, seconds (default 2, issue #6). */
  clockToleranceSeconds?: number;
  /** A device the engine must leave alone (held by an API session). */
  skip?: (deviceId: string) => boolean;
  /** Called after the engine attaches to or detaches from a batch (the daemon remembers it). */
  onAttach?: (batchId: number | undefined) => void;
  /**
   * The host-clock check before each claim (HostClockGuard#check): throws to refuse the tap, or
   * returns the problems `force` overrode.
   */
  checkClock?: (force: boolean) => Promise<{ overridden: string[] }>;
  /** Hold-still retries per tap (default 2 retries, 5000 ms each to be back). */
  holdStill?: { attempts?: number; waitMs?: number };
}

/** Wait before trying again a card another PC/SC client held. */
const BUSY_RETRY_MS = 300;

interface ReaderRun {
  status: ReaderStatus;
  /** The serial of the card already handled; null once the card leaves (or is identified again). */
  handled: string | null;
  busy: boolean;
}

/** See the module comment. */
export class BatchEngine {
  readonly #journal: BatchStore;
  readonly #devices: BatchDevices;
  readonly #log: Logger;
  readonly #tapper: BatchTapper;
  readonly #skip: (deviceId: string) => boolean;
  readonly #onAttach: (batchId: number | undefined) => void;
  readonly #readers = new Map<string, ReaderRun>();
  readonly #itemListeners = new Set<(event: BatchItemEvent) => void>();
  readonly #progressListeners = new Set<(event: BatchProgress) => void>();
  readonly #running = new Set<Promise<void>>();
  readonly #unsubscribe: () => void;
  #batchId: number | undefined;
  #meter: ProgressMeter | undefined;
  #closed = false;
  /** The batch was started with the host-clock check forced. */
  #forceClock = false;
  /** The item the operator chose to re-burn: the next token tapped takes it (see reburnItem). */
  #reburnTarget: { itemId: number; taking: boolean } | undefined;

  constructor(options: BatchEngineOptions) {
    this.#journal = options.journal;
    this.#devices = options.devices;
    this.#log = options.logger ?? silentLogger;
    const display = options.display ?? 30;
    if (!DISPLAY_SECONDS.includes(display)) throw otpbError("INVALID_INPUT", "display must be 15, 30, 60 or 120");
    this.#tapper = new BatchTapper({
      journal: this.#journal,
      devices: this.#devices,
      logger: this.#log,
      display,
      reburn: options.reburn === true,
      tolerance: options.clockToleranceSeconds ?? CLOCK_TOLERANCE_SECONDS,
      checkClock: options.checkClock ?? (async () => ({ overridden: [] })),
      holdStill: options.holdStill ?? {},
    });
    this.#skip = options.skip ?? (() => false);
    this.#onAttach = options.onAttach ?? (() => {});
    this.#unsubscribe = this.#devices.on((event) => this.#update(event.devices));
  }

  /** The batch the engine drives (running or paused), if any. */
  get batchId(): number | undefined {
    return this.#batchId;
  }

  /** Burns under way now. */
  get inFlight(): number {
    return this.#running.size;
  }

  /** Subscribes to `batch.item` events; returns the unsubscribe function. */
  onItem(listener: (event: BatchItemEvent) => void): () => void {
    this.#itemListeners.add(listener);
    return () => this.#itemListeners.delete(listener);
  }

  /** Subscribes to `batch.progress` events; returns the unsubscribe function. */
  onProgress(listener: (event: BatchProgress) => void): () => void {
    this.#progressListeners.add(listener);
    return () => this.#progressListeners.delete(listener);
  }

  /**
   * Runs `batchId`: starts it (created), resumes it (paused) or takes it over as it is (running,
   * e.g. after a restart), then offers it every ready token, those in the readers now included.
   * `forceClock`: taps go on when the host clock check fails (its problems are logged as warnings).
   * @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE (cancelled), BATCH_BUSY (the engine drives
   *   another batch that is running and not finished), JOURNAL_FULL / JOURNAL_IO.
   */
  run(batchId: number, options: { forceClock?: boolean } = {}): BatchRecord {
    this.#assertOpen();
    const current = this.#batchId;
    // A finished batch (nothing pending or in flight) stays "running" in the journal but holds nothing up.
    if (current !== undefined && current !== batchId && this.#journal.batch(current).state === "running" && !this.#journal.status(current).done) {
      throw otpbError("BATCH_BUSY", `batch ${current} is running: pause or cancel it before running batch ${batchId}`, { detail: { batchId: current } });
    }
    let batch = this.#journal.batch(batchId);
    if (batch.state === "created") batch = this.#journal.setBatchState(batchId, "start");
    else if (batch.state === "paused") batch = this.#journal.setBatchState(batchId, "resume");
    else if (batch.state !== "running") {
      throw otpbError("BATCH_STATE", `batch ${batchId} is ${batch.state}; it cannot run`, { detail: { batchId, state: batch.state } });
    }
    if (current !== batchId) {
      this.#reburnTarget = undefined;
      // Every token in a reader is a new tap for another batch (it gets reported there if it must not be burned).
      for (const run of this.#readers.values()) if (!run.busy) run.handled = null;
      this.#batchId = batchId;
      this.#meter = new ProgressMeter();
      this.#onAttach(batchId);
    }
    this.#forceClock = options.forceClock === true;
    this.#log.info("batch: running", { batchId, forceClock: this.#forceClock });
    this.#update(this.#devices.list());
    return batch;
  }

  /**
   * Arms a re-burn of one item of the batch the engine runs: the next token tapped in any reader takes
   * that item's seed (the same token, or a token bound to no other item, which then replaces it; see
   * Journal#claimNext with `itemId`) instead of the next pending item. Only one item is armed at a time:
   * a second call replaces the first; it is dropped once a token is claimed for it, or when the batch
   * is cancelled or another one runs. A token already in a reader is not taken: it must be presented again.
   * The caller checks that the item is committed or failed (the claim checks it again).
   * @throws OtpbridgeError BATCH_STATE (the engine does not run `batchId`, or it is not running).
   */
  reburnItem(batchId: number, itemId: number): void {
    this.#assertOpen();
    if (this.#batchId !== batchId || !this.#takingTaps()) {
      throw otpbError("BATCH_STATE", `batch ${batchId} is not running here; start or resume it, then re-burn item ${itemId}`, { detail: { batchId, itemId } });
    }
    this.#reburnTarget = { itemId, taking: false };
    this.#log.info("batch: item armed for re-burn", { batchId, itemId });
    this.#emitProgress();
  }

  /** The item armed by reburnItem, if any. */
  get reburnItemId(): number | undefined {
    return this.#reburnTarget?.itemId;
  }

  /**
   * Pauses the engine's batch: no new tap is taken; burns under way finish.
   * @throws OtpbridgeError BATCH_STATE (no batch, or not running), JOURNAL_FULL / JOURNAL_IO.
   */
  pause(batchId: number): BatchRecord {
    const batch = this.#journal.setBatchState(batchId, "pause");
    this.#emitProgress();
    return batch;
  }

  /**
   * Cancels a batch (created, running or paused); the engine lets go of it. Committed items stay
   * exportable; items in flight stay as the journal has them.
   * @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE, JOURNAL_FULL / JOURNAL_IO.
   */
  cancel(batchId: number): BatchRecord {
    const batch = this.#journal.setBatchState(batchId, "cancel");
    if (this.#batchId === batchId) {
      this.#emitProgress();
      this.#detach();
    }
    return batch;
  }

  /**
   * Lets go of the batch without changing its state: a station leaving a shared batch that the
   * other stations go on with. Tokens in the readers are offered again to the next batch run.
   * @throws OtpbridgeError BATCH_BUSY while a burn is under way (its item must settle here first).
   */
  release(): void {
    if (this.#batchId === undefined) return;
    if (this.#running.size > 0) {
      throw otpbError("BATCH_BUSY", `${this.#running.size} burn(s) of batch ${this.#batchId} are under way here; let them finish first`, {
        detail: { batchId: this.#batchId },
      });
    }
    for (const run of this.#readers.values()) run.handled = null;
    this.#detach();
  }

  /**
   * The progress of `batchId` (default the engine's batch): journal counts, and when the engine
   * drives it, rate, ETA and the readers.
   * @throws OtpbridgeError BATCH_NOT_FOUND; BATCH_STATE when no batch is given and none is driven.
   */
  progress(batchId = this.#batchId): BatchProgress {
    if (batchId === undefined) throw otpbError("BATCH_STATE", "no batch is running in the engine");
    const status = this.#journal.status(batchId);
    const readers = batchId === this.#batchId ? [...this.#readers.values()].map((r) => ({ ...r.status })) : [];
    const meter = batchId === this.#batchId ? this.#meter : undefined;
    const progress = (meter ?? new ProgressMeter()).progress(status, readers, this.#running.size);
    const armed = batchId === this.#batchId ? this.#reburnTarget?.itemId : undefined;
    return armed === undefined ? progress : { ...progress, reburnItemId: armed };
  }

  /** Stops taking taps and waits for the burns under way (their items then say what each token holds). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe();
    while (this.#running.size > 0) await Promise.allSettled([...this.#running]);
    this.#itemListeners.clear();
    this.#progressListeners.clear();
  }

  #detach(): void {
    this.#reburnTarget = undefined;
    this.#batchId = undefined;
    this.#meter = undefined;
    this.#onAttach(undefined);
  }

  #assertOpen(): void {
    if (this.#closed) throw otpbError("BATCH_STATE", "the batch engine is closed");
  }

  /** Follows the device list: resets readers whose card changed, starts a burn where a new token is ready. */
  #update(devices: readonly DeviceInfo[]): void {
    if (this.#closed) return;
    let changed = false;
    const seen = new Set<string>();
    for (const device of devices) {
      if (device.link !== "pcsc" || device.reader === undefined) continue;
      const name = device.reader;
      seen.add(name);
      let run = this.#readers.get(name);
      if (run === undefined) {
        run = { status: { reader: name, state: "empty", serial: null }, handled: null, busy: false };
        this.#readers.set(name, run);
        changed = true;
      }
      if (device.state === "no-card" || device.state === "identifying") {
        // The card left (or another one is being identified): whatever comes next is a new tap.
        // Not while a tap runs: a token back from a hold-still wait is that tap's, not a new one.
        if (!run.busy) run.handled = null;
        if (!run.busy && run.status.state !== (device.state === "no-card" ? "empty" : "waiting")) {
          run.status = { reader: name, state: device.state === "no-card" ? "empty" : "waiting", serial: null };
          changed = true;
        }
        continue;
      }
      if (run.busy || (run.handled !== null && run.handled === device.serial)) continue;
      if (device.state !== "ready" || device.family !== "single-profile" || device.serial === null) {
        const state: ReaderState = device.state === "ready" || device.state === "unsupported" ? "unsupported" : "waiting";
        const message =
          device.message ??
          (device.family !== "single-profile" && device.state === "ready" ? `not a single-profile token (${device.family ?? "unidentified"})` : undefined);
        if (run.status.state !== state || run.status.message !== message) {
          run.status = { reader: name, state, serial: device.serial, ...(message !== undefined ? { message } : {}) };
          changed = true;
        }
        continue;
      }
      if (!this.#takingTaps() || this.#skip(device.id)) {
        if (run.status.state !== "waiting" || run.status.serial !== device.serial) {
          run.status = { reader: name, state: "waiting", serial: device.serial, model: device.model };
          changed = true;
        }
        continue;
      }
      this.#start(run, device);
      changed = true;
    }
    for (const [name, run] of this.#readers) {
      if (!seen.has(name) && !run.busy) {
        this.#readers.delete(name);
        changed = true;
      }
    }
    if (changed) this.#emitProgress();
  }

  #takingTaps(): boolean {
    if (this.#batchId === undefined || this.#closed) return false;
    try {
      return this.#journal.batch(this.#batchId).state === "running";
    } catch {
      return false;
    }
  }

  #start(run: ReaderRun, device: DeviceInfo): void {
    const batchId = this.#batchId!;
    const serial = device.serial!;
    run.busy = true;
    run.handled = serial;
    run.status = { reader: device.reader!, state: "burning", serial, model: device.model };
    // One reader at a time tries the armed item; the others take pending items meanwhile.
    const target = this.#reburnTarget !== undefined && !this.#reburnTarget.taking ? this.#reburnTarget : undefined;
    if (target !== undefined) target.taking = true;
    const job = this.#tapper
      .tap(batchId, device.reader!, serial, {
        forceClock: this.#forceClock,
        onRetry: (event) => this.#retrying(run, event),
        itemId: target?.itemId,
      })
      .then((event) => {
        if (target !== undefined) {
          target.taking = false;
          // Claimed (whatever the burn did next): the arm is used up. Refused before any claim: it waits for the next token.
          const claimed = event.itemId === target.itemId && (event.outcome === "committed" || event.outcome === "failed" || event.outcome === "interrupted");
          if (claimed && this.#reburnTarget === target) this.#reburnTarget = undefined;
        }
        run.status = statusAfter(event);
        if (event.reason === "DEVICE_BUSY" && event.itemId === undefined) {
          // Another PC/SC client held the card at connect time: the same tap is tried again shortly.
          run.handled = null;
          setTimeout(() => this.#update(this.#devices.list()), BUSY_RETRY_MS).unref();
        }
        this.#meter?.record(event);
        this.#notify(this.#itemListeners, event);
      })
      .finally(() => {
        run.busy = false;
        this.#running.delete(job);
        // The card may have changed while the burn ran: look at the list as it is now.
        this.#update(this.#devices.list());
        this.#emitProgress();
      });
    this.#running.add(job);
  }

  /** Shows "hold the token still, retrying" on the reader while the tap waits for its token. */
  #retrying(run: ReaderRun, event: RetryEvent): void {
    this.#log.warn("batch: the token left the field; waiting for it", {
      reader: event.reader,
      serial: event.serial,
      stage: event.stage,
      attempt: event.attempt,
    });
    run.status = { ...run.status, message: describeRetry(event) };
    this.#emitProgress();
  }

  #emitProgress(): void {
    if (this.#batchId === undefined || this.#progressListeners.size === 0) return;
    let progress: BatchProgress;
    try {
      progress = this.progress();
    } catch (error) {
      this.#log.warn("batch: progress unavailable", { error });
      return;
    }
    this.#notify(this.#progressListeners, progress);
  }

  /** A listener that throws is logged; it stops neither the engine nor the other listeners. */
  #notify<E>(listeners: Set<(event: E) => void>, event: E): void {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#log.error("batch: an event listener failed", { error });
      }
    }
  }
}
