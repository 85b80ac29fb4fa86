/**
 * Crash safety across stations (issue #14): one shared batch on a real PostgreSQL server (a throw-
 * away cluster), burned by three station processes (`otpbridge batch run ID --store URL`, built CLI),
 * each with its own vpcd readers behind the real pcscd. During the run every station is SIGKILLed
 * at 10 or more seeded points (a timer anywhere, or armed on an APDU step and fired by the emulated
 * token itself before or after it acts: GET INFO before the claim, authentication just after it, the
 * config and seed writes, the clock read-back after the write) and restarted each time; the server
 * is stopped and started twice and frozen (SIGSTOP: connections hang) for 10 s once. The tokens live
 * in this process and survive every kill; each stays in its reader until its station says done.
 *
 * At the end: every item committed; every token holds exactly the seed the batch records for its
 * serial; no seed on two tokens; the export run from each station equals the tokens; no seed in the
 * database (pg_dump), the stations' outboxes or their logs.
 *
 * Each station has 4 vpcd readers, as in the issue's rig: "--reader 'Virtual PCD B'" takes B and B2
 * (test/fixtures/reader.conf), and likewise C and D.
 * OTPBRIDGE_STATIONS_ITEMS sets the batch size (default 300); OTPBRIDGE_CRASH_SEED the kill points.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import hiBase32 from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { parseOtpauthUri } from "../../src/input/secret.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { ensurePcscd, lockPcscd, missingPcscStack, REPO_ROOT, VPCD_READERS } from "../fixtures/pcscd.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { PASSPHRASE, testDb, type TestDb } from "../store/stations/_cluster.js";
import { CardRig } from "./_card-rig.js";
import { KillSwitchCard, type Arm } from "./_kill-switch-card.js";
import { ensureBuilt } from "../fixtures/daemon.js";
import { prng } from "../fixtures/prng.js";

const missing = missingPcscStack() ?? missingPostgres();
if (missing) console.warn(`stations crash test skipped: ${missing}`);

const ITEMS = Number(process.env.OTPBRIDGE_STATIONS_ITEMS ?? 300);
const KILLS_PER_STATION = 10;
const SEED = Number(process.env.OTPBRIDGE_CRASH_SEED ?? 20261207);
const GROUPS = ["Virtual PCD B", "Virtual PCD C", "Virtual PCD D"];
const STEPS = ["80:41", "80:4b", "80:ce", "84:d4", "84:c5"];
const BIN = join(REPO_ROOT, "bin/otpbridge.js");
const PASS_ENV = "OTPB_STATIONS_CRASH_PASSPHRASE";

/** One station: its process (restarted after each kill), its readers and what it said. */
class StationRun {
  arm: Arm | undefined;
  child: ChildProcess | undefined;
  kills = 0;
  apduKills = 0;
  readonly logs: string[] = [];

  constructor(
    readonly name: string,
    readonly group: string,
    readonly readers: { name: string; port: number }[],
    readonly dataDir: string,
    readonly args: string[],
    readonly onLine: (line: string) => void,
  ) {}

  fire(): void {
    if (this.arm === undefined || this.child === undefined) return;
    this.arm = undefined;
    this.apduKills++;
    this.child.kill("SIGKILL");
  }

  /** Runs the station until its batch is done, killing and restarting it as the plan says. */
  async lives(random: () => number, allDone: () => boolean): Promise<void> {
    while (!allDone()) {
      this.arm = undefined;
      const child = spawn(process.execPath, [BIN, "batch", "run", ...this.args], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, [PASS_ENV]: PASSPHRASE },
      });
      this.child = child;
      createInterface({ input: child.stdout! }).on("line", (line) => {
        this.logs.push(line);
        this.onLine(line);
      });
      createInterface({ input: child.stderr! }).on("line", (line) => this.logs.push(line));
      const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
      if (this.kills < KILLS_PER_STATION) {
        this.kills++;
        const byStep = random() < 0.5;
        if (byStep) this.arm = { step: STEPS[Math.floor(random() * STEPS.length)]!, after: random() < 0.5 };
        const delay = byStep ? 4_000 : 800 + Math.floor(random() * 3_000);
        setTimeout(() => child.kill("SIGKILL"), delay).unref();
      }
      await exited;
      this.child = undefined;
      // A station ends by itself once the batch is done; it is started again while a token of its
      // readers still waits for its word (killed after the commit, before it said done), or when it
      // could not start (the server away), as a supervisor would.
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  }
}

describe.skipIf(missing !== undefined)("three stations on one shared batch through pcscd, with crashes", () => {
  let release = (): void => {};
  let rig: CardRig;
  let root: string;
  let db: TestDb;

  beforeAll(async () => {
    release = await lockPcscd(600_000);
    ensurePcscd();
    ensureBuilt();
    db = await testDb();
    rig = await CardRig.open(VPCD_READERS.filter((r) => GROUPS.some((g) => r.name.startsWith(g))).map((r) => r.name));
    root = mkdtempSync(join(tmpdir(), "otpb-stations-crash-"));
  }, 700_000);

  afterAll(async () => {
    await rig?.close();
    release();
    await db?.close();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it(`${ITEMS} items, 3 stations SIGKILLed ${KILLS_PER_STATION}+ times each, the server stopped twice and frozen once`, async () => {
    const random = prng(SEED).float;
    const t0 = Date.now();
    const shared = ["--store", db.url, "--batch-passphrase-env", PASS_ENV];
    const created = execFileSync(process.execPath, [BIN, "batch", "create", "--generate", String(ITEMS), "--name", "stations crash", ...shared], {
      cwd: REPO_ROOT,
      env: { ...process.env, [PASS_ENV]: PASSPHRASE },
      encoding: "utf8",
    });
    const batchId = Number(/shared batch (\d+)/.exec(created)?.[1]);
    const owner = await db.store("crash-owner");
    await owner.setBatchState(batchId, "start");

    const tokens = Array.from(
      { length: ITEMS },
      (_, i) => new SingleProfileToken({ serial: `8659${["6121", "6221", "6321", "6011"][i % 4]}${String(i + 1).padStart(6, "0")}` }),
    );
    const queue = [...tokens];
    const done = new Set<string>();
    const retap = new Set<string>();
    // A failed item would wait for a --reburn forever: the test stops at once and says which.
    const failed = new Map<string, string>();
    const onLine = (line: string): void => {
      const serial = /^\S+\s+\S.*?\s+(8659\d{10})\b/.exec(line)?.[1];
      if (serial === undefined) return;
      if (line.startsWith("done") || line.includes("already burned in this batch")) done.add(serial);
      else if (line.startsWith("FAILED") || line.includes("failed before in this batch")) failed.set(serial, line);
      else retap.add(serial);
    };
    const stations = GROUPS.map((group, s) => {
      const name = `desk-${s + 1}`;
      const readers = VPCD_READERS.filter((r) => r.name.startsWith(group));
      const dataDir = join(root, name);
      const args = [
        String(batchId),
        ...shared,
        "--station",
        name,
        "--data-dir",
        dataDir,
        "--reader",
        group,
        "--force",
        "--verbose",
        ...readers.map((r) => `--family=${r.name}=single-profile`),
      ];
      return new StationRun(name, group, readers, dataDir, args, onLine);
    });
    let aborted = false;
    const allDone = (): boolean => done.size >= ITEMS || aborted;

    /** One reader's operator: tap the next token, leave it until its station says done, lift it. */
    async function operator(station: StationRun, reader: { name: string; port: number }): Promise<void> {
      for (let token = queue.shift(); token !== undefined; token = queue.shift()) {
        const serial = token.state().serial;
        const card = new KillSwitchCard(
          token,
          () => station.arm,
          () => station.fire(),
        );
        let slot: InsertedCard = await rig.insert(card, reader);
        let since = Date.now();
        while (!done.has(serial)) {
          if (failed.has(serial)) throw new Error(`token ${serial} failed: ${failed.get(serial)}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
          // A tap cut short, or one no station finished within 20 s: lift the token and tap it again.
          if (retap.delete(serial) || Date.now() - since > 20_000) {
            await rig.remove(slot, reader.name);
            slot = await rig.insert(card, reader);
            since = Date.now();
          }
        }
        await rig.remove(slot, reader.name);
      }
    }

    /** The server's troubles, spread over the run: stopped and started twice, frozen 10 s once. */
    const outages = (async () => {
      const at = (fraction: number) => async () => {
        while (done.size < ITEMS * fraction && !aborted) await new Promise((resolve) => setTimeout(resolve, 200));
      };
      await at(0.2)();
      db.cluster.stop("immediate");
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      db.cluster.start();
      await at(0.45)();
      await db.cluster.freeze(10_000);
      await at(0.7)();
      db.cluster.stop("fast");
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      db.cluster.start();
    })();

    const lives = stations.map((s) => s.lives(random, allDone));
    try {
      await Promise.all(stations.flatMap((s) => s.readers.map((r) => operator(s, r))));
    } catch (error) {
      // Stop the stations (and their restarts) before the cluster and the readers go away.
      aborted = true;
      for (const s of stations) s.child?.kill("SIGKILL");
      throw error;
    }
    await outages;
    await Promise.all(lives);
    const logs = stations.flatMap((s) => s.logs);
    console.log(
      `stations crash test: ${stations.map((s) => `${s.name} ${s.kills} kills (${s.apduKills} at an APDU step)`).join(", ")}; seed ${SEED}; ${Math.round((Date.now() - t0) / 1000)} s`,
    );
    for (const s of stations) expect(s.kills).toBeGreaterThanOrEqual(KILLS_PER_STATION);
    // The outages were seen, and said plainly, by the stations working through them.
    expect(logs.some((l) => l.includes("the shared store is unreachable"))).toBe(true);
    expect(logs.some((l) => l.includes("the shared store answers again"))).toBe(true);

    const status = await owner.status(batchId);
    expect(status.counts).toMatchObject({ committed: ITEMS, pending: 0, claimed: 0, burned: 0, verified: 0, failed: 0, "needs-check": 0 });
    const items = await owner.items(batchId);
    console.log(
      `stations crash test: ${items.filter((i) => i.attempts > 1).length} items were resumed; committed per station ${JSON.stringify(Object.fromEntries(status.stations.map((s) => [s.id, s.committed])))}`,
    );
    const emulated = new Map(tokens.map((t) => [t.state().serial, Buffer.from(t.state().seed).toString("hex")]));
    for (const token of tokens) expect(token.state().seed.length, token.state().serial).toBe(20);
    expect(new Set(emulated.values()).size).toBe(ITEMS);
    // The export, run from each station's data directory, equals what the tokens hold.
    for (const s of stations) {
      const out = join(root, `${s.name}.txt`);
      execFileSync(process.execPath, [BIN, "batch", "export", String(batchId), "--format", "otpauth", "--out", out, "--data-dir", s.dataDir, ...shared], {
        cwd: REPO_ROOT,
        env: { ...process.env, [PASS_ENV]: PASSPHRASE },
      });
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const exported = readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .map((uri) => parseOtpauthUri(uri));
      expect(new Map(exported.map((a) => [a.label, Buffer.from(a.secret).toString("hex")]))).toEqual(emulated);
    }
    // No seed as raw bytes, hex or base32 in the database, the outboxes or the stations' output.
    const dump = execFileSync(join(db.cluster.bin, "pg_dump"), ["--dbname", db.url, "--inserts"], { maxBuffer: 512 * 1024 * 1024 });
    const outboxes = stations.flatMap((s) => readdirSync(s.dataDir).map((f) => readFileSync(join(s.dataDir, f))));
    const haystacks = [dump, Buffer.from(logs.join("\n")), ...outboxes];
    const leaks = tokens.filter((t) => {
      const seed = Buffer.from(t.state().seed);
      const forms = [seed, Buffer.from(seed.toString("hex")), Buffer.from(hiBase32.encode(seed).replace(/=+$/, ""))];
      return haystacks.some((h) => forms.some((f) => h.includes(f)));
    });
    expect(leaks.map((t) => t.state().serial)).toEqual([]);
  }, 1_200_000);
});
