/**
 * Crash safety (issue #6): a 200-token batch on 4 vpcd readers through pcscd, burned by the real
 * daemon process, which is SIGKILLed at 50 or more seeded random points and restarted on the same
 * data directory each time. Half the kills come from a timer (anywhere: start-up, identification,
 * claim, burn, idle); the other half are armed on an APDU step and fired by the emulated token
 * itself as the command reaches it, before or after it acts on it (GET INFO, auth, config write,
 * seed write, clock read-back). The tokens live in this test process, so they survive the kills,
 * and each stays in its reader until the daemon says it is done.
 *
 * At the end: all 200 items committed; every emulated token holds exactly the seed the journal
 * has for its serial; no seed is on two tokens; the export equals the emulators' state; and no
 * seed is in the daemons' logs or the journal files.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hiBase32 from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { parseOtpauthUri } from "../../src/input/secret.js";
import { exportBatch } from "../../src/store/export/index.js";
import { Journal } from "../../src/store/journal.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { ensurePcscd, hasQuickackRoute, lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { ensureBuilt, RpcClient, spawnDaemon, type Daemon } from "../fixtures/daemon.js";
import { prng } from "../fixtures/prng.js";
import { CardRig } from "./_card-rig.js";
import { KillSwitchCard, type Arm } from "./_kill-switch-card.js";

const missing = missingPcscStack();
if (missing) console.warn(`batch crash test skipped: ${missing}`);

const TOKENS = 200;
const KILLS = 50;
const SEED = Number(process.env.OTPBRIDGE_CRASH_SEED ?? 20261129);
const READERS = VPCD_READERS.filter((r) => /^Virtual PCD [BC] 00 0[01]$/.test(r.name));
/** cla:ins of the steps a kill can be armed on (docs/PROTOCOL.md §2.10). */
const STEPS = ["80:41", "80:4b", "80:ce", "84:d4", "84:c5"];

const connect = (d: { port: number; token: string }): Promise<RpcClient> => RpcClient.native(d as Parameters<typeof RpcClient.native>[0]);

describe.skipIf(missing !== undefined)("batch crash safety through pcscd", () => {
  let release = (): void => {};
  let rig: CardRig;
  let root: string;

  beforeAll(async () => {
    release = await lockPcscd(300_000);
    ensurePcscd();
    if (!hasQuickackRoute()) console.warn("no quickack route for 127.0.0.2: every APDU waits ~44 ms for a delayed ACK");
    ensureBuilt();
    rig = await CardRig.open(READERS.map((r) => r.name));
    root = mkdtempSync(join(tmpdir(), "otpb-crash-"));
  }, 400_000);

  afterAll(async () => {
    await rig?.close();
    release();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it(`${TOKENS} tokens on ${READERS.length} readers, daemon SIGKILLed at ${KILLS}+ random points: every token holds exactly its journal seed`, async () => {
    const random = prng(SEED).float;
    const t0 = Date.now();
    const dataDir = join(root, "data");
    const tokens = Array.from(
      { length: TOKENS },
      (_, i) => new SingleProfileToken({ serial: `8659${["6121", "6221", "6321", "6011"][i % 4]}${String(i + 1).padStart(6, "0")}` }),
    );
    const queue = [...tokens];
    const done = new Set<string>();
    let kills = 0;
    let apduKills = 0;
    let daemon: Daemon | undefined;
    // A kill armed on an APDU step: the next card to see that step fires it.
    let arm: Arm | undefined;
    // Serials whose last tap ended without the item committed: the operator taps them again.
    const retap = new Set<string>();
    // Every daemon's log lines (warn and above), for the seed scan at the end.
    const logs: string[] = [];
    const fire = (): void => {
      if (arm === undefined || daemon === undefined) return;
      arm = undefined;
      apduKills++;
      daemon.child.kill("SIGKILL");
    };

    const familyArgs = READERS.map((r) => `--family=${r.name}=single-profile`);
    let client: RpcClient | undefined;
    const follow = (c: RpcClient): void => {
      c.ws.on("message", (data) => {
        const msg = JSON.parse(String(data));
        if (msg.method !== "batch.item") return;
        if (msg.params.outcome === "committed" || msg.params.outcome === "already-committed") done.add(msg.params.serial);
        else retap.add(msg.params.serial);
      });
    };

    // Create and start the batch through a first daemon, not killed before it has answered.
    daemon = spawnDaemon({ dataDir, args: familyArgs, simulate: false, logLevel: "warn", from: "build" });
    const firstAddress = await daemon.listening;
    if (firstAddress === undefined) throw new Error(`daemon did not start: ${daemon.stderr.join("\n")}`);
    client = await connect(firstAddress);
    follow(client);
    const batchId: number = (await client.call("batch.create", { name: "crash", generate: TOKENS })).result.batch.id;
    expect((await client.call("batch.start", { batchId })).result.batch.state).toBe("running");

    /** One daemon life: connect once listening, poll status, until it dies or everything is done. */
    async function life(d: Daemon, address: { port: number; token: string }): Promise<void> {
      try {
        if (client === undefined) {
          client = await connect(address);
          follow(client);
        }
      } catch {
        return; // killed while connecting
      }
      while (d.child.exitCode === null && d.child.signalCode === null && done.size < TOKENS) {
        const reply = await Promise.race([client.call("batch.status", { batchId }), d.exited.then(() => undefined)]);
        for (const r of reply?.result?.progress.readers ?? []) {
          if ((r.state === "done" || (r.state === "remove" && r.outcome === "already-committed")) && r.serial !== null) done.add(r.serial);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }

    const lives = (async () => {
      for (;;) {
        const d = daemon!;
        arm = undefined;
        if (kills < KILLS) {
          // One kill per life, from the moment the process is spawned: a timer (any point, start-up
          // included), or a step armed on the tokens, with a timer behind it should no card see it.
          kills++;
          const byStep = random() < 0.5;
          if (byStep) arm = { step: STEPS[Math.floor(random() * STEPS.length)]!, after: random() < 0.5 };
          const delay = byStep ? 2_500 : 300 + Math.floor(random() * 1_500);
          setTimeout(() => d.child.kill("SIGKILL"), delay).unref();
        }
        const address = await d.listening;
        if (address !== undefined) await life(d, address);
        if (done.size >= TOKENS) break;
        await d.exited;
        logs.push(...d.stderr);
        client?.close();
        client = undefined;
        daemon = spawnDaemon({ dataDir, args: familyArgs, simulate: false, logLevel: "warn", from: "build" }); // same data directory: the journal and the batch carry on
      }
    })();

    /** One reader's operator: tap the next token, leave it until it is done, lift it. */
    async function operator(reader: { name: string; port: number }): Promise<void> {
      for (let token = queue.shift(); token !== undefined; token = queue.shift()) {
        const serial = token.state().serial;
        const card = new KillSwitchCard(token, () => arm, fire);
        let slot: InsertedCard = await rig.insert(card, reader);
        let since = Date.now();
        while (!done.has(serial)) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          // A tap cut short (or one no daemon saw to its end within 10 s): lift the token and tap it again.
          if (retap.delete(serial) || Date.now() - since > 10_000) {
            await rig.remove(slot, reader.name);
            slot = await rig.insert(card, reader);
            since = Date.now();
          }
        }
        await rig.remove(slot, reader.name);
      }
    }

    await Promise.all(READERS.map(operator));
    await lives;
    client?.close();
    const final = daemon!;
    final.child.kill("SIGTERM");
    expect(await final.exited).toBe(0);
    logs.push(...final.stderr);
    console.log(`crash test: ${kills} kills (${apduKills} fired by a token at an APDU step), seed ${SEED}, ${Math.round((Date.now() - t0) / 1000)} s`);
    expect(kills).toBeGreaterThanOrEqual(KILLS);

    const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
    try {
      const status = journal.status(batchId);
      expect(status.counts).toMatchObject({ committed: TOKENS, pending: 0, claimed: 0, burned: 0, verified: 0, failed: 0 });
      const resumed = journal.items(batchId).filter((i) => i.attempts > 1).length;
      console.log(`crash test: ${resumed} items were resumed after a kill`);
      const bySerial = journal.withCommittedSeeds(batchId, (items) => new Map(items.map((i) => [i.serial, Buffer.from(i.seed).toString("hex")])));
      expect(bySerial.size).toBe(TOKENS);
      for (const token of tokens) {
        const { serial, seed } = token.state();
        // Every token holds a seed, and exactly the one the journal has for its serial.
        expect(seed.length, serial).toBe(20);
        expect(Buffer.from(seed).toString("hex"), serial).toBe(bySerial.get(serial));
      }
      // No seed on two tokens.
      expect(new Set(bySerial.values()).size).toBe(TOKENS);
      const out = join(root, "export.txt");
      exportBatch(journal, batchId, { format: "otpauth" }, out);
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const exported = readFileSync(out, "utf8")
        .trim()
        .split("\n")
        .map((uri) => parseOtpauthUri(uri));
      expect(exported).toHaveLength(TOKENS);
      const emulated = new Map(tokens.map((t) => [t.state().serial, Buffer.from(t.state().seed).toString("hex")]));
      expect(new Map(exported.map((a) => [a.label, Buffer.from(a.secret).toString("hex")]))).toEqual(emulated);
      // Killed mid-transaction 50 times, the journal files (the key file aside) and the logs still
      // hold no seed as raw bytes, hex or base32.
      const haystacks = [
        Buffer.from(logs.join("\n")),
        ...readdirSync(dataDir)
          .filter((f) => f !== "seed.key")
          .map((f) => readFileSync(join(dataDir, f))),
      ];
      const leaks = tokens.filter((t) => {
        const seed = Buffer.from(t.state().seed);
        const forms = [seed, Buffer.from(seed.toString("hex")), Buffer.from(hiBase32.encode(seed).replace(/=+$/, ""))];
        return haystacks.some((h) => forms.some((f) => h.includes(f)));
      });
      expect(leaks.map((t) => t.state().serial)).toEqual([]);
    } finally {
      journal.close();
    }
  }, 400_000);
});
