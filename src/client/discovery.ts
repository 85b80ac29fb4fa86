/**
 * Finding the daemon that serves a data directory: its discovery file (src/lib/daemon-paths.ts),
 * written once it listens and removed when it stops. A file left behind by a daemon that was killed
 * names a dead pid: it is ignored, as is a file that cannot be read or parsed.
 */
import { existsSync, readFileSync } from "node:fs";
import { discoveryFilePath, type DaemonDiscovery } from "../lib/daemon-paths.js";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The running daemon of `dataDir`, or undefined when none runs there. */
export function findDaemon(dataDir: string): DaemonDiscovery | undefined {
  let record: Partial<DaemonDiscovery>;
  try {
    record = JSON.parse(readFileSync(discoveryFilePath(dataDir), "utf8")) as Partial<DaemonDiscovery>;
  } catch {
    return undefined;
  }
  const { pid, port, socket } = record;
  if (!Number.isSafeInteger(pid) || pid! <= 0 || !Number.isSafeInteger(port) || port! <= 0 || port! > 65535) return undefined;
  if (!alive(pid!)) return undefined;
  return { pid: pid!, port: port!, socket: typeof socket === "string" && existsSync(socket) ? socket : null };
}
