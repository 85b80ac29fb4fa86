/**
 * Per-client request rate: a token bucket (burst `burst`, refilled at `perSecond`). A request over
 * the limit gets RATE_LIMITED with the wait; a client that keeps flooding well past it is
 * disconnected (close 1008) by the server, so one page cannot keep the event loop busy.
 */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

/** One client's bucket. */
export class TokenBucket {
  readonly #perMs: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;
  /** Requests refused since the last accepted one. */
  refusedInARow = 0;

  constructor(options: RateLimitOptions, now = Date.now()) {
    this.#perMs = options.perSecond / 1000;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#at = now;
  }

  /** Takes `n` tokens; returns 0 if allowed, else the milliseconds until they would be. */
  take(n = 1, now = Date.now()): number {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens >= n) {
      this.#tokens -= n;
      this.refusedInARow = 0;
      return 0;
    }
    this.refusedInARow++;
    return Math.ceil((n - this.#tokens) / this.#perMs);
  }
}
