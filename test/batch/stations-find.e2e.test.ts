/**
 * "Which token shows this code" on a station: a real daemon process started with `--store URL
 * --shared-batch ID` burns two in-memory simulated tokens of a shared batch on a real PostgreSQL
 * server, beside an item another station committed, and journal.find over its Unix socket finds each
 * of them by its code, in that batch or across every shared batch (another batch it has not joined is
 * opened with its passphrase; one sealed under another passphrase is skipped and named). A sealed seed
 * altered in PostgreSQL is SEED_TAMPERED. The CLI finds the same through the daemon and, once it is
 * stopped, alone with --store (without registering as a station); through a daemon that is no
 * station, --store is refused. No code, seed or passphrase is logged.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hotp, totpCounter } from "../../src/crypto/index.js";
import { runCli } from "../fixtures/cli.js";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { committedSharedBatch, PASSPHRASE, testDb, type TestDb } from "../store/stations/_cluster.js";

const missing = missingPostgres();
const PASSPHRASE_ENV = "OTPB_TEST_FIND_PASSPHRASE";
let db: TestDb;
let daemon: DaemonProcess | undefined;

beforeAll(async () => {
  if (missing === undefined) db = await testDb();
});
afterAll(async () => {
  await daemon?.stop();
  delete process.env[PASSPHRASE_ENV];
  await db?.close();
});

describe.skipIf(missing !== undefined)("find on a station", () => {
  it("finds the shared store's tokens through journal.find and the CLI, with and without the daemon", async () => {
    const owner = await db.store("desk-one");
    const seeds = Array.from({ length: 3 }, () => new Uint8Array(randomBytes(20)));
    const otherSeed = new Uint8Array(randomBytes(20));
    const foreignSeed = new Uint8Array(randomBytes(20));
    // desk-one commits the first item of the batch; the daemon's two simulated tokens take the others.
    const desk = await committedSharedBatch(owner, seeds, 1, "DESK");
    const other = await committedSharedBatch(owner, [otherSeed], 1, "OTHER");
    const foreign = await committedSharedBatch(owner, [foreignSeed], 1, "FOREIGN", "another team's passphrase");
    daemon = await startDaemonProcess({
      args: ["--simulate-tokens", "2", "--store", db.url, "--station", "find-desk", "--shared-batch", String(desk), "--batch-passphrase-env", PASSPHRASE_ENV],
      env: { [PASSPHRASE_ENV]: PASSPHRASE, OTPBRIDGE_SIMULATE_LINK: "memory" },
      logLevel: "debug",
    });
    const client = await RpcClient.native(daemon);
    await waitForEvent(client, "batch.stations", (p) => p.batch?.id === desk && p.counts?.committed === 3, 30_000);
    const serials = (await owner.items(desk)).map((i) => i.serial!);
    expect(serials[0]).toBe("DESK1");

    const time = Math.floor(Date.now() / 1000);
    const codeOf = (seed: Uint8Array, steps = 0) => hotp("SHA1", seed, totpCounter({ time }) + steps, 6);
    const codes: string[] = [];
    const find = async (params: { codes: string[]; batchId?: number }) => {
      codes.push(...params.codes);
      return client.call("journal.find", { ...params, time });
    };

    // The joined batch by its shared id: a token the daemon burned, and the one desk-one did.
    const burned = (await find({ codes: [codeOf(seeds[2]!)], batchId: desk })).result;
    expect(burned.matches).toEqual([
      expect.objectContaining({ source: "stations", batchId: desk, item: 3, serial: serials[2], label: "DESK-3@example.com", offset: 0 }),
    ]);
    expect(burned).toMatchObject({ searched: 3, skipped: [] });
    const byDesk = (await find({ codes: [codeOf(seeds[0]!, 1)], batchId: desk })).result;
    expect(byDesk.matches.map((m: any) => [m.serial, m.offset])).toEqual([["DESK1", 1]]);

    // Every batch: the joined one, the other batch the passphrase opens, the journal (empty here); the
    // foreign batch is named, not searched.
    const everywhere = (await find({ codes: [codeOf(otherSeed), codeOf(otherSeed, 1)] })).result;
    expect(everywhere.matches.map((m: any) => [m.source, m.batchId, m.serial])).toEqual([["stations", other, "OTHER1"]]);
    expect(everywhere).toMatchObject({ searched: 4, skipped: [{ batchId: foreign, reason: "WRONG_PASSPHRASE" }] });
    expect((await find({ codes: [codeOf(foreignSeed)] })).result.matches).toEqual([]);
    expect((await find({ codes: [codeOf(foreignSeed)], batchId: foreign })).error.data.reason).toBe("WRONG_PASSPHRASE");

    // The CLI on the station's data directory asks the daemon, and says which batch it did not search.
    codes.push(codeOf(seeds[1]!));
    const through = await runCli(["find", codeOf(seeds[1]!), "--at", String(time), "--data-dir", daemon.dataDir]);
    expect(through.code).toBe(0);
    expect(through.out).toEqual([`shared batch ${desk}  item 2  serial ${serials[1]}  DESK-2@example.com  on time`]);
    expect(through.err).toEqual([`shared batch ${foreign} not searched: its seeds are sealed under another passphrase`]);

    // The other batch's sealed seed altered in PostgreSQL (its tag): SEED_TAMPERED, not a match.
    const { rows } = await db.admin.query<{ id: number; seed_sealed: Buffer }>("SELECT id, seed_sealed FROM otpb_items WHERE batch_id = $1", [other]);
    const altered = Buffer.from(rows[0]!.seed_sealed);
    altered[altered.length - 1]! ^= 0x80;
    await db.admin.query("UPDATE otpb_items SET seed_sealed = $2 WHERE id = $1", [rows[0]!.id, altered]);
    const tampered = await find({ codes: [codeOf(otherSeed)] });
    expect(tampered.error.data).toMatchObject({ reason: "SEED_TAMPERED", batchId: other, itemId: rows[0]!.id });
    await db.admin.query("UPDATE otpb_items SET seed_sealed = $2 WHERE id = $1", [rows[0]!.id, rows[0]!.seed_sealed]);

    client.close();
    expect(await daemon.stop()).toBe(0);
    const logs = daemon.stderr.join("\n");
    expect(logs).toMatch(/journal find/);
    for (const secret of [...codes, PASSPHRASE, ...[...seeds, otherSeed].map((s) => Buffer.from(s).toString("hex"))]) expect(logs).not.toContain(secret);
    const dataDir = daemon.dataDir;
    daemon = undefined;

    // No daemon: the CLI searches the shared store itself, and registers no station to do so.
    process.env[PASSPHRASE_ENV] = PASSPHRASE;
    const stations = async () => (await db.admin.query<{ id: string }>("SELECT id FROM otpb_stations ORDER BY id")).rows.map((r) => r.id);
    const before = await stations();
    const store = ["--store", db.url, "--batch-passphrase-env", PASSPHRASE_ENV, "--at", String(time), "--data-dir", dataDir];
    const alone = await runCli(["find", codeOf(seeds[2]!), ...store]);
    expect(alone.code).toBe(0);
    expect(alone.out).toEqual([`shared batch ${desk}  item 3  serial ${serials[2]}  DESK-3@example.com  on time`]);
    expect(alone.err).toEqual([`shared batch ${foreign} not searched: its seeds are sealed under another passphrase`]);
    const json = await runCli(["find", codeOf(otherSeed), "--batch", String(other), "--json", ...store]);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out.join("\n"))).toMatchObject({ matches: [{ source: "stations", batchId: other, serial: "OTHER1" }], searched: 1, skipped: [] });
    expect((await runCli(["find", codeOf(otherSeed), "--batch", String(desk), ...store])).code).toBe(3);
    expect(await stations()).toEqual(before);

    // A daemon that is no station serving the directory: --store cannot be honoured through it, and says so.
    daemon = await startDaemonProcess({ dataDir, env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    const local = await runCli(["find", codeOf(otherSeed), ...store]);
    expect(local.code).not.toBe(0);
    expect(local.err.join("\n")).toContain("is not a station");
    expect(await daemon.stop()).toBe(0);
    daemon = undefined;

    // The batch passphrase without --store is refused, naming what it needs.
    const stray = await runCli(["find", codeOf(otherSeed), "--batch-passphrase-env", PASSPHRASE_ENV, "--data-dir", dataDir]);
    expect(stray.code).not.toBe(0);
    expect(stray.err.join("\n")).toContain("needs --store");
  });
});
