/**
 * Where a daemon that serves a data directory can be found by the local clients of that directory
 * (the CLI, the examples). Both files live in the data directory itself, which is 0700 and owned by
 * the daemon's user, so the operating system vouches for whoever reads or connects to them.
 */
import { homedir } from "node:os";
import { join } from "node:path";

/** The data directory used when none is given: $XDG_DATA_HOME/otpbridge, else ~/.local/share/otpbridge. */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_DATA_HOME !== undefined && env.XDG_DATA_HOME !== "" ? env.XDG_DATA_HOME : join(homedir(), ".local", "share");
  return join(base, "otpbridge");
}

/** The bearer token a native client of the daemon presents (0600, written by the daemon). */
export function daemonTokenPath(dataDir: string): string {
  return join(dataDir, "daemon.token");
}

/** What the discovery file holds. `socket` is null while the daemon listens on TCP only. */
export interface DaemonDiscovery {
  pid: number;
  port: number;
  socket: string | null;
}

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

/** What `otpbridge console` reads from the console's launch file. */
export interface LaunchFile {
  port: number;
  url: string;
  expiresAt: number;
}

/** The console's launch file (0600): the single-use login URL the daemon wrote last. */
export function consoleLaunchPath(dataDir: string): string {
  return join(dataDir, "console-launch.json");
}
