/**
 * The stations' shared store against a real PostgreSQL server (a throw-away cluster): claims under
 * leases and fences, the sweeper's two outcomes, concurrent claimers, passphrase checks, the
 * least-privilege role of docs/STATIONS.md, TLS, and no plaintext seed in a dump of the database.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encode as base32 } from "hi-base32";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtpbridgeError } from "../../../src/lib/errors.js";
import { StationStore, type SharedBatch, type SharedClaim, type SharedClaimResult } from "../../../src/store/stations/index.js";
import { rejection } from "../../fixtures/errors.js";
import { missingPostgres } from "../../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "./_cluster.js";

const missing = missingPostgres();
let db: TestDb;

beforeAll(async () => {
  if (missing === undefined) db = await testDb({ tls: true });
});
afterAll(async () => {
  await db?.close();
});

function claimed(result: SharedClaimResult): SharedClaim {
  if (!("seed" in result)) throw new Error(`expected a seed, got ${result.outcome}`);
  return result;
}

async function runningBatch(store: StationStore, count: number, name = "desk rollout"): Promise<SharedBatch> {
  const record = await store.createBatch({ name, issuer: "Example", count }, PASSPHRASE, TEST_SCRYPT);
  await store.setBatchState(record.id, "start");
  return store.openBatch(record.id, PASSPHRASE);
}

async function burn(batch: SharedBatch, claim: SharedClaim): Promise<void> {
  await batch.beginWrite(claim.lease);
  await batch.markBurned(claim.lease);
  await batch.markVerified(claim.lease, { checked: true });
  await batch.commit(claim.lease);
}

describe.skipIf(missing !== undefined)("stations store on PostgreSQL", () => {
  it("claims, burns and commits under a fence, and exports the seed the claim handed out", async () => {
    const store = await db.store("desk-1");
    const batch = await runningBatch(store, 3);
    const first = claimed(await batch.claim({ serial: "60000001", model: "C301-i", reader: "Reader 1" }));
    expect(first.outcome).toBe("claimed");
    expect(first.item).toMatchObject({ position: 0, state: "claimed", station: "desk-1", reader: "Reader 1", writeStartedAt: null });
    const seedHex = Buffer.from(first.seed).toString("hex");
    await burn(batch, first);
    const again = await batch.claim({ serial: "60000001" });
    expect(again.outcome).toBe("already-committed");
    const exported = await batch.withCommittedSeeds((items) => items.map((i) => [i.serial, Buffer.from(i.seed).toString("hex")]));
    expect(exported).toEqual([["60000001", seedHex]]);
    const status = await store.status(batch.batchId);
    expect(status.counts).toMatchObject({ committed: 1, pending: 2 });
    expect(status.stations.map((s) => [s.id, s.committed])).toEqual([["desk-1", 1]]);
    batch.close();
  });

  it("stations connecting together to an empty database create the schema once", async () => {
    await db.admin.query("CREATE DATABASE fresh");
    const url = db.url.replace("/otpb?", "/fresh?");
    const stores = await Promise.all([1, 2, 3, 4, 5, 6].map((n) => db.store(`fresh-${n}`, { url })));
    const { rows } = await stores[0]!.query<{ version: number }>("read", "SELECT version FROM otpb_schema");
    expect(rows).toEqual([{ version: 1 }]);
  });

  it("refuses a wrong passphrase before any seed is read", async () => {
    const store = await db.store("desk-2");
    const record = await store.createBatch({ name: "locked", count: 2 }, PASSPHRASE, TEST_SCRYPT);
    const error = await rejection(store.openBatch(record.id, "Correct horse battery staple"));
    expect(error.reason).toBe("WRONG_PASSPHRASE");
    expect(error.message).not.toContain("horse");
  });

  it("a station whose lease was taken over cannot update its stale item: the fence refuses it", async () => {
    const a = await db.store("desk-a");
    const b = await db.store("desk-b");
    const batchA = await runningBatch(a, 2);
    const batchB = await b.openBatch(batchA.batchId, PASSPHRASE);
    const stale = claimed(await batchA.claim({ serial: "61000001" }));
    await batchA.beginWrite(stale.lease);

    // While A's lease runs, B may not take the token's item.
    expect((await batchB.claim({ serial: "61000001" })).outcome).toBe("leased-elsewhere");
    await db.expire([stale.item.id]);
    const taken = claimed(await batchB.claim({ serial: "61000001" }));
    expect(taken.outcome).toBe("resumed");
    expect(taken.item.id).toBe(stale.item.id);
    expect(taken.lease.fence).toBeGreaterThan(stale.lease.fence);
    expect(Buffer.from(taken.seed).equals(Buffer.from(stale.seed))).toBe(true);

    for (const step of [() => batchA.markBurned(stale.lease), () => batchA.commit(stale.lease), () => batchA.fail(stale.lease, "x")]) {
      const error = await rejection(step());
      expect(error.reason).toBe("LEASE_LOST");
    }
    await batchB.beginWrite(taken.lease);
    await batchB.markBurned(taken.lease);
    await batchB.markVerified(taken.lease, { checked: true });
    const committed = await batchB.commit(taken.lease);
    expect(committed).toMatchObject({ state: "committed", station: "desk-b", fence: taken.lease.fence });
  });

  it("the sweeper returns an unwritten expired claim to pending and sends a written one to needs-check", async () => {
    const store = await db.store("desk-3");
    const batch = await runningBatch(store, 4);
    const unwritten = claimed(await batch.claim({ serial: "62000001" }));
    const written = claimed(await batch.claim({ serial: "62000002" }));
    await batch.beginWrite(written.lease);
    const burned = claimed(await batch.claim({ serial: "62000003" }));
    await batch.beginWrite(burned.lease);
    await batch.markBurned(burned.lease);
    await db.expire([unwritten.item.id, written.item.id, burned.item.id]);

    const sweep = await store.sweep();
    expect(sweep?.returned).toEqual([unwritten.item.id]);
    expect([...(sweep?.needsCheck ?? [])].sort()).toEqual([written.item.id, burned.item.id].sort());
    const items = new Map((await store.items(batch.batchId)).map((i) => [i.id, i]));
    expect(items.get(unwritten.item.id)).toMatchObject({ state: "pending", serial: null, station: null });
    expect(items.get(written.item.id)).toMatchObject({ state: "needs-check", serial: "62000002" });
    expect(items.get(burned.item.id)).toMatchObject({ state: "needs-check", serial: "62000003" });
    expect((await rejection(batch.markBurned(written.lease))).reason).toBe("LEASE_LOST");

    // needs-check is settled by tapping that serial on any station: same item, same seed.
    const other = await (await db.store("desk-4")).openBatch(batch.batchId, PASSPHRASE);
    const resumed = claimed(await other.claim({ serial: "62000002" }));
    expect(resumed).toMatchObject({ outcome: "resumed", item: { id: written.item.id } });
    expect(Buffer.from(resumed.seed).equals(Buffer.from(written.seed))).toBe(true);
    expect(resumed.item.writeStartedAt).not.toBeNull();
    // Its lease expiring again sends it back to needs-check, never to pending: it was written once.
    await db.expire([written.item.id]);
    expect((await store.sweep())?.needsCheck).toEqual([written.item.id]);
    // A re-tap of the unwritten one's token gets a fresh claim, under a new fence.
    const fresh = claimed(await batch.claim({ serial: "62000001" }));
    expect(fresh.lease.fence).toBeGreaterThan(unwritten.lease.fence);
  });

  it("one sweeper at a time: while another holds the advisory lock, sweep() does nothing", async () => {
    const store = await db.store("desk-5");
    const batch = await runningBatch(store, 1);
    const claim = claimed(await batch.claim({ serial: "63000001" }));
    await db.expire([claim.item.id]);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query("BEGIN");
    await holder.query("SELECT pg_advisory_xact_lock(hashtext('otpbridge.stations.sweep'))");
    expect(await store.sweep()).toBeNull();
    expect((await store.items(batch.batchId))[0]?.state).toBe("claimed");
    await holder.query("COMMIT");
    await holder.end();
    expect((await store.sweep())?.returned).toContain(claim.item.id);
  });

  it("16 concurrent claimers on 4 stations never get the same item, and take every item once", async () => {
    const stations = await Promise.all([1, 2, 3, 4].map((n) => db.store(`rush-${n}`, { maxConnections: 4 })));
    const count = 200;
    const first = await runningBatch(stations[0]!, count, "rush");
    const batches = [first, ...(await Promise.all(stations.slice(1).map((s) => s.openBatch(first.batchId, PASSPHRASE))))];
    const taken: { itemId: number; fence: number; serial: string }[] = [];
    let next = 0;
    const claimer = async (worker: number): Promise<void> => {
      const batch = batches[worker % 4]!;
      for (;;) {
        const serial = `7${String(next++).padStart(7, "0")}`;
        const result = await batch.claim({ serial });
        if (result.outcome === "exhausted") return;
        const claim = claimed(result);
        claim.seed.fill(0);
        taken.push({ itemId: claim.item.id, fence: claim.lease.fence, serial });
      }
    };
    await Promise.all(Array.from({ length: 16 }, (_, w) => claimer(w)));
    expect(taken).toHaveLength(count);
    expect(new Set(taken.map((t) => t.itemId)).size).toBe(count);
    expect(new Set(taken.map((t) => t.fence)).size).toBe(count);
    const items = await stations[0]!.items(first.batchId);
    expect(items.every((i) => i.state === "claimed")).toBe(true);
    expect(new Map(items.map((i) => [i.id, i.serial]))).toEqual(new Map(taken.map((t) => [t.itemId, t.serial])));
  });

  it("a station registered again under its name gets LEASE_LOST on the old process's heartbeat", async () => {
    const old = await db.store("desk-6");
    await old.heartbeat([{ name: "Reader 1", activity: "idle" }]);
    await db.store("desk-6");
    expect((await rejection(old.heartbeat([]))).reason).toBe("LEASE_LOST");
  });

  it("the least-privilege role of docs/STATIONS.md can run a batch, and cannot delete or alter", async () => {
    const doc = readFileSync(join(import.meta.dirname, "../../../docs/STATIONS.md"), "utf8");
    const grants = /## Roles[\s\S]*?```sql\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(grants).toBeDefined();
    await db.admin.query(grants!);
    const url = db.url.replace("postgres@", "otpbridge_station:change%20me@");
    const station = await db.store("desk-lp", { url });
    const batch = await runningBatch(station, 2, "least privilege");
    const claim = claimed(await batch.claim({ serial: "64000001" }));
    await burn(batch, claim);
    await station.heartbeat([]);
    expect(await station.sweep()).not.toBeNull();
    const direct = new pg.Client({ connectionString: url });
    await direct.connect();
    for (const sql of ["DELETE FROM otpb_items", "TRUNCATE otpb_events", "DROP TABLE otpb_items", "ALTER TABLE otpb_items ADD COLUMN x int"]) {
      await expect(direct.query(sql)).rejects.toMatchObject({ code: "42501" });
    }
    await direct.end();
  });

  it("connects over TLS with the server's CA, and refuses an untrusted certificate", async () => {
    const tlsUrl = `postgresql://postgres@localhost:${db.cluster.port}/otpb`;
    const store = await db.store("desk-tls", { url: tlsUrl, tls: { ca: db.cluster.caPem } });
    const { rows } = await store.query<{ ssl: boolean }>("check", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    expect(rows[0]?.ssl).toBe(true);
    const untrusted = await rejection(StationStore.connect({ url: tlsUrl, station: "desk-tls-2", tls: {}, timeoutMs: 2_000 }));
    expect((untrusted as OtpbridgeError | Error).message).toMatch(/certificate/i);
    // The libpq way, all in the URL (what --store takes): verify-full against a CA file.
    const ca = join(db.cluster.dir, "data", "server.crt");
    const byUrl = await db.store("desk-tls-url", { url: `${tlsUrl}?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}` });
    const viaUrl = await byUrl.query<{ ssl: boolean }>("check", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    expect(viaUrl.rows[0]?.ssl).toBe(true);
  });

  it("the database holds no seed in plaintext (pg_dump of everything, in every encoding)", async () => {
    const store = await db.store("desk-dump");
    const batch = await runningBatch(store, 5, "dump");
    const seeds: Buffer[] = [];
    for (let i = 0; i < 3; i++) {
      const claim = claimed(await batch.claim({ serial: `6500000${i}` }));
      seeds.push(Buffer.from(claim.seed));
      claim.seed.fill(0);
      await burn(batch, claim);
    }
    await batch.withCommittedSeeds((items) => expect(items).toHaveLength(3));
    const dump = execFileSync(join(db.cluster.bin, "pg_dump"), ["--dbname", db.url, "--inserts"], { maxBuffer: 256 * 1024 * 1024 });
    expect(dump.includes("otpb_items")).toBe(true);
    for (const seed of seeds) {
      const hex = seed.toString("hex");
      const forms = [
        seed,
        Buffer.from(hex),
        Buffer.from(hex.toUpperCase()),
        Buffer.from(base32(seed).replace(/=+$/, "")),
        Buffer.from(seed.toString("base64").replace(/=+$/, "")),
      ];
      for (const form of forms) expect(dump.includes(form)).toBe(false);
    }
    expect(dump.includes(Buffer.from(PASSPHRASE))).toBe(false);
  });
});
