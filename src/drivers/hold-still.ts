/**
 * "Hold the token still, retrying": an NFC token that slips out of the field, or a card that the
 * reader resets, ends the PC/SC session with CARD_REMOVED (src/transports/pcsc-errors.ts). When the
 * step it ended is safe to repeat (the caller's predicate, for single-profile tokens
 * `safeToRepeat` of ./single-profile.ts), this waits a short time for the SAME token to be listed again
 * (by the device manager, or the daemon core's view of it), opens a new link through the caller's
 * `connect` and runs the operation again, a bounded number of times. Waiting and queueing are the
 * caller's: this only watches the list.
 */
import type { DeviceInfo } from "./device-manager.js";

/** The device list to watch: the DeviceManager has this shape; the daemon core adapts its source to it. */
export interface DeviceWatch {
  list(): DeviceInfo[];
  /** Calls `listener` on every change of the list; returns the unsubscribe function. */
  on(listener: () => void): () => void;
}

/** What the operator is told before each retry. */
export const HOLD_STILL_MESSAGE = "hold the token still, retrying";

export interface RetryEvent {
  message: typeof HOLD_STILL_MESSAGE;
  reader: string;
  serial: string;
  /** 1 for the first retry. */
  attempt: number;
  /** Retries allowed in all. */
  attempts: number;
  /** The step the card left during (`detail.stage` of the error), or "info". */
  stage: string;
}

/** The line an operator reads before a retry: "hold the token still, retrying (the token left the field during seed; retry 1 of 2)". */
export function describeRetry(event: RetryEvent): string {
  return `${event.message} (the token left the field during ${event.stage}; retry ${event.attempt} of ${event.attempts})`;
}

export interface HoldStillOptions<L> {
  /** Retries after the first try (default 2). */
  attempts?: number;
  /** How long the token has to be back, each time, in ms (default 5000). */
  waitMs?: number;
  /** Told before each retry (the CLI prints {@link HOLD_STILL_MESSAGE}, the daemon sends an event). */
  onRetry?: (event: RetryEvent) => void;
  /** Opens a new link to the token's reader for one try (a PC/SC session, the core's device link). */
  connect: <T>(fn: (link: L) => Promise<T>) => Promise<T>;
}

/** The token a retry is for: it must be this serial in this reader. */
export interface HeldToken {
  reader: string;
  serial: string;
}

/**
 * Resolves true once `manager` lists `reader` ready with `serial`, false after `timeoutMs` (or
 * when another card, or none, is all it saw by then). A short settle first: the removal event may
 * reach the manager after the failed transmit, and its stale "ready" must not count.
 */
export async function waitForToken(manager: DeviceWatch, token: HeldToken, timeoutMs: number, settleMs = 100): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, Math.min(settleMs, timeoutMs)));
  const back = (): boolean => manager.list().some((d) => d.reader === token.reader && d.state === "ready" && d.serial === token.serial);
  if (back()) return true;
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => finish(false), Math.max(0, timeoutMs - settleMs));
    const unsubscribe = manager.on(() => {
      if (back()) finish(true);
    });
    function finish(result: boolean): void {
      clearTimeout(timer);
      unsubscribe();
      resolve(result);
    }
  });
}

/**
 * Runs `operation` on a link to `token.reader`; when it fails and `repeatable(error)` says the
 * step may be repeated, tells `onRetry`, waits for the same token (serial) to be back and runs it
 * again, at most `attempts` more times. `operation` must itself refuse a different token
 * (`SingleProfileSession.open(t, { expectSerial })`), since a swap can happen between the manager's
 * listing and the new session.
 * @returns what `operation` returned on the try that succeeded.
 * @throws the last error when it is not repeatable, when the token is not back in time, or when
 *   the retries are spent.
 * @example await holdStill(manager, { reader, serial }, (t) => burn(t), (e) => safeToRepeat(e, { seedFollows: true }), { connect, onRetry });
 */
export async function holdStill<T, L>(
  manager: DeviceWatch,
  token: HeldToken,
  operation: (link: L, attempt: number) => Promise<T>,
  repeatable: (error: unknown) => boolean,
  options: HoldStillOptions<L>,
): Promise<T> {
  const attempts = options.attempts ?? 2;
  const waitMs = options.waitMs ?? 5_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await options.connect((link) => operation(link, attempt));
    } catch (error) {
      if (attempt >= attempts || !repeatable(error)) throw error;
      const stage = (error as { detail?: { stage?: unknown } }).detail?.stage;
      options.onRetry?.({
        message: HOLD_STILL_MESSAGE,
        reader: token.reader,
        serial: token.serial,
        attempt: attempt + 1,
        attempts,
        stage: typeof stage === "string" ? stage : "info",
      });
      if (!(await waitForToken(manager, token, waitMs))) throw error;
    }
  }
}
