/**
 * The batch engine's events (`batch.item`, `batch.progress` in docs/API.md) and the meter behind
 * the progress: done/total from the journal, rate over the recent commits of this run, ETA, and
 * what each reader is doing. No event carries a seed; `codes` are the one-time codes the token
 * should show, for the operator to compare (docs/PROTOCOL.md §2.10 step 7).
 */
import type { ExpectedCodes } from "../drivers/single-profile.js";
import type { Reason } from "../lib/errors.js";
import type { BatchState, BatchStatus, ItemState, SerialConflict } from "../store/types.js";

/**
 * empty: no card; waiting: a card not (yet) taken (batch paused, being identified, held by a
 * session); burning: a tap under way; done: committed, remove the token; remove: not burned
 * (already burned, failed before, another batch's, batch exhausted), remove the token; failed:
 * the item failed; interrupted: the burn was cut, tap the same token again; unsupported: not a
 * single-profile token; error: the tap could not start (see message).
 */
export type ReaderState = "empty" | "waiting" | "burning" | "done" | "remove" | "failed" | "interrupted" | "unsupported" | "error";

export interface ReaderStatus {
  reader: string;
  state: ReaderState;
  serial: string | null;
  model?: string | null;
  itemId?: number;
  outcome?: BatchItemEvent["outcome"];
  message?: string;
}

/** One tap's result (`batch.item`). */
export interface BatchItemEvent {
  batchId: number;
  reader: string;
  serial: string;
  model?: string;
  outcome: "committed" | "already-committed" | "previously-failed" | "conflict" | "exhausted" | "failed" | "interrupted" | "unsupported" | "error";
  itemId?: number;
  position?: number;
  label?: string | null;
  attempts?: number;
  /** The item was claimed before (interrupted) or re-burned. */
  resumed?: boolean;
  /** The codes the token should show around the burn time (committed only). */
  codes?: ExpectedCodes;
  driftSeconds?: number;
  conflicts?: SerialConflict[];
  reason?: Reason;
  message?: string;
  /** For failures after the config write: what the token holds (single-profile driver). */
  seedState?: string;
}

/**
 * The state a batch is reported in: the journal's, except that a running or paused batch with
 * nothing left to burn (no item pending or in flight) is "finished". The journal keeps it running:
 * a token tapped again can still supersede a committed item.
 */
export type ReportedBatchState = BatchState | "finished";

export function reportedState(status: BatchStatus): ReportedBatchState {
  const open = status.batch.state === "running" || status.batch.state === "paused";
  return open && status.done ? "finished" : status.batch.state;
}

/** `batch.progress` and the result of `batch.status`. */
export interface BatchProgress {
  batchId: number;
  name: string;
  state: ReportedBatchState;
  total: number;
  /** Committed items. */
  done: number;
  counts: Record<ItemState, number>;
  /** No item pending or in flight. */
  finished: boolean;
  /** Commits per minute over the last minute of this run (null before two commits). */
  ratePerMinute: number | null;
  /** Seconds to go at that rate (null when unknown). */
  etaSeconds: number | null;
  inFlight: number;
  readers: ReaderStatus[];
  /** The item armed for re-burn (batch.reburnItem): the next token tapped takes it. */
  reburnItemId?: number;
}

/** Commit times kept for the rate. */
const WINDOW_MS = 60_000;
const MAX_SAMPLES = 200;

/** Keeps the commit times of one engine run; turns journal status into {@link BatchProgress}. */
export class ProgressMeter {
  readonly #commits: number[] = [];
  readonly #startedAt: number;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
    this.#startedAt = now();
  }

  /** Notes a tap's result. */
  record(event: BatchItemEvent): void {
    if (event.outcome !== "committed") return;
    this.#commits.push(this.#now());
    if (this.#commits.length > MAX_SAMPLES) this.#commits.shift();
  }

  /** Commits per minute over the last minute (or since the run began, when shorter). */
  rate(): number | null {
    const now = this.#now();
    const recent = this.#commits.filter((t) => now - t <= WINDOW_MS);
    if (recent.length < 2) return null;
    const span = Math.max(now - Math.max(this.#startedAt, now - WINDOW_MS), 1);
    return (recent.length * 60_000) / span;
  }

  progress(status: BatchStatus, readers: ReaderStatus[], inFlight: number): BatchProgress {
    const done = status.counts.committed;
    const remaining = status.counts.pending + status.counts.claimed + status.counts.burned + status.counts.verified;
    const rate = this.rate();
    return {
      batchId: status.batch.id,
      name: status.batch.name,
      state: reportedState(status),
      total: status.total,
      done,
      counts: status.counts,
      finished: status.done,
      ratePerMinute: rate === null ? null : Math.round(rate * 10) / 10,
      etaSeconds: rate === null || rate === 0 ? null : Math.round((remaining / rate) * 60),
      inFlight,
      readers,
    };
  }
}

/** `detail.seedState` of a driver error, when it has one. */
export function seedState(detail: Record<string, unknown>): { seedState?: string } {
  return typeof detail.seedState === "string" ? { seedState: detail.seedState } : {};
}

/** What a reader shows once its tap is over. */
export function statusAfter(event: BatchItemEvent): ReaderStatus {
  const state: ReaderState =
    event.outcome === "committed"
      ? "done"
      : event.outcome === "interrupted"
        ? "interrupted"
        : event.outcome === "failed"
          ? "failed"
          : event.outcome === "error"
            ? "error"
            : event.outcome === "unsupported"
              ? "unsupported"
              : "remove";
  return {
    reader: event.reader,
    state,
    serial: event.serial,
    ...(event.model !== undefined ? { model: event.model } : {}),
    ...(event.itemId !== undefined ? { itemId: event.itemId } : {}),
    outcome: event.outcome,
    ...(event.message !== undefined ? { message: event.message } : {}),
  };
}
