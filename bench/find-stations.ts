/**
 * `npm run bench:find-stations`: "which token shows this code" over one shared batch of N committed
 * seeds in PostgreSQL (read, decrypted in one key stream, searched ±2 steps, the match confirmed),
 * beside its peer measured in turn in the same run: the same search over a local journal of N seeds.
 * Also measured: the shared search with the batch's key derived again for it (a fresh BatchKeyring,
 * scrypt at the production cost N = 2^17), and that derivation alone: what caching the keys for the
 * daemon's life (src/store/stations/keyring.ts) saves each search.
 *
 * The shared batch is created through the store (each seed generated and sealed as in production);
 * its items are then marked committed with one SQL UPDATE, as bench/find-fixture.ts does for the
 * journal: the claim path's round trips are not what a search reads.
 * Starts its own throw-away cluster (bench/pg-server.ts) unless given `--store URL`.
 * Usage: npm run bench:find-stations [-- --seeds 20000] [-- --runs 7] [-- --store postgres://...]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hotp, totpCounter } from "../src/crypto/index.js";
import { findOnStation, findToken, journalSeedSource } from "../src/service/find.js";
import { Journal } from "../src/store/journal.js";
import { DEFAULT_SCRYPT, SeedVault } from "../src/store/seed-vault.js";
import { BatchKeyring, StationStore } from "../src/store/stations/index.js";
import { committedJournal } from "./find-fixture.js";
import { withServer } from "./pg-server.js";

const { values } = parseArgs({
  options: { seeds: { type: "string", default: "20000" }, runs: { type: "string", default: "7" }, store: { type: "string" } },
});
const seeds = Number(values.seeds);
const runs = Number(values.runs);
const PASSPHRASE = "bench passphrase";
const TIME = 1_700_000_000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
async function timed(run: () => unknown): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

await withServer(async (url) => {
  const root = mkdtempSync(join(tmpdir(), "otpb-bench-find-stations-"));
  const store = await StationStore.connect({ url, station: "bench", register: false, timeoutMs: 120_000 });
  try {
    const record = await store.createBatch({ name: "find bench", count: seeds }, PASSPHRASE, DEFAULT_SCRYPT);
    await store.query("commit every item", "UPDATE otpb_items SET state = 'committed', serial = 'S' || id WHERE batch_id = $1", [record.id]);
    const dataDir = join(root, "data");
    const [journalBatch] = committedJournal(dataDir, [{ count: seeds, algorithm: "SHA1" }]);
    const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
    const counter = totpCounter({ time: TIME });
    const kept = new BatchKeyring(store, PASSPHRASE);
    const [shared] = (await kept.forSearch(record.id)).batches;
    const sharedCode = await shared!.withCommittedSeeds((items) => hotp("SHA1", items[seeds >> 1]!.seed, counter, 6));
    const journalCode = journal.withCommittedSeeds(journalBatch!, (items) => hotp("SHA1", items[seeds >> 1]!.seed, counter, 6));
    const noJournal = () => journalSeedSource({ sealedCommitted: () => ({ items: [], openSeed: () => undefined, openForSearch: () => undefined }) });

    const times = { journal: [] as number[], kept: [] as number[], derived: [] as number[], scrypt: [] as number[] };
    for (let run = 0; run < runs; run++) {
      times.journal.push(
        await timed(async () => {
          const { matches } = await findToken([journalSeedSource(journal)], { codes: [journalCode], time: TIME });
          if (matches.length < 1) throw new Error("the journal search found nothing");
        }),
      );
      times.kept.push(
        await timed(async () => {
          const { matches } = await findOnStation(noJournal, kept, { codes: [sharedCode], batchId: record.id, time: TIME });
          if (matches.length < 1) throw new Error("the shared search found nothing");
        }),
      );
      times.derived.push(
        await timed(async () => {
          const fresh = new BatchKeyring(store, PASSPHRASE);
          try {
            await findOnStation(noJournal, fresh, { codes: [sharedCode], batchId: record.id, time: TIME });
          } finally {
            await fresh.close();
          }
        }),
      );
      times.scrypt.push(await timed(() => SeedVault.fromPassphrase(PASSPHRASE, new Uint8Array(16).fill(run), DEFAULT_SCRYPT).destroy()));
    }
    await kept.close();
    journal.close();

    const base = median(times.journal);
    const line = (name: string, xs: number[]) => `${name.padEnd(44)} ${median(xs).toFixed(1).padStart(8)} ms  ${(median(xs) / base).toFixed(2)}× the journal`;
    console.log(`find over ${seeds} committed SHA-1 seeds, ±2 steps, median of ${runs} (load average ${loadavg()[0]!.toFixed(1)})`);
    console.log(line("journal (SQLite, the peer)", times.journal));
    console.log(line("shared batch, key kept (BatchKeyring)", times.kept));
    console.log(line("shared batch, key derived for the search", times.derived));
    console.log(line("scrypt alone (N = 2^17, r = 8, p = 1)", times.scrypt));
  } finally {
    await store.close();
    rmSync(root, { recursive: true, force: true });
  }
});
