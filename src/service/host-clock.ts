/**
 * The host-clock check before the daemon writes a token's clock (token.burn, token.syncTime, every
 * batch tap): the rules are the CLI's (src/doctor/clock.ts, checkHostClock); this adds what a
 * long-running process needs: the `--ntp` server given once at start, and a passing answer reused
 * for a minute, so that a batch does not ask the server at every tap (and a server that stops
 * answering mid-batch is noticed within that minute).
 */
import { checkHostClock, hostSystemView, type HostClockReport } from "../doctor/index.js";
import type { SystemView } from "../doctor/system-view.js";

/** How long a passing check is reused. */
const PASS_REUSE_MS = 60_000;

export interface HostClockOptions {
  /** `--ntp HOST[:PORT]`: compare with this server before each write. */
  ntp?: { host: string; port?: number };
  /** How a refusal is overridden, for its message (default: the API's `force: true`). */
  forceHint?: string;
}

/** See the module comment. One per daemon. */
export class HostClockGuard {
  readonly #options: HostClockOptions;
  readonly #view: SystemView;
  #passedAt = -Infinity;
  #passed: HostClockReport | undefined;

  constructor(options: HostClockOptions = {}) {
    this.#options = options;
    this.#view = hostSystemView();
  }

  /**
   * Checks the host clock before a write. With `force`, problems are returned in `overridden`
   * (the caller passes them on as warnings) instead of refusing.
   * @throws OtpbridgeError CLOCK_UNTRUSTED, NTP_UNAVAILABLE (only without `force`).
   */
  async check(force: boolean): Promise<HostClockReport> {
    if (this.#passed !== undefined && performance.now() - this.#passedAt < PASS_REUSE_MS) return this.#passed;
    const ntp = this.#options.ntp;
    const report = await checkHostClock({
      systemView: this.#view,
      force,
      forceHint: this.#options.forceHint ?? "the call's force: true burns anyway",
      ...(ntp !== undefined ? { ntpHost: ntp.host, sntp: ntp.port !== undefined ? { port: ntp.port } : {} } : {}),
    });
    if (report.overridden.length === 0) {
      this.#passed = report;
      this.#passedAt = performance.now();
    }
    return report;
  }
}
