import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Journal, type JournalOptions } from "../../src/store/journal.js";

/** A fresh temporary directory; `dataDir` inside it does not exist yet (the journal creates it). */
export function tempRoot(): { root: string; dataDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "otpb-store-"));
  return { root, dataDir: join(root, "data"), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** Cheap scrypt cost for tests that open passphrase journals many times (production default is 2^17). */
export const TEST_SCRYPT = { N: 2 ** 14, r: 8, p: 1 };

export function openKeyFileJournal(dataDir: string, extra: Partial<JournalOptions> = {}): Journal {
  return Journal.open({ dataDir, key: { kind: "keyFile" }, ...extra });
}

export function sha256File(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

/** Runs a running batch of `count` generated items through claim → commit for serials S0001... */
export function burnAll(journal: Journal, batchId: number, count: number, serialPrefix = "S"): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  for (let i = 1; i <= count; i++) {
    const result = journal.claimNext(batchId, { serial: `${serialPrefix}${String(i).padStart(4, "0")}`, model: "OTPC-P2-i" });
    if (result.outcome !== "claimed") throw new Error(`expected a claim, got ${result.outcome}`);
    seeds.push(result.seed);
    journal.markBurned(result.item.id);
    journal.markVerified(result.item.id, { checked: true });
    journal.commit(result.item.id);
  }
  return seeds;
}
