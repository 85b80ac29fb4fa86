/**
 * `otpbridge batch ... --store`: a shared batch created from the CLI, run by two stations at once
 * (each `batch run --simulate` with its own readers, data directory and outbox) on a real PostgreSQL
 * server, its status listing both stations and their readers, and its export; nothing printed holds
 * a seed and a wrong passphrase is refused by name.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { testDb, type TestDb } from "../store/stations/_cluster.js";

const missing = missingPostgres();
let db: TestDb;
let root: string;

beforeAll(async () => {
  if (missing !== undefined) return;
  db = await testDb();
  root = mkdtempSync(join(tmpdir(), "otpb-stations-cli-"));
  process.env.OTPB_TEST_BATCH_PASSPHRASE = "two desks, one batch";
  process.env.OTPB_TEST_WRONG_PASSPHRASE = "two desks, one botch";
});
afterAll(async () => {
  await db?.close();
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

describe.skipIf(missing !== undefined)("batch --store from the CLI", () => {
  it("creates, runs on two stations at once, shows both, and exports", async () => {
    const shared = ["--store", db.url, "--batch-passphrase-env", "OTPB_TEST_BATCH_PASSPHRASE"];
    const created = await runCli(["batch", "create", "--generate", "10", "--name", "two desks", ...shared]);
    expect(created.code).toBe(0);
    const id = /shared batch (\d+)/.exec(created.out.join("\n"))?.[1];
    expect(id).toBeDefined();
    const start = await db.store("starter");
    await start.setBatchState(Number(id), "start");

    const station = (name: string) =>
      runCli(["batch", "run", id!, "--simulate", "--readers", "2", "--station", name, "--data-dir", join(root, name), ...shared]);
    const [one, two] = await Promise.all([station("desk-1"), station("desk-2")]);
    expect([one.code, two.code]).toEqual([0, 0]);
    const done = [...one.out, ...two.out].filter((l) => l.startsWith("done"));
    expect(done).toHaveLength(10);
    expect(one.out.some((l) => l.startsWith("done"))).toBe(true);
    expect(two.out.some((l) => l.startsWith("done"))).toBe(true);

    const status = await runCli(["batch", "status", id!, ...shared]);
    expect(status.out.join("\n")).toMatch(/10 of 10 committed/);
    expect(status.out.join("\n")).toMatch(/station desk-1 .*committed/);
    expect(status.out.join("\n")).toMatch(/station desk-2 .*committed/);

    const out = join(root, "export.txt");
    const exported = await runCli(["batch", "export", id!, "--format", "otpauth", "--out", out, ...shared]);
    expect(exported.out.join("\n")).toMatch(/10 committed items/);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const secrets = readFileSync(out, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((uri) => new URL(uri).searchParams.get("secret")!);
    expect(new Set(secrets).size).toBe(10);
    const printed = [...created.out, ...created.err, ...one.out, ...one.err, ...two.out, ...two.err, ...status.out, ...exported.out].join("\n");
    for (const secret of secrets) expect(printed).not.toContain(secret);

    // Only `run` registers a station: create, status and export (run here under the host's name,
    // which a station on this machine would have too) leave the stations as they were.
    const registered = await db.admin.query<{ id: string }>("SELECT id FROM otpb_stations ORDER BY id");
    expect(registered.rows.map((r) => r.id)).toEqual(["desk-1", "desk-2", "starter"]);

    const wrong = await runCli([
      "batch",
      "export",
      id!,
      "--format",
      "otpauth",
      "--out",
      join(root, "x.txt"),
      "--store",
      db.url,
      "--batch-passphrase-env",
      "OTPB_TEST_WRONG_PASSPHRASE",
    ]);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err.join("\n")).toMatch(/passphrase/);
    expect(wrong.err.join("\n")).not.toContain("botch");
  });
});
