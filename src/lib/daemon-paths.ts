/**
 * Where a daemon that serves a data directory can be found by the local clients of that directory
 * (the CLI, the examples). Both files live in the data directory itself, which is 0700 and owned by
 * the daemon's user, so the operating system vouches for whoever reads or connects to them.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** The daemon's local Unix domain socket: native clients of the same user connect here. */
export function daemonSocketPath(dataDir: string): string {
  return join(dataDir, "daemon.sock");
}

/**
 * The discovery file (0600, JSON `{pid, port, socket}`) the daemon writes once it listens and removes
 * on exit. A file whose pid is not alive is stale and ignored.
 */
export function discoveryFilePath(dataDir: string): string {
  return join(dataDir, "daemon.json");
}

/** $XDG_DATA_HOME/otpbridge, else ~/.local/share/otpbridge. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : join(homedir(), ".local", "share");
  return join(base, "otpbridge");
}
