/**
 * The host clock before a burn. A token's clock is set from the host's (docs/PROTOCOL.md §2.6, §3.9), and on
 * restricted models a later correction erases the seed (§2.1): burning with a wrong host clock makes
 * a token that shows wrong codes for good. So: refuse when the system says its clock is not
 * synchronised, or, with --ntp HOST, when it is more than 2 s from that server, unless forced.
 */
import { existsSync } from "node:fs";
import { otpbError } from "../lib/errors.js";
import { sntpQuery, type SntpOptions } from "../lib/sntp.js";
import { at, type SystemView } from "./system-view.js";

/** Largest host-clock error we burn with: codes change every 30 s and verifiers allow ±1 step. */
export const MAX_CLOCK_OFFSET_MS = 2000;

export type ClockSync = "synchronized" | "unsynchronized" | "unknown";

/**
 * What the system knows about its clock: systemd-timesyncd touches /run/systemd/timesync/synchronized
 * once synchronised; otherwise `timedatectl show -p NTPSynchronized --value` (any NTP daemon that
 * sets the kernel's sync status, as adjtimex reports it); otherwise unknown.
 */
export function clockSyncState(view: SystemView): { state: ClockSync; source: string } {
  if (existsSync(at(view, "run/systemd/timesync/synchronized"))) return { state: "synchronized", source: "systemd-timesyncd" };
  const answer = view.run("timedatectl", ["show", "-p", "NTPSynchronized", "--value"])?.trim();
  if (answer === "yes") return { state: "synchronized", source: "timedatectl" };
  if (answer === "no") return { state: "unsynchronized", source: "timedatectl" };
  return { state: "unknown", source: "no timesyncd flag and no timedatectl" };
}

export interface HostClockOptions {
  systemView: SystemView;
  /** --ntp HOST: compare with this server. */
  ntpHost?: string;
  /** --force: report, but do not refuse. */
  force?: boolean;
  /** How the caller overrides a refusal, for the message (default "--force burns anyway"). */
  forceHint?: string;
  maxOffsetMs?: number;
  sntp?: SntpOptions;
}

export interface HostClockReport {
  sync: ClockSync;
  /** Server minus host, ms, when --ntp was given and answered. */
  offsetMs?: number;
  /** Problems that would have refused the burn, reported because of --force. */
  overridden: string[];
}

/**
 * Checks the host clock before a burn.
 * @throws OtpbridgeError CLOCK_UNTRUSTED (clock unsynchronised, or off by more than maxOffsetMs from
 *   the --ntp server) and NTP_UNAVAILABLE (the server did not answer): both only without `force`.
 * @example await checkHostClock({ systemView: hostSystemView(), ntpHost: "pool.ntp.org" });
 */
export async function checkHostClock(options: HostClockOptions): Promise<HostClockReport> {
  const view = options.systemView;
  const limit = options.maxOffsetMs ?? MAX_CLOCK_OFFSET_MS;
  const report: HostClockReport = { sync: clockSyncState(view).state, overridden: [] };
  const refuse = (reason: "CLOCK_UNTRUSTED" | "NTP_UNAVAILABLE", message: string, cause?: unknown): void => {
    if (options.force) {
      report.overridden.push(message);
      return;
    }
    throw otpbError(reason, `${message}; not burning (${options.forceHint ?? "--force burns anyway"})`, { detail: { ...report }, ...(cause ? { cause } : {}) });
  };
  if (report.sync === "unsynchronized") {
    refuse("CLOCK_UNTRUSTED", "the system clock is not synchronised (timedatectl: NTPSynchronized=no); fix: sudo timedatectl set-ntp true");
  }
  if (options.ntpHost !== undefined) {
    try {
      const { offsetMs } = await sntpQuery(options.ntpHost, options.sntp);
      report.offsetMs = Math.round(offsetMs);
      if (Math.abs(offsetMs) > limit) {
        refuse(
          "CLOCK_UNTRUSTED",
          `the system clock is ${(Math.abs(offsetMs) / 1000).toFixed(1)} s ${offsetMs > 0 ? "behind" : "ahead of"} ${options.ntpHost} (limit ${limit / 1000} s)`,
        );
      }
    } catch (error) {
      if ((error as { reason?: string }).reason !== "NTP_UNAVAILABLE") throw error;
      refuse("NTP_UNAVAILABLE", (error as Error).message, error);
    }
  }
  return report;
}

/**
 * After a burn: the token's drift against the host, from the device time read back (§2.4 GET INFO,
 * §3.4), as a line for the operator.
 * @example describeDeviceDrift(tokenUnixSeconds, Date.now())
 */
export function describeDeviceDrift(deviceUnixSeconds: number, hostUnixMs: number): { driftSeconds: number; message: string } {
  const driftSeconds = Math.round(deviceUnixSeconds - hostUnixMs / 1000);
  const message =
    driftSeconds === 0 ? "token clock matches the host" : `token clock is ${Math.abs(driftSeconds)} s ${driftSeconds > 0 ? "ahead of" : "behind"} the host`;
  return { driftSeconds, message };
}
