/**
 * While a daemon serves a data directory it owns that directory's journal and the devices: the
 * CLI's commands that need either go through it as a native client (src/client), with the same
 * output, exit codes and prompts as when the CLI works alone, which it does when no daemon runs.
 */
import { DaemonClient } from "../client/daemon-client.js";
import { findDaemon } from "../client/discovery.js";
import { otpbError } from "../lib/errors.js";

/** The daemon serving `dataDir`, connected; undefined when none runs there (a stale discovery file is ignored). */
export async function daemonFor(dataDir: string): Promise<DaemonClient | undefined> {
  const found = findDaemon(dataDir);
  return found === undefined ? undefined : DaemonClient.connect(dataDir, found);
}

/**
 * Refuses the flags that choose how devices are driven: the daemon drives them with the settings it
 * was started with.
 * @throws OtpbridgeError INVALID_INPUT naming the first such flag given.
 */
export function refuseLocalFlags(values: Record<string, unknown>, flags: readonly string[], dataDir: string): void {
  const given = flags.find((flag) => values[flag] !== undefined && values[flag] !== false);
  if (given !== undefined) {
    throw otpbError(
      "INVALID_INPUT",
      `--${given} cannot be used while the daemon serves ${dataDir}: it drives the readers with the settings it started with (stop it, or leave out --${given})`,
      {
        detail: { param: given },
      },
    );
  }
}
