import type { PcscEvent, PcscManager } from "../../../src/transports/pcsc.js";

/**
 * Resolves with the first event matching `match` from now on, and when it came (performance.now());
 * rejects after `timeoutMs`. Subscribe before causing the event.
 */
export function nextEvent(
  manager: PcscManager,
  match: (event: PcscEvent) => boolean,
  timeoutMs = 3_000,
): Promise<{ event: PcscEvent; at: number }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching PC/SC event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = manager.on((event) => {
      if (!match(event)) return;
      clearTimeout(timer);
      off();
      resolve({ event, at: performance.now() });
    });
  });
}

/** Matches one event type, optionally on one reader. */
export const is =
  (type: PcscEvent["type"], reader?: string) =>
  (event: PcscEvent): boolean =>
    event.type === type && (reader === undefined || ("reader" in event && event.reader === reader));
