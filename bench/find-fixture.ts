/**
 * A journal whose batches are all committed, for the find benchmarks: the batches are created through
 * the journal (each seed generated and sealed as in production), then every item is marked committed
 * to a serial of its own with one SQL UPDATE per batch. Going through claim → burn → verify → commit
 * would be four fsynced transactions a seed: 400,000 of them for 100,000 seeds, minutes of a disk's
 * time that the search never sees.
 */
import Database from "better-sqlite3";
import { join } from "node:path";
import { Journal } from "../src/store/journal.js";
import type { TotpAlgorithm } from "../src/store/types.js";

export interface FixtureBatch {
  count: number;
  algorithm: TotpAlgorithm;
}

/** Creates the journal (key file mode) in `dataDir` with `batches`, all committed; returns their ids. */
export function committedJournal(dataDir: string, batches: readonly FixtureBatch[]): number[] {
  const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
  const ids = batches.map((b, i) => journal.createBatch({ name: `find bench ${i + 1}`, count: b.count, defaults: { algorithm: b.algorithm } }).id);
  journal.close();
  const db = new Database(join(dataDir, "journal.sqlite"));
  const now = Date.now();
  const commit = db.prepare(
    `UPDATE items SET state = 'committed', serial = printf('B%dT%07d', batch_id, position), model = 'OTPC-P2-i',
            attempts = 1, claimed_at = ?, burned_at = ?, verified_at = ?, committed_at = ?, updated_at = ?
     WHERE batch_id = ?`,
  );
  for (const id of ids) commit.run(now, now, now, now, now, id);
  db.close();
  return ids;
}
