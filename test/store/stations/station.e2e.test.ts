/**
 * A station through a server outage (real PostgreSQL, stopped and started): claims refused while it
 * is away, a burn under way finishing into the local outbox, the outbox replayed when the server is
 * back (also after the lease ran out and the sweeper moved the item to needs-check, and by a station
 * restarted on the same outbox, but only by a station of the same batch), and a claim whose write
 * never started going back to pending.
 */
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Outbox, Station, type StationStore } from "../../../src/store/stations/index.js";
import { rejection } from "../../fixtures/errors.js";
import { missingPostgres } from "../../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "./_cluster.js";

const missing = missingPostgres();
let db: TestDb;
let dataDir: string;

beforeAll(async () => {
  if (missing === undefined) db = await testDb();
  dataDir = mkdtempSync(join(tmpdir(), "otpb-station-"));
});
afterAll(async () => {
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function station(name: string, batchId?: number): Promise<{ station: Station; batchId: number }> {
  const store = await db.store(name);
  let id = batchId;
  if (id === undefined) {
    id = (await store.createBatch({ name: `outage ${name}`, count: 3 }, PASSPHRASE, TEST_SCRYPT)).id;
    await store.setBatchState(id, "start");
  }
  const outbox = Outbox.open(join(dataDir, name));
  return { station: new Station({ store, batch: await store.openBatch(id, PASSPHRASE), outbox }), batchId: id };
}

/** Waits until a round trip to the (restarted) server succeeds. */
async function reachable(store: StationStore): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (
      await store.query("probe", "SELECT 1").then(
        () => true,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error("the server did not come back");
}

async function claimAndWrite(s: Station, serial: string): Promise<number> {
  const claim = await s.claimNext({ serial });
  if (!("seed" in claim)) throw new Error(claim.outcome);
  claim.seed.fill(0);
  await s.beginWrite(claim.item.id);
  return claim.item.id;
}

describe.skipIf(missing !== undefined)("a station while its server is away", () => {
  it("finishes the burn under way into the outbox, refuses new taps, and replays when the server is back", async () => {
    const { station: s, batchId } = await station("desk-out-1");
    const itemId = await claimAndWrite(s, "67000001");
    db.cluster.stop("fast");
    await s.markBurned(itemId);
    await s.markVerified(itemId);
    await s.commit(itemId);
    expect(s.unsent().map((e) => e.step)).toEqual(["burned", "verified", "committed"]);
    expect(s.taking).toBe(false);
    expect((await rejection(s.claimNext({ serial: "67000002" }))).reason).toBe("STORE_UNAVAILABLE");

    db.cluster.start();
    await reachable(s.store);
    expect(s.taking).toBe(true);
    await s.flush();
    expect(s.unsent()).toEqual([]);
    const item = (await s.store.items(batchId)).find((i) => i.id === itemId);
    expect(item).toMatchObject({ state: "committed", serial: "67000001" });
    const outbox = statSync(join(dataDir, "desk-out-1", "stations-outbox.sqlite"));
    expect(outbox.mode & 0o777).toBe(0o600);
  });

  it("a replay that runs while a burn is under way leaves that burn's steps to it (found by the crash test)", async () => {
    const { station: s, batchId } = await station("desk-out-race");
    const refused: unknown[] = [];
    s.on("outbox-refused", (e) => refused.push(e));
    const itemId = await claimAndWrite(s, "67000041");
    // The heartbeat's replay and the burn's own step, at the same moment.
    await Promise.all([s.markBurned(itemId), s.flush()]);
    await Promise.all([s.markVerified(itemId), s.flush()]);
    await Promise.all([s.commit(itemId), s.flush()]);
    expect(refused).toEqual([]);
    expect(s.unsent()).toEqual([]);
    expect((await s.store.items(batchId)).find((i) => i.id === itemId)).toMatchObject({ state: "committed" });
  });

  it("settles a needs-check item from the outbox of the restarted station after its lease ran out", async () => {
    const first = await station("desk-out-2");
    const itemId = await claimAndWrite(first.station, "67000011");
    await first.station.markBurned(itemId);
    db.cluster.stop("immediate");
    await first.station.markVerified(itemId);
    await first.station.commit(itemId);
    first.station.close();
    db.cluster.start();
    await reachable(first.station.store);
    await db.expire([itemId]);
    expect((await first.station.store.sweep())?.needsCheck).toEqual([itemId]);

    // The station process is replaced (as after a crash): the new one finds the steps in the outbox.
    const restarted = await station("desk-out-2", first.batchId);
    expect(restarted.station.unsent().map((e) => e.step)).toEqual(["verified", "committed"]);
    await restarted.station.flush();
    expect(restarted.station.unsent()).toEqual([]);
    const item = (await restarted.station.store.items(first.batchId)).find((i) => i.id === itemId);
    expect(item).toMatchObject({ state: "committed", serial: "67000011" });
  });

  it("a station on another batch leaves the first batch's unsent steps in the outbox, for a station of that batch", async () => {
    const first = await station("desk-out-5");
    const itemId = await claimAndWrite(first.station, "67000051");
    db.cluster.stop("fast");
    await first.station.markBurned(itemId);
    await first.station.markVerified(itemId);
    await first.station.commit(itemId);
    first.station.close();
    db.cluster.start();
    await reachable(first.station.store);

    // The same machine now works on another batch: those fences and that batch are not its to settle.
    const other = await station("desk-out-5");
    const refused: unknown[] = [];
    other.station.on("outbox-refused", (e) => refused.push(e));
    expect(other.station.unsent()).toEqual([]);
    await other.station.flush();
    expect(refused).toEqual([]);
    expect((await other.station.store.items(first.batchId)).find((i) => i.id === itemId)?.state).toBe("claimed");

    const back = await station("desk-out-5", first.batchId);
    expect(back.station.unsent().map((e) => e.step)).toEqual(["burned", "verified", "committed"]);
    await back.station.flush();
    expect(back.station.unsent()).toEqual([]);
    expect((await back.station.store.items(first.batchId)).find((i) => i.id === itemId)).toMatchObject({ state: "committed", serial: "67000051" });
  });

  it("a claim whose write could not be announced burns nothing and goes back to pending", async () => {
    const { station: s, batchId } = await station("desk-out-3");
    const claim = await s.claimNext({ serial: "67000021" });
    if (!("seed" in claim)) throw new Error(claim.outcome);
    claim.seed.fill(0);
    db.cluster.stop("fast");
    expect((await rejection(s.beginWrite(claim.item.id))).reason).toBe("STORE_UNAVAILABLE");
    db.cluster.start();
    await reachable(s.store);
    await db.expire([claim.item.id]);
    expect((await s.store.sweep())?.returned).toEqual([claim.item.id]);
    expect((await s.store.items(batchId)).find((i) => i.id === claim.item.id)).toMatchObject({ state: "pending", serial: null });
  });

  it("an outbox commit for an item another station has since resumed is refused, and the other's record stands", async () => {
    const a = await station("desk-out-4");
    const itemId = await claimAndWrite(a.station, "67000031");
    db.cluster.stop("fast");
    await a.station.markBurned(itemId);
    await a.station.fail(itemId, "the token refused the seed");
    a.station.close();
    db.cluster.start();
    await reachable(a.station.store);
    await db.expire([itemId]);
    await a.station.store.sweep();
    const b = await station("desk-out-5", a.batchId);
    const resumed = await b.station.claimNext({ serial: "67000031" });
    expect(resumed.outcome).toBe("resumed");
    // Station A comes back (a new process on the same outbox) and replays its failure: refused.
    const again = await station("desk-out-4", a.batchId);
    const refused: unknown[] = [];
    again.station.on("outbox-refused", (e) => refused.push(e));
    await again.station.flush();
    expect(again.station.unsent()).toEqual([]);
    expect(refused).toEqual([{ itemId, step: "failed", reason: "LEASE_LOST" }]);
    expect((await a.station.store.items(a.batchId)).find((i) => i.id === itemId)).toMatchObject({ state: "claimed", station: "desk-out-5" });
  });
});
