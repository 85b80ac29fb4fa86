/**
 * The PostgreSQL server the stations benches run against: `--store URL`, or a throw-away cluster
 * of their own (test/fixtures/postgres.ts), removed however the bench ends.
 */
import pg from "pg";
import { startCluster } from "../test/fixtures/postgres.js";

export async function withServer(run: (url: string) => Promise<void>): Promise<void> {
  const i = process.argv.indexOf("--store");
  if (i >= 0) return run(process.argv[i + 1]!);
  const cluster = await startCluster();
  try {
    const admin = new pg.Client({ connectionString: cluster.url() });
    await admin.connect();
    await admin.query("CREATE DATABASE bench");
    await admin.end();
    await run(cluster.url("bench"));
  } finally {
    cluster.destroy();
  }
}
