/**
 * The real daemon process as one station (`daemon --store URL --shared-batch ID`), on its in-memory
 * simulated tokens and a real PostgreSQL server: it burns its tokens into the shared batch by
 * itself, an API client gets `batch.item`, `batch.progress` and `batch.stations` (every station and
 * its readers), and the shared store records the items under the daemon's station name.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "../store/stations/_cluster.js";

const missing = missingPostgres();
let db: TestDb;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  if (missing === undefined) db = await testDb();
});
afterAll(async () => {
  await daemon?.stop();
  await db?.close();
});

describe.skipIf(missing !== undefined)("the daemon as a station", () => {
  it("burns its tokens into the shared batch and reports every station to API clients", async () => {
    const owner = await db.store("owner");
    const batch = await owner.createBatch({ name: "daemon desk", count: 5 }, PASSPHRASE, TEST_SCRYPT);
    await owner.setBatchState(batch.id, "start");
    daemon = await startDaemonProcess({
      args: [
        "--simulate-tokens",
        "3",
        "--store",
        db.url,
        "--station",
        "daemon-desk",
        "--shared-batch",
        String(batch.id),
        "--batch-passphrase-env",
        "OTPB_TEST_SHARED_PASSPHRASE",
      ],
      env: { OTPB_TEST_SHARED_PASSPHRASE: PASSPHRASE, OTPBRIDGE_SIMULATE_LINK: "memory" },
    });
    const client = await RpcClient.native(daemon);
    const stations = await waitForEvent(
      client,
      "batch.stations",
      (p) => p.counts?.committed === 3 && p.stations?.some((s: any) => s.id === "daemon-desk" && s.readers.length > 0),
      20_000,
    );
    expect(stations, JSON.stringify(client.events.map((e) => e.method))).toBeDefined();
    const status = await owner.status(batch.id);
    expect(status.counts).toMatchObject({ committed: 3, pending: 2 });
    expect((await owner.items(batch.id)).filter((i) => i.state === "committed").every((i) => i.station === "daemon-desk")).toBe(true);
    const progress = (await client.call("batch.status", { batchId: batch.id })).result.progress;
    expect(progress).toMatchObject({ batchId: batch.id, total: 5, done: 3 });
    // The shared store has no one-item reburn: refused before anything is armed.
    const committed = (await owner.items(batch.id)).find((i) => i.state === "committed")!;
    expect((await client.call("batch.reburnItem", { batchId: batch.id, itemId: committed.id })).error.data.reason).toBe("BATCH_STATE");
    const joined = daemon.stderr.join("\n");
    expect(joined).not.toContain(PASSPHRASE);
    client.close();
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;
  });
});
