/** Shared set-up of the stations store tests: a throw-away cluster, a database, stores on it. */
import pg from "pg";
import { StationStore, type StationStoreOptions } from "../../../src/store/stations/index.js";
import { startCluster, type ClusterOptions, type PgCluster } from "../../fixtures/postgres.js";

/** Cheap scrypt cost (the minimum SeedVault accepts); production batches use 2^17. */
export const TEST_SCRYPT = { N: 2 ** 14, r: 8, p: 1 };
export const PASSPHRASE = "correct horse battery staple";

export interface TestDb {
  cluster: PgCluster;
  url: string;
  /** Superuser connections for checks and for moving leases' clocks (a pool: it outlives server restarts). */
  admin: pg.Pool;
  stores: StationStore[];
  store(station: string, options?: Partial<StationStoreOptions>): Promise<StationStore>;
  /** Makes every running lease of these items expire now (as if their station had gone silent). */
  expire(itemIds: number[]): Promise<void>;
  close(): Promise<void>;
}

export async function testDb(options: ClusterOptions = {}): Promise<TestDb> {
  const cluster = await startCluster(options);
  const setup = new pg.Client({ connectionString: cluster.url() });
  await setup.connect();
  await setup.query("CREATE DATABASE otpb");
  await setup.end();
  const url = cluster.url("otpb");
  const admin = new pg.Pool({ connectionString: url, max: 2 });
  admin.on("error", () => undefined);
  const db: TestDb = {
    cluster,
    url,
    admin,
    stores: [],
    async store(station, extra = {}) {
      const store = await StationStore.connect({ url, station, leaseMs: 10_000, timeoutMs: 2_000, ...extra });
      db.stores.push(store);
      return store;
    },
    async expire(itemIds) {
      await admin.query("UPDATE otpb_items SET lease_expires_at = now() - interval '1 second' WHERE id = ANY ($1) AND lease_expires_at IS NOT NULL", [itemIds]);
    },
    async close() {
      for (const store of db.stores) await store.close();
      await admin.end().catch(() => undefined);
      cluster.destroy();
    },
  };
  return db;
}

/**
 * A started shared batch of `seeds` (labels `${prefix}-N@example.com`), its first `commit` items
 * committed to serials `${prefix}1`... through the real claim path.
 */
export async function committedSharedBatch(store: StationStore, seeds: Uint8Array[], commit: number, prefix: string, passphrase = PASSPHRASE): Promise<number> {
  const record = await store.createBatch(
    { name: prefix, items: seeds.map((seed, i) => ({ seed, label: `${prefix}-${i + 1}@example.com` })) },
    passphrase,
    TEST_SCRYPT,
  );
  await store.setBatchState(record.id, "start");
  const batch = await store.openBatch(record.id, passphrase);
  try {
    for (let i = 1; i <= commit; i++) {
      const claim = await batch.claim({ serial: `${prefix}${i}` });
      if (!("lease" in claim)) throw new Error(`expected a claim, got ${claim.outcome}`);
      claim.seed.fill(0);
      await batch.beginWrite(claim.lease);
      await batch.markBurned(claim.lease);
      await batch.markVerified(claim.lease, { checked: true });
      await batch.commit(claim.lease);
    }
  } finally {
    batch.close();
  }
  return record.id;
}
