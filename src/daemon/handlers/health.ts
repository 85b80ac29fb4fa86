/**
 * `health.check`: what `otpbridge doctor` finds on this machine (pcscd, readers, drivers,
 * permissions, the clock), each finding with its fix, and the host clock as the daemon judges it
 * before every write of a token's clock (with `--ntp`, against that server).
 */
import { hostSystemView, runDoctor } from "../../doctor/index.js";
import type { MethodTable } from "../rpc.js";
import type { DaemonServices } from "./_services.js";

/** @returns `health.check`. */
export function healthMethods(s: DaemonServices): MethodTable {
  return {
    "health.check": {
      capability: "read",
      handler: async () => {
        const findings = await runDoctor(hostSystemView());
        // force: the problems come back as a list instead of a refusal.
        const clock = await s.hostClock.check(true);
        return {
          findings,
          clock: { time: Date.now(), sync: clock.sync, ...(clock.offsetMs !== undefined ? { offsetMs: clock.offsetMs } : {}), problems: clock.overridden },
        };
      },
    },
  };
}
