/**
 * Logs an event that a client can repeat at will (a refused upgrade, a pairing request) once per
 * window and key; the repeats within the window are only counted, and the next line carries the
 * count. A flood then costs a line a minute, not a line a request.
 */
export class LogThrottle {
  readonly #windowMs: number;
  readonly #maxKeys: number;
  readonly #keys = new Map<string, { until: number; suppressed: number }>();

  constructor(windowMs = 60_000, maxKeys = 1024) {
    this.#windowMs = windowMs;
    this.#maxKeys = maxKeys;
  }

  /** Calls `write` (with `suppressed`: repeats since the last line, when any) unless `key` was logged within the window. */
  log(key: string, write: (extra: { suppressed?: number }) => void, now = Date.now()): void {
    if (!this.#keys.has(key) && this.#keys.size >= this.#maxKeys) {
      for (const [k, entry] of this.#keys) if (entry.until <= now) this.#keys.delete(k);
      // Still full: many distinct keys are one flood, throttled as one.
      if (this.#keys.size >= this.#maxKeys) key = "(many)";
    }
    const entry = this.#keys.get(key);
    if (entry !== undefined && entry.until > now) {
      entry.suppressed++;
      return;
    }
    write(entry !== undefined && entry.suppressed > 0 ? { suppressed: entry.suppressed } : {});
    this.#keys.set(key, { until: now + this.#windowMs, suppressed: 0 });
  }
}
