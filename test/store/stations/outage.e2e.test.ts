/**
 * Live progress and a server that goes away: LISTEN/NOTIFY on a dedicated connection, polling while
 * it is down; STORE_UNAVAILABLE, `unavailable` and `available` around a stopped server; idle pooled
 * connections that die with the server do not crash the process (the pool has an error handler).
 */
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProgressFeed, type SharedBatchStatus } from "../../../src/store/stations/index.js";
import { rejection } from "../../fixtures/errors.js";
import { missingPostgres } from "../../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "./_cluster.js";

const missing = missingPostgres();
let db: TestDb;

beforeAll(async () => {
  if (missing === undefined) db = await testDb();
});
afterAll(async () => {
  await db?.close();
});

/** Waits until `seen` holds a status matching `test` (the feed pushes them; no fixed delay). */
async function until(seen: SharedBatchStatus[], test: (s: SharedBatchStatus) => boolean): Promise<SharedBatchStatus> {
  for (let i = 0; i < 400; i++) {
    const hit = seen.find(test);
    if (hit !== undefined) return hit;
    await sleep(25);
  }
  throw new Error(`no matching status among ${seen.length}: ${JSON.stringify(seen.map((s) => s.counts))}`);
}

describe.skipIf(missing !== undefined)("stations store: progress and outages", () => {
  it("every station sees the others' claims and readers through LISTEN, then by polling while the server is away", async () => {
    const watcher = await db.store("watch");
    const worker = await db.store("work");
    const record = await worker.createBatch({ name: "live", count: 4 }, PASSPHRASE, TEST_SCRYPT);
    await worker.setBatchState(record.id, "start");
    const batch = await worker.openBatch(record.id, PASSPHRASE);
    const seen: SharedBatchStatus[] = [];
    const feed = await ProgressFeed.start(watcher, record.id, (s) => seen.push(s), { pollMs: 200, debounceMs: 20 });
    expect(feed.mode).toBe("listen");

    await worker.heartbeat(
      [
        { name: "Reader 1", activity: "idle" },
        { name: "Reader 2", activity: "burning", serial: "66000001" },
      ],
      record.id,
    );
    const claim = await batch.claim({ serial: "66000001", reader: "Reader 2" });
    if (!("seed" in claim)) throw new Error(claim.outcome);
    claim.seed.fill(0);
    const live = await until(seen, (s) => s.counts.claimed === 1);
    const station = live.stations.find((s) => s.id === "work");
    expect(station).toMatchObject({ alive: true, leased: 1 });
    expect(station?.readers).toEqual([
      { name: "Reader 1", activity: "idle" },
      { name: "Reader 2", activity: "burning", serial: "66000001" },
    ]);

    // The server goes away: operations fail plainly, the store says it is unavailable, the feed polls.
    const unavailable = once(worker, "unavailable");
    db.cluster.stop("fast");
    const error = await rejection(batch.claim({ serial: "66000002" }));
    expect(error.reason).toBe("STORE_UNAVAILABLE");
    expect(error.message).toMatch(/did not answer/);
    await unavailable;
    expect(worker.available).toBe(false);
    for (let i = 0; i < 200 && feed.mode !== "poll"; i++) await sleep(25);
    expect(feed.mode).toBe("poll");

    // Back again: the next round trip succeeds, the store says so, and the feed listens again.
    db.cluster.start();
    const available = once(worker, "available");
    let back = false;
    for (let i = 0; i < 100 && !back; i++) {
      back = await batch.claim({ serial: "66000002" }).then(
        (r) => {
          if (!("seed" in r)) return false;
          r.seed.fill(0);
          return true;
        },
        () => false,
      );
      if (!back) await sleep(100);
    }
    expect(back).toBe(true);
    await available;
    await until(seen, (s) => s.counts.claimed === 2);
    for (let i = 0; i < 200 && feed.mode !== "listen"; i++) await sleep(25);
    expect(feed.mode).toBe("listen");
    await feed.close();
    batch.close();
  });

  it("idle pooled connections killed with the server raise no unhandled error", async () => {
    const store = await db.store("idle");
    await Promise.all([1, 2, 3].map(() => store.query("warm", "SELECT pg_sleep(0.05)")));
    const lost = once(store, "unavailable");
    db.cluster.stop("immediate");
    await lost;
    db.cluster.start();
    for (let i = 0; i < 100; i++) {
      if (
        await store.query("probe", "SELECT 1").then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(100);
    }
    expect(store.available).toBe(true);
  });
});
