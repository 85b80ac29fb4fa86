/**
 * Claims per second against one PostgreSQL server (issue #14): the stations' claim (one transaction:
 * batch check, the token's own item, conflicts, the next pending item with FOR UPDATE SKIP LOCKED,
 * bind under a lease and fence, event, NOTIFY, seed decrypted) with 1 claimer and with 16 concurrent
 * claimers spread over 4 stations. Its peer, measured in the same run on the same server: the same
 * 16 claimers taking the next pending item with a plain FOR UPDATE (no SKIP LOCKED), which makes
 * every claimer queue on the one row at the head of the batch.
 *
 * The peer's claimers wait on each other's row locks, so the stores here wait up to 2 minutes for a
 * statement rather than the product's 5 s.
 * Starts its own throw-away cluster (bench/pg-server.ts) unless given `--store URL`.
 * Usage: npm run bench:claims [-- --quick] [-- --store postgres://...]
 */
import { loadavg } from "node:os";
import { StationStore, type SharedBatch } from "../src/store/stations/index.js";
import { withServer } from "./pg-server.js";

const quick = process.argv.includes("--quick");
const ITEMS = quick ? 1_500 : 6_000;
const ROUNDS = quick ? 1 : 3;
const PASSPHRASE = "bench passphrase";
const SCRYPT = { N: 2 ** 14, r: 8, p: 1 };

type Claimer = (batch: SharedBatch, store: StationStore, serial: string) => Promise<boolean>;

/** The product's claim. */
const skipLocked: Claimer = async (batch, _store, serial) => {
  const result = await batch.claim({ serial });
  if (!("seed" in result)) return false;
  result.seed.fill(0);
  return true;
};

/**
 * The peer: the claim's statements in the same order and number (batch check, the token's own item,
 * conflicts, next pending, bind, event with NOTIFY), but the next pending row is locked with a plain
 * FOR UPDATE. Under READ COMMITTED a claimer that waited on a row another claimer took finds it no
 * longer pending and gets no row: a miss, and it asks again. (It skips the seed's decryption, a few
 * microseconds, which only favours the peer.)
 */
const plainForUpdate: Claimer = async (batch, store, serial) =>
  store.tx("claim without SKIP LOCKED", async (db) => {
    await db.query("SELECT state FROM otpb_batches WHERE id = $1", [batch.batchId]);
    await db.query("SELECT * FROM otpb_items WHERE batch_id = $1 AND serial = $2 AND state <> 'superseded' FOR UPDATE", [batch.batchId, serial]);
    await db.query(
      `SELECT id FROM otpb_items WHERE serial = $1 AND batch_id <> $2
       AND state IN ('claimed', 'burned', 'verified', 'committed', 'needs-check') FOR UPDATE`,
      [serial, batch.batchId],
    );
    const { rows } = await db.query<{ id: number }>("SELECT * FROM otpb_items WHERE batch_id = $1 AND state = 'pending' ORDER BY position LIMIT 1 FOR UPDATE", [
      batch.batchId,
    ]);
    if (rows[0] === undefined) return false;
    await db.query(
      `UPDATE otpb_items SET serial = $2, state = 'claimed', station = $3, session = $4, fence = nextval('otpb_fence'),
              lease_expires_at = now() + interval '15 seconds', attempts = attempts + 1, claimed_at = now(),
              updated_at = now()
       WHERE id = $1 RETURNING *`,
      [rows[0].id, serial, store.station, store.session],
    );
    await db.query(
      `WITH e AS (INSERT INTO otpb_events (batch_id, item_id, station, kind, detail) VALUES ($1, $2, $3, 'item.claimed', '{}') RETURNING id)
       SELECT pg_notify('otpb_progress', '{}') FROM e`,
      [batch.batchId, rows[0].id, store.station],
    );
    return true;
  });

async function measure(stores: StationStore[], claimers: number, claim: Claimer, label: string): Promise<number> {
  const record = await stores[0]!.createBatch({ name: label, count: ITEMS }, PASSPHRASE, SCRYPT);
  await stores[0]!.setBatchState(record.id, "start");
  const batches = await Promise.all(stores.map((s) => s.openBatch(record.id, PASSPHRASE)));
  let serial = 0;
  let claimed = 0;
  let misses = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: claimers }, async (_, w) => {
      const store = stores[w % stores.length]!;
      const batch = batches[w % stores.length]!;
      while (claimed < ITEMS && misses < 100 * ITEMS) {
        const ok = await claim(batch, store, `B${record.id}-${serial++}`);
        if (ok) claimed += 1;
        else misses += 1;
        if (!ok && claim === skipLocked) return;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const b of batches) b.close();
  return claimed / seconds;
}

async function main(url: string): Promise<void> {
  const stores = await Promise.all([1, 2, 3, 4].map((n) => StationStore.connect({ url, station: `bench-${n}`, maxConnections: 4, timeoutMs: 120_000 })));
  try {
    const runs: Record<string, number[]> = { one: [], sixteen: [], plain: [] };
    for (let round = 0; round < ROUNDS; round++) {
      runs.one!.push(await measure(stores.slice(0, 1), 1, skipLocked, "1 claimer"));
      runs.sixteen!.push(await measure(stores, 16, skipLocked, "16 claimers"));
      runs.plain!.push(await measure(stores, 16, plainForUpdate, "16 claimers, plain FOR UPDATE"));
    }
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const one = median(runs.one!);
    const rows: [string, number][] = [
      ["1 claimer (SKIP LOCKED)", one],
      ["16 claimers on 4 stations (SKIP LOCKED)", median(runs.sixteen!)],
      ["16 claimers, plain FOR UPDATE (peer)", median(runs.plain!)],
    ];
    console.log(`claims per second, ${ITEMS} items per run, median of ${ROUNDS} round(s); load ${loadavg()[0]!.toFixed(2)}`);
    for (const [name, hz] of rows) {
      console.log(`${name.padEnd(44)} ${hz.toFixed(0).padStart(7)} claims/s  ${(hz / one).toFixed(2)}x one claimer`);
    }
    console.log(`SKIP LOCKED vs plain FOR UPDATE at 16 claimers: ${(median(runs.sixteen!) / median(runs.plain!)).toFixed(2)}x`);
  } finally {
    for (const s of stores) await s.close();
  }
}

await withServer(main);
