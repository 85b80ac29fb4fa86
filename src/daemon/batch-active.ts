/**
 * Which batch the daemon's engine drives, kept in `batch-active.json` (0600) in the data directory,
 * so that a daemon restarted after a crash goes on taking taps for it without a client having to
 * say so. The journal alone cannot tell: token.burn leaves its one-item batches "running" too.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writePrivateFileAtomic } from "../store/private-files.js";

export const ACTIVE_BATCH_FILE = "batch-active.json";

/** The batch id recorded in `dataDir`, or undefined (none, or a file that is not ours: ignored). */
export function readActiveBatch(dataDir: string): number | undefined {
  try {
    const value = (JSON.parse(readFileSync(join(dataDir, ACTIVE_BATCH_FILE), "utf8")) as { batchId?: unknown }).batchId;
    return Number.isSafeInteger(value) && (value as number) > 0 ? (value as number) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records (or, with undefined, forgets) the driven batch; the write is atomic and fsynced.
 * @throws Node's fs errors (ENOSPC...).
 */
export function writeActiveBatch(dataDir: string, batchId: number | undefined): void {
  const path = join(dataDir, ACTIVE_BATCH_FILE);
  if (batchId === undefined) rmSync(path, { force: true });
  else writePrivateFileAtomic(path, Buffer.from(JSON.stringify({ batchId })));
}
