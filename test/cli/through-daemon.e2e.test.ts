/**
 * The CLI as a client of a running daemon: with `otpbridge daemon --simulate` serving a data
 * directory (its tokens behind vpcd readers, through pcscd), the CLI's commands on that directory go
 * through the daemon's API and print what they print when the CLI works alone on another directory;
 * a burn leaves the same journal record either way; devices and find answer from the daemon, and
 * molto2 set-key and reset prompt for ▲ and confirm the press to it (on the --simulate daemon's
 * Molto2, and on the test's own emulated Molto2 behind vpcd, whose ▲ the test presses while the
 * command waits; a reset nobody pressed fails with FACTORY_RESET_NOT_APPLIED). A stale discovery
 * file is ignored, and a daemon killed under `batch run` gives DAEMON_GONE with the journal intact.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { discoveryFilePath } from "../../src/lib/daemon-paths.js";
import { Journal } from "../../src/store/journal.js";
import type { ItemRecord } from "../../src/store/types.js";
import { runCli, type CliRun } from "../fixtures/cli.js";
import { ensurePcscd, lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { CardRig } from "../batch/_card-rig.js";
import { startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

const missing = missingPcscStack();
const SEED32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

const freshDir = (): string => join(mkdtempSync(join(tmpdir(), "otpb-alone-")), "data");
const withDir = (dir: string, argv: string[]): string[] => [...argv, "--data-dir", dir];

/** Runs the CLI with the simulation's link forced for the CLI alone (the daemon holds the vpcd readers). */
async function alone(argv: string[], options?: Parameters<typeof runCli>[1]): Promise<CliRun> {
  process.env.OTPBRIDGE_SIMULATE_LINK = "memory";
  try {
    return await runCli(argv, options);
  } finally {
    delete process.env.OTPBRIDGE_SIMULATE_LINK;
  }
}

/** The fields of a journal item that a burn decides (not ids, times, or which token). */
function record(item: ItemRecord): Partial<ItemRecord> {
  const { label, algorithm, digits, period, state, failReason, attempts, manufacturer, model } = item;
  return { label, algorithm, digits, period, state, failReason, attempts, manufacturer, model };
}

function journalOf(dir: string): Journal {
  return Journal.open({ dataDir: dir, key: { kind: "keyFile" } });
}

describe.skipIf(missing !== undefined)("the CLI through a running daemon (pcscd and vpcd)", () => {
  let release = (): void => {};
  let d: DaemonProcess;
  const aloneDir = freshDir();
  /** The two burns of the same seed, through the daemon and alone, for the last test to compare. */
  const burns: Array<{ dir: string; batchId: number; itemId: number }> = [];

  beforeAll(async () => {
    // The machine's other PC/SC suites may hold the lock for minutes.
    release = await lockPcscd(600_000);
    ensurePcscd();
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "vpcd" } });
  }, 660_000);

  /** The reader of the daemon's single-profile token behind vpcd (86596221000001); the other one is in memory. */
  async function vpcdToken(): Promise<string> {
    const listed = JSON.parse((await runCli(withDir(d.dataDir, ["devices", "--json"]))).out.join("\n")) as {
      devices: Array<{ reader?: string; serial: string | null }>;
    };
    return listed.devices.find((device) => device.serial === "86596221000001")!.reader!;
  }

  afterAll(async () => {
    await d?.stop();
    release();
  });

  it("batch create, list and status print the same through the daemon as alone", async () => {
    expect(d.link).toBe("vpcd");
    for (const argv of [
      ["batch", "create", "--generate", "1", "--name", "desk"],
      ["batch", "list"],
      ["batch", "status", "1"],
      ["batch", "status", "1", "--json"],
    ]) {
      const [viaDaemon, byItself] = [await runCli(withDir(d.dataDir, argv)), await alone(withDir(aloneDir, argv))];
      expect(viaDaemon, argv.join(" ")).toEqual(byItself);
      expect(viaDaemon.code).toBe(0);
    }
  });

  it("devices lists the daemon's devices (its devices.list) in the columns and JSON fields of a listing alone", async () => {
    const listed = await runCli(withDir(d.dataDir, ["devices"]));
    const byItself = await alone(withDir(aloneDir, ["devices", "--simulate"]));
    expect(listed.code, listed.err.join("\n")).toBe(0);
    // The same header, the simulation said the same way (the daemon's simulation is behind vpcd).
    expect(listed.out[0]!.split(/\s+/)).toEqual(byItself.out[0]!.split(/\s+/));
    expect(listed.err).toEqual(["simulated tokens behind vpcd readers of pcscd"]);
    expect(listed.out.join("\n")).toMatch(/\s+single-profile\s+OTPC-P2-i\s+86596221000001\s+ready$/m);
    // A Molto2 is never read while the daemon lists: no serial until a client opens it.
    expect(listed.out.join("\n")).toMatch(/\s+molto2\s+\S+\s+-\s+ready$/m);

    const json = JSON.parse((await runCli(withDir(d.dataDir, ["devices", "--json"]))).out.join("\n"));
    const aloneJson = JSON.parse((await alone(withDir(aloneDir, ["devices", "--json", "--simulate"]))).out.join("\n"));
    expect(Object.keys(json).sort()).toEqual(Object.keys(aloneJson).sort());
    expect(json).toMatchObject({ simulated: "vpcd", status: { pcsc: "ready" } });
    expect(Object.keys(aloneJson.status).sort()).toEqual(expect.arrayContaining(Object.keys(json.status).sort()));
    // Each device as alone, plus the session holding it.
    expect(Object.keys(json.devices[0]).sort()).toEqual([...Object.keys(aloneJson.devices[0]), "session"].sort());

    const refused = await runCli(withDir(d.dataDir, ["devices", "--family", "Virtual=molto2"]));
    expect(refused.code).toBe(EXIT_CODES.INVALID_INPUT);
    expect(refused.err.join("\n")).toMatch(/--family cannot be used while the daemon serves/);
  });

  it("batch run burns the daemon's token and shows its events; check and export work on what it burned", async () => {
    const run = await runCli(withDir(d.dataDir, ["batch", "run", "1"]));
    expect(run.code, run.err.join("\n")).toBe(0);
    expect(run.out[0]).toBe("batch 1: 0/1 done; tap tokens on any reader (Ctrl-C pauses)");
    // Either of the daemon's two single-profile tokens (one behind vpcd, one in memory) takes the item.
    const done = run.out.find((line) => /^done\s/.test(line));
    const serial = done?.match(/\b(8659[0-9]{10})\b/)?.[1];
    expect(serial, run.out.join("\n")).toMatch(/^86596[23]21000/);
    expect(run.out.at(-1)).toMatch(/^batch 1 "desk" \(finished\): 1 of 1 committed\n/);

    const file = join(mkdtempSync(join(tmpdir(), "otpb-export-")), "tokens.txt");
    const exported = await runCli(withDir(d.dataDir, ["batch", "export", "1", "--format", "otpauth", "--out", file]));
    expect(exported.out).toEqual([`1 committed items of batch 1 written to ${file} (otpauth, mode 0600)`]);
    const uri = readFileSync(file, "utf8").trim();
    expect(uri).toMatch(/^otpauth:\/\/totp\//);

    const code = (await runCli(["code", "--uri", uri])).out[0]!.split(/\s+/)[0]!;
    const items = (await runCli(withDir(d.dataDir, ["batch", "status", "1", "--json"]))).out.join("\n");
    expect(JSON.parse(items)).toMatchObject({ done: 1, finished: true });
    const check = await runCli(withDir(d.dataDir, ["batch", "check", "1", "--item", "1", "--code", code]));
    expect(check.out).toEqual([`item 1 (token ${serial}): the code matches`]);
  });

  it("burn --forget-seed through the daemon commits the burn and keeps no seed to export", async () => {
    const burned = await runCli(withDir(d.dataDir, ["burn", "--secret", SEED32, "--yes", "--forget-seed", "--reader", await vpcdToken()]));
    expect(burned.code, burned.err.join("\n")).toBe(0);
    const line = burned.out.find((l) => l.startsWith("journal  "))!;
    expect(line).toMatch(/\(seed not kept\)$/);
    const batchId = line.match(/batch (\d+)/)![1]!;
    const file = join(mkdtempSync(join(tmpdir(), "otpb-export-")), "none.txt");
    const exported = await runCli(withDir(d.dataDir, ["batch", "export", batchId, "--format", "otpauth", "--out", file]));
    expect(exported.out).toEqual([`0 committed items of batch ${batchId} written to ${file} (otpauth, mode 0600)`]);
  });

  it("burn goes through the daemon's token.burn and leaves the journal record a burn alone leaves", async () => {
    const argv = ["burn", "--secret", SEED32, "--period", "60", "--yes", "--json"];
    const viaDaemon = await runCli(withDir(d.dataDir, [...argv, "--reader", await vpcdToken()]));
    expect(viaDaemon.code, viaDaemon.err.join("\n")).toBe(0);
    const byItself = await alone(withDir(aloneDir, [...argv, "--simulate", "--reader", "reader 2"]));
    expect(byItself.code, byItself.err.join("\n")).toBe(0);
    const [a, b] = [JSON.parse(viaDaemon.out.join("\n")), JSON.parse(byItself.out.join("\n"))];
    // The same fields; only the simulated token's own code is shown when the CLI holds the token itself.
    expect(Object.keys(a).sort()).toEqual(
      Object.keys(b)
        .filter((k) => k !== "simulatedTokenShows")
        .sort(),
    );
    expect(a).toMatchObject({
      reader: await vpcdToken(),
      serial: "86596221000001",
      model: "OTPC-P2-i",
      algorithm: "SHA1",
      period: 60,
      journal: { state: "committed" },
    });

    burns.push({ dir: d.dataDir, ...a.journal }, { dir: aloneDir, ...b.journal });
  });

  it("find asks the daemon (journal.find) for the token showing a code, with the output and exit codes of find alone", async () => {
    // A seed of its own, burned through the daemon and alone, so that each journal holds one match.
    const seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
    const listed = JSON.parse((await runCli(withDir(d.dataDir, ["devices", "--json"]))).out.join("\n")) as {
      devices: Array<{ reader?: string; serial: string | null }>;
    };
    // The daemon's other token, and another simulated reader alone: a one-off burn of a serial supersedes
    // its earlier item, and the burn test's items are compared at the end.
    const reader = listed.devices.find((device) => device.serial === "86596321000002")!.reader!;
    const burn = ["burn", "--secret", seed, "--period", "60", "--yes", "--json"];
    const burned = await runCli(withDir(d.dataDir, [...burn, "--reader", reader]));
    expect(burned.code, burned.err.join("\n")).toBe(0);
    const burnedAlone = await alone(withDir(aloneDir, [...burn, "--simulate", "--reader", "reader 3"]));
    expect(burnedAlone.code, burnedAlone.err.join("\n")).toBe(0);
    const batches = [JSON.parse(burned.out.join("\n")).journal.batchId, JSON.parse(burnedAlone.out.join("\n")).journal.batchId] as number[];

    const time = String(Math.floor(Date.now() / 1000));
    const code = (await runCli(["code", "--secret", seed, "--period", "60", "--time", time])).out[0]!.split(/\s+/)[0]!;
    const found = await runCli(withDir(d.dataDir, ["find", code, "--at", time]));
    expect(found.code, found.err.join("\n")).toBe(0);
    expect(found.out).toEqual([`batch ${batches[0]}  item 1  serial 86596321000002  (no label)  on time`]);
    // The same lines alone, but for the batch's number and the token the simulation burned.
    const byItself = await alone(withDir(aloneDir, ["find", code, "--at", time]));
    expect(byItself.code).toBe(0);
    const shape = (lines: string[]): string[] => lines.map((l) => l.replace(/^batch \d+/, "batch N").replace(/serial \d+/, "serial S"));
    expect(shape(found.out)).toEqual(shape(byItself.out));
    expect(found.err).toEqual(byItself.err);
    const json = JSON.parse((await runCli(withDir(d.dataDir, ["find", code, "--at", time, "--json"]))).out.join("\n"));
    expect(json).toMatchObject({ ambiguous: false, window: 2, time: Number(time) });
    expect(json.matches).toEqual([
      expect.objectContaining({ source: "journal", batchId: batches[0], item: 1, serial: "86596321000002", period: 60, offset: 0 }),
    ]);

    // No seed burned here has 8 digits: none found, exit 3, the same words as alone.
    const none = await runCli(withDir(d.dataDir, ["find", "12345678", "--at", time]));
    expect(none).toEqual(await alone(withDir(aloneDir, ["find", "12345678", "--at", time])));
    expect(none.code).toBe(3);
  });

  it("sync-time goes through the daemon: --check reads the drift, a restricted model's seed is written again when given", async () => {
    const reader = await vpcdToken();
    const check = await runCli(withDir(d.dataDir, ["sync-time", "--check", "--json", "--reader", reader]));
    expect(check.code, check.err.join("\n")).toBe(0);
    const byItself = await alone(withDir(aloneDir, ["sync-time", "--check", "--json", "--simulate", "--reader", "reader 2"]));
    expect(Object.keys(JSON.parse(check.out.join("\n")))).toEqual(Object.keys(JSON.parse(byItself.out.join("\n"))));
    expect(JSON.parse(check.out.join("\n"))).toMatchObject({ reader, serial: "86596221000001", model: "OTPC-P2-i" });

    const refused = await runCli(withDir(d.dataDir, ["sync-time", "--yes", "--reader", reader]));
    expect(refused.code).toBe(EXIT_CODES.SEED_WIPE_NOT_CONFIRMED);
    const synced = await runCli(withDir(d.dataDir, ["sync-time", "--yes", "--wipe-seed", "--secret", SEED32, "--reader", reader]));
    expect(synced.code, synced.err.join("\n")).toBe(0);
    expect(synced.out[0]).toMatch(/^OTPC-P2-i 86596221000001: clock set to .* \(drift was [+-]\d+ s\)$/);
    expect(synced.out[1]).toMatch(/^seed burned again; code \d{6} \(previous \d{6}, next \d{6}\)$/);
  });

  it("applet add, code, list and delete reach the daemon's FIDO key (OTP applet over PC/SC) through its API", async () => {
    const key = ["--reader", "Simulated FIDO Key"];
    const added = await runCli(withDir(d.dataDir, ["applet", "add", "--app", "Desk", "--account", "alice", "--secret", SEED32, ...key]));
    expect(added).toEqual({ code: 0, out: ["added Desk:alice (TOTP SHA1 6 digits, 30 s)"], err: [] });
    const time = "1795946440";
    const expected = (await runCli(["code", "--secret", SEED32, "--time", time])).out[0]!.split(/\s+/)[0]!;
    expect((await runCli(withDir(d.dataDir, ["applet", "code", "--app", "Desk", "--account", "alice", "--time", time, ...key]))).out).toEqual([expected]);
    const listed = await runCli(withDir(d.dataDir, ["applet", "list", "--time", time, ...key]));
    expect(listed.out.at(-1)).toBe("1 entry");
    expect(listed.out[0]).toContain(expected);
    expect((await runCli(withDir(d.dataDir, ["applet", "delete", "--app", "Desk", "--account", "alice", ...key]))).out).toEqual(["deleted Desk:alice"]);
    const missingEntry = await runCli(withDir(d.dataDir, ["applet", "code", "--app", "Desk", "--account", "alice", ...key]));
    expect(missingEntry.code).toBe(EXIT_CODES.ENTRY_NOT_FOUND);
  });

  it("molto2 write, list, sync and delete reach the daemon's Molto2 through its API and print what they print alone", async () => {
    const write = ["molto2", "write", "--profile", "3", "--title", "Desk", "--secret", SEED32, "--period", "60"];
    const viaDaemon = await runCli(withDir(d.dataDir, write));
    const byItself = await alone(withDir(aloneDir, [...write, "--simulate"]));
    expect(viaDaemon.code, viaDaemon.err.join("\n")).toBe(0);
    expect(viaDaemon.out).toEqual(byItself.out);
    // The factory key is in use on both: the same warning, from the daemon's session or this one.
    expect(viaDaemon.err.filter((l) => l.startsWith("warning: "))).toEqual(byItself.err.filter((l) => l.startsWith("warning: ")));

    const listed = await runCli(withDir(d.dataDir, ["molto2", "list"]));
    expect(listed.out[0]).toMatch(/^Molto2 SIM000000000001, \d+ profiles, clock /);
    expect(listed.out).toContain(viaDaemon.out[0]);
    expect(listed.out.at(-1)).toMatch(/^1 of \d+ profiles in use$/);
    expect((await runCli(withDir(d.dataDir, ["molto2", "sync", "--all"]))).out[0]).toMatch(/^clock set to .* through \d+ profile\(s\)$/);
    expect((await runCli(withDir(d.dataDir, ["molto2", "delete", "--profile", "3"]))).out).toEqual(["profile 3: seed deleted"]);
  });

  it("molto2 set-key and reset go through the daemon: the ▲ prompt here, the press confirmed to the daemon", async () => {
    const newKey = "desk-molto2-key-2026";
    const setKey = await runCli(withDir(d.dataDir, ["molto2", "set-key", "--new-key-stdin", "--button-wait", "1"]), { stdin: newKey });
    expect(setKey.code, setKey.err.join("\n")).toBe(0);
    const byItself = await alone(withDir(aloneDir, ["molto2", "set-key", "--new-key-stdin", "--simulate"]), { stdin: newKey });
    expect(byItself.code, byItself.err.join("\n")).toBe(0);
    // The prompt as a real token's without a terminal; the outcome as alone.
    expect(setKey.out).toEqual(["press ▲ on the token (within 1 s)", byItself.out.at(-1)]);
    expect(byItself.out).toEqual(["press ▲ on the token", "customer key changed (the token accepted the new key)"]);

    // The daemon's Molto2 takes the new key now, and refuses the factory key (one try spent).
    expect((await runCli(withDir(d.dataDir, ["molto2", "lock", "--key-stdin"]), { stdin: newKey })).out).toEqual(["screen locked"]);
    expect((await runCli(withDir(d.dataDir, ["molto2", "unlock", "--key-stdin"]), { stdin: newKey })).out).toEqual(["screen unlocked"]);
    const wrong = await runCli(withDir(d.dataDir, ["molto2", "lock"]));
    expect(wrong.code).toBe(EXIT_CODES.WRONG_CUSTOMER_KEY);

    const reset = await runCli(withDir(d.dataDir, ["molto2", "reset", "--button-wait", "1"]));
    expect(reset).toEqual({
      code: 0,
      out: ["press ▲ on the token (within 1 s)", "factory reset confirmed: every profile is empty and the factory key is back"],
      err: [],
    });
    const factory = await runCli(withDir(d.dataDir, ["molto2", "lock"]));
    expect(factory.out, factory.err.join("\n")).toEqual(["screen locked"]);
    expect((await runCli(withDir(d.dataDir, ["molto2", "unlock"]))).code).toBe(0);
  });

  it("refuses the flags that choose how the daemon drives its readers", async () => {
    const r = await runCli(withDir(d.dataDir, ["batch", "run", "1", "--reburn"]));
    expect(r.code).toBe(EXIT_CODES.INVALID_INPUT);
    expect(r.err.join("\n")).toMatch(/--reburn cannot be used while the daemon serves/);
  });

  it("once the daemon stops, its journal holds the same record of the burn as the journal of the burn alone", async () => {
    expect(await d.stop()).toBe(0);
    const [viaDaemon, byItself] = burns.map(({ dir, batchId, itemId }) => {
      const journal = journalOf(dir);
      try {
        return {
          batch: journal.batch(batchId).name.replace(/\d+$/, "SERIAL"),
          item: record(journal.item(itemId)),
          events: journal.events(batchId).map((e) => e.kind),
          seed: journal.withCommittedSeeds(batchId, (items) => Buffer.from(items[0]!.seed).toString("hex")),
        };
      } finally {
        journal.close();
      }
    });
    expect(viaDaemon).toEqual(byItself);
    expect(viaDaemon!.item).toMatchObject({ state: "committed", model: "OTPC-P2-i", algorithm: "SHA1", period: 60, digits: 6 });
    expect(viaDaemon!.events).toEqual(["batch.created", "batch.start", "item.claimed", "item.burned", "item.verified", "item.committed"]);
  });
});

describe.skipIf(missing !== undefined)("molto2 set-key through a daemon, on the test's own emulated Molto2 (pcscd and vpcd)", () => {
  const reader = VPCD_READERS.find((r) => r.name === "Virtual PCD C 00 01")!;
  const token = new Molto2Token({ serial: "TEST00000000011" });
  let release = (): void => {};
  let rig: CardRig;
  let d: DaemonProcess;

  beforeAll(async () => {
    release = await lockPcscd(600_000);
    ensurePcscd();
    rig = await CardRig.open([reader.name]);
    await rig.insert(token, reader);
    d = await startDaemonProcess({ simulate: false, args: ["--family", `${reader.name}=molto2`] });
  }, 660_000);

  afterAll(async () => {
    await d?.stop();
    await rig?.close();
    release();
  }, 120_000);

  it("prompts for ▲ as alone; the test presses it on the emulator, and the token takes the new key", async () => {
    const before = Buffer.from(token.state().keyDigest);
    const running = runCli(withDir(d.dataDir, ["molto2", "set-key", "--new-key-stdin", "--button-wait", "3"]), { stdin: "desk-molto2-key-2026" });
    // The person at the token: ▲ once the token waits for it.
    const deadline = Date.now() + 20_000;
    while (token.state().pending !== "setKey" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(token.state().pending).toBe("setKey");
    token.pressButton();
    const r = await running;
    expect(r.code, r.err.join("\n")).toBe(0);
    expect(r.out).toEqual(["press ▲ on the token (within 3 s)", "customer key changed (the token accepted the new key)"]);
    expect(Buffer.from(token.state().keyDigest).equals(before)).toBe(false);
    expect(token.state().triesLeft).toBe(10);
    const locked = await runCli(withDir(d.dataDir, ["molto2", "lock", "--key-stdin"]), { stdin: "desk-molto2-key-2026" });
    expect(locked.out, locked.err.join("\n")).toEqual(["screen locked"]);
  });

  it("reset prompts for ▲ as alone; once the test presses it, the factory key is back", async () => {
    expect((await runCli(withDir(d.dataDir, ["molto2", "unlock", "--key-stdin"]), { stdin: "desk-molto2-key-2026" })).out).toEqual(["screen unlocked"]);
    const running = runCli(withDir(d.dataDir, ["molto2", "reset", "--button-wait", "3"]));
    const deadline = Date.now() + 20_000;
    while (token.state().pending !== "reset" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(token.state().pending).toBe("reset");
    token.pressButton();
    expect(await running).toEqual({
      code: 0,
      out: ["press ▲ on the token (within 3 s)", "factory reset confirmed: every profile is empty and the factory key is back"],
      err: [],
    });
    const factory = await runCli(withDir(d.dataDir, ["molto2", "lock"]));
    expect(factory.out, factory.err.join("\n")).toEqual(["screen locked"]);
  });

  it("reset confirmed to the daemon without the ▲ press fails with FACTORY_RESET_NOT_APPLIED: the profile is kept, and a later press still resets", async () => {
    const write = await runCli(withDir(d.dataDir, ["molto2", "write", "--profile", "7", "--title", "Kept", "--secret", SEED32]));
    expect(write.code, write.err.join("\n")).toBe(0);
    // No terminal: the command confirms the press to the daemon after 1 s, and nobody pressed.
    const r = await runCli(withDir(d.dataDir, ["molto2", "reset", "--button-wait", "1"]));
    expect(r.code).toBe(EXIT_CODES.FACTORY_RESET_NOT_APPLIED);
    expect(r.out).toEqual(["press ▲ on the token (within 1 s)"]);
    expect(r.err).toEqual([
      "otpbridge: the token was not reset (was ▲ pressed?): 1 profile(s) still hold a seed or a title, and its customer key is unchanged; the token may still hold the request: a later ▲ press on it would still erase every profile",
    ]);
    expect(token.state().profiles[7]!.seed.length).toBeGreaterThan(0);
    expect(token.state().pending).toBe("reset");
    expect((await runCli(withDir(d.dataDir, ["molto2", "list"]))).out.at(-1)).toMatch(/^1 of 100 profiles in use$/);
    token.pressButton(); // the person presses ▲ after all
    expect((await runCli(withDir(d.dataDir, ["molto2", "list"]))).out.at(-1)).toMatch(/^0 of 100 profiles in use$/);
  });
});

describe("finding the daemon", () => {
  it("ignores a discovery file whose daemon is dead: the CLI works alone", async () => {
    const dir = freshDir();
    expect((await runCli(withDir(dir, ["batch", "create", "--generate", "1", "--name", "stale"]))).code).toBe(0);
    // A pid that was alive once and is not now.
    const dead = Number(execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }));
    writeFileSync(discoveryFilePath(dir), JSON.stringify({ pid: dead, port: 9, socket: null }), { mode: 0o600 });
    const r = await runCli(withDir(dir, ["batch", "list"]));
    expect(r).toEqual({ code: 0, out: ["   1  created    0 committed  stale"], err: [] });
  });

  it("a daemon killed under batch run: DAEMON_GONE, and the journal holds every burn it made", async () => {
    const d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    try {
      // A request larger than the daemon takes in one message is refused as such, not as a daemon gone.
      const big = join(mkdtempSync(join(tmpdir(), "otpb-big-")), "uris.txt");
      writeFileSync(big, Array.from({ length: 1500 }, (_, i) => `otpauth://totp/Desk:user${i}@example.com?secret=${SEED32}&issuer=Desk`).join("\n"));
      const tooBig = await runCli(withDir(d.dataDir, ["batch", "create", "--uris", big, "--name", "big"]));
      expect(tooBig.code).toBe(EXIT_CODES.INVALID_INPUT);
      expect(tooBig.err.join("\n")).toMatch(/larger than the daemon .* takes in one message/);
      expect((await runCli(withDir(d.dataDir, ["batch", "create", "--generate", "5", "--name", "killed"]))).code).toBe(0);
      const running = runCli(withDir(d.dataDir, ["batch", "run", "1"]));
      // The daemon's two simulated tokens are burned; the run then waits for taps that never come.
      const deadline = Date.now() + 20_000;
      let done = 0;
      while (done < 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const status = await startedStatus(d.dataDir);
        done = status?.done ?? 0;
      }
      expect(done).toBe(2);
      d.child.kill("SIGKILL");
      const r = await running;
      expect(r.code).toBe(EXIT_CODES.DAEMON_GONE);
      expect(r.err.join("\n")).toMatch(/the daemon serving .* went away before the command finished; nothing is lost/);
    } finally {
      await d.stop();
    }
    // The discovery file names a dead pid now: the CLI opens the journal itself.
    const status = await runCli(withDir(d.dataDir, ["batch", "status", "1", "--json"]));
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out.join("\n"))).toMatchObject({ total: 5, done: 2, counts: { committed: 2, pending: 3 } });
    const journal = journalOf(d.dataDir);
    try {
      journal.withCommittedSeeds(1, (items) => expect(items.map((i) => i.serial).sort()).toEqual(["86596221000001", "86596321000002"]));
    } finally {
      journal.close();
    }
  }, 60_000);
});

/** The batch's progress through whatever serves the directory, or undefined while it cannot be read. */
async function startedStatus(dataDir: string): Promise<{ done: number } | undefined> {
  const r = await runCli(withDir(dataDir, ["batch", "status", "1", "--json"]));
  return r.code === 0 ? (JSON.parse(r.out.join("\n")) as { done: number }) : undefined;
}
