/**
 * The API of a real daemon process started as a station with no batch to join (its configuration
 * file names the store, the station and the passphrase's file), on its in-memory simulated tokens
 * and a real PostgreSQL server: its batches are the shared store's.
 * batch.list and batch.create work there (sealed under the daemon's passphrase), batch.start joins
 * a batch and later moves the station to another one (the first goes on for the other stations),
 * batch.status reads a batch the station does not work on, and batch.export and batch.checkCode
 * read the sealed seeds. A batch under another passphrase is refused and the station stays put. The
 * CLI on the station's data directory goes through it: `batch list` and `batch status` with stations.
 * A one-off burn (token.burn) goes to the local journal, checked there by journal.checkCode, and is
 * refused for a token that holds a shared batch's seed.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as OTPAuth from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "../store/stations/_cluster.js";

const missing = missingPostgres();
let db: TestDb;
let daemon: DaemonProcess | undefined;
const config = mkdtempSync(join(tmpdir(), "otpb-station-config-"));

beforeAll(async () => {
  if (missing === undefined) db = await testDb();
});
afterAll(async () => {
  await daemon?.stop();
  await db?.close();
  rmSync(config, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)("the API of a daemon started with --store", () => {
  it("creates, lists, joins, exports and checks the shared store's batches", async () => {
    const owner = await db.store("owner");
    const other = await owner.createBatch({ name: "desk two's batch", count: 5 }, PASSPHRASE, TEST_SCRYPT);
    await owner.setBatchState(other.id, "start");
    const foreign = await owner.createBatch({ name: "another team's", count: 1 }, "another passphrase", TEST_SCRYPT);
    // The station's settings from its configuration file, as a service install would run it.
    writeFileSync(join(config, "passphrase.txt"), `${PASSPHRASE}\n`, { mode: 0o600 });
    writeFileSync(join(config, "config.toml"), `store = "${db.url}"\nstation = "api-desk"\nbatch-passphrase-file = "passphrase.txt"\n`);
    daemon = await startDaemonProcess({
      args: ["--simulate-tokens", "4", "--config", join(config, "config.toml")],
      env: { OTPBRIDGE_SIMULATE_LINK: "memory" },
    });
    const client = await RpcClient.native(daemon);

    // A one-off burn before any batch runs: the fourth token, held by this client's session for the
    // whole test (the batch engine leaves it alone), recorded in the local journal and checked there.
    const held = (await client.call("device.acquire", { id: "pcsc:Simulated Reader 4", previous: null })).result.session;
    const oneOff = (await client.call("token.burn", { session: held })).result;
    expect(oneOff.journal).toMatchObject({ state: "committed" });
    const local = (await client.call("journal.checkCode", { batchId: oneOff.journal.batchId, itemId: oneOff.journal.itemId, code: oneOff.codes.current }))
      .result;
    expect(local).toMatchObject({ match: true, serial: oneOff.serial });

    // Nothing joined yet: the list is the shared store's, and says so.
    const before = (await client.call("batch.list")).result;
    expect(before).toMatchObject({ store: "shared", station: "api-desk", driven: null });
    expect(before.batches.map((b: any) => b.id)).toEqual(expect.arrayContaining([other.id, foreign.id]));
    expect(before.batches.find((b: any) => b.id === other.id)).toMatchObject({ name: "desk two's batch", total: 5, done: 0, state: "running" });

    // batch.create seals the new batch under the daemon's passphrase, in the shared store.
    const created = (await client.call("batch.create", { name: "made through the API", generate: 2 })).result;
    expect(created).toMatchObject({ total: 2, batch: { name: "made through the API", state: "created" } });
    const mine = created.batch.id as number;
    expect((await owner.batch(mine)).state).toBe("created");
    await expect((await owner.openBatch(mine, PASSPHRASE)).withCommittedSeeds((items) => items.length)).resolves.toBe(0);

    // A batch sealed under another passphrase is refused; the station stays where it was.
    expect((await client.call("batch.start", { batchId: foreign.id })).error.data.reason).toBe("WRONG_PASSPHRASE");
    expect((await client.call("batch.list")).result.driven).toBeNull();

    // batch.start joins it: two of the three tokens take its two items, the third finds none left.
    expect((await client.call("batch.start", { batchId: mine })).result.batch).toMatchObject({ id: mine, state: "running" });
    const done = await waitForEvent(client, "batch.stations", (p) => p.batch?.id === mine && p.counts?.committed === 2, 20_000);
    expect(done!.params.stations.find((s: any) => s.id === "api-desk")).toMatchObject({ committed: 2, batchId: mine });
    const status = (await client.call("batch.status", { batchId: mine })).result;
    expect(status).toMatchObject({ driven: true, progress: { batchId: mine, total: 2, done: 2 }, stations: { batch: { id: mine } } });

    // Another batch's status comes from the store, with its stations.
    const elsewhere = (await client.call("batch.status", { batchId: other.id })).result;
    expect(elsewhere).toMatchObject({ driven: false, progress: { batchId: other.id, total: 5, done: 0 }, stations: { total: 5 } });

    // The export and the typed-code check read the shared store's sealed seeds.
    const exported = (await client.call("batch.export", { batchId: mine, format: "otpauth" })).result;
    expect(exported.count).toBe(2);
    const uris = String(exported.content).trim().split("\n");
    const committed = (await owner.items(mine)).filter((i) => i.state === "committed").sort((a, b) => a.position - b.position);
    expect(uris).toHaveLength(2);
    const code = OTPAuth.URI.parse(uris[0]!).generate();
    const check = (await client.call("batch.checkCode", { batchId: mine, itemId: committed[0]!.id, code })).result;
    expect(check).toMatchObject({ itemId: committed[0]!.id, serial: committed[0]!.serial, match: true });
    const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, "0");
    expect((await client.call("batch.checkCode", { batchId: mine, itemId: committed[0]!.id, code: wrong })).result.match).toBe(false);

    // Moving to another running batch leaves this one as it is: the third token takes an item there;
    // the two burned here are bound to this batch and stay out of it.
    expect((await client.call("batch.start", { batchId: other.id })).result.batch).toMatchObject({ id: other.id, state: "running" });
    await waitForEvent(client, "batch.stations", (p) => p.batch?.id === other.id && p.counts?.committed === 1, 20_000);
    expect((await client.call("batch.list")).result.driven).toBe(other.id);
    expect((await owner.batch(mine)).state).toBe("running");
    const moved = await owner.status(other.id);
    expect(moved.counts).toMatchObject({ committed: 1, pending: 4 });
    expect(moved.stations.find((s) => s.id === "api-desk")?.batchId).toBe(other.id);
    const conflicts = client.events.filter((e) => e.method === "batch.item" && e.params.batchId === other.id && e.params.outcome === "conflict");
    expect(conflicts).toHaveLength(2);

    // A batch the station has left is paused and cancelled in the store, for every station.
    expect((await client.call("batch.pause", { batchId: mine })).result.batch).toMatchObject({ id: mine, state: "paused" });
    expect((await client.call("batch.cancel", { batchId: mine })).result.batch).toMatchObject({ id: mine, state: "cancelled" });
    expect((await owner.batch(mine)).state).toBe("cancelled");
    expect((await client.call("batch.list")).result.driven).toBe(other.id);

    // A token that holds a shared batch's seed is refused a one-off burn: that batch's record and
    // exports would name a seed the token no longer holds. Nothing is written to it.
    const bound = committed[0]!;
    const reader = (await client.call("devices.list")).result.devices.find((d: any) => d.serial === bound.serial);
    const session = (await client.call("device.acquire", { id: reader.id, previous: null })).result.session;
    const refused = (await client.call("token.burn", { session })).error;
    expect(refused.data).toMatchObject({ reason: "ITEM_STATE", store: "shared", batchId: mine, itemId: bound.id, state: "committed" });
    expect((await owner.items(mine)).find((i) => i.id === bound.id)).toMatchObject({ state: "committed", serial: bound.serial });

    // The CLI on the station's data directory goes through the daemon, and prints the stations too.
    const listed = await runCli(["batch", "list", "--data-dir", daemon.dataDir]);
    expect(listed.code).toBe(0);
    expect(listed.out.join("\n")).toMatch(new RegExp(`${mine}\\s+cancelled\\s+2 committed\\s+made through the API`));
    const shown = await runCli(["batch", "status", String(other.id), "--data-dir", daemon.dataDir]);
    expect(shown.code).toBe(0);
    expect(shown.out.join("\n")).toMatch(/station api-desk \(\S+\) alive: 1 committed/);

    expect(daemon.stderr.join("\n")).not.toContain(PASSPHRASE);
    client.close();
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;
  });
});
