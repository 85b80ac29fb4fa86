/**
 * `otpbridge burn` end to end: the real CLI binary (dist/, built by scripts/test.sh or
 * `npm run build`) -> pcsclite -> pcscd -> vpcd -> TCP -> the Family A emulator in this process.
 * Every model of docs/PROTOCOL.md §2.1, four readers burning at once; afterwards each emulator holds
 * exactly the seed and config given and shows the code that `otpbridge code` predicts.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import base32 from "hi-base32";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { SINGLE_PROFILE_MODELS } from "../../src/protocol/models.js";
import { REPO_ROOT, missingPcscStack } from "../fixtures/pcscd.js";
import { OUR_READERS, openRig, type PcscRig } from "./_pcsc.js";

const missing = missingPcscStack() ?? (existsSync(join(REPO_ROOT, "dist/src/cli/main.js")) ? undefined : "dist/ is not built (npm run build)");
if (missing) console.warn(`single-profile burn end-to-end tests skipped: ${missing}`);

const BIN = join(REPO_ROOT, "bin/otpbridge.js");

/** Runs the CLI with `stdin`; resolves with its exit code and output, never rejects. */
function cli(args: string[], stdin = ""): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    child.stdin!.end(stdin);
  });
}

const SETTINGS = [
  { algorithm: "SHA1", period: 30, display: 15, seedLength: 20 },
  { algorithm: "SHA256", period: 60, display: 120, seedLength: 32 },
  { algorithm: "SHA1", period: 60, display: 60, seedLength: 16 },
  { algorithm: "SHA256", period: 30, display: 30, seedLength: 48 },
] as const;

describe.skipIf(missing !== undefined)("otpbridge burn through pcscd and vpcd", () => {
  let rig: PcscRig;

  beforeAll(async () => {
    rig = await openRig();
  }, 150_000);

  // A failed test leaves its cards in: the next one must not inherit them.
  afterEach(() => rig?.removeAll());
  afterAll(async () => {
    await rig?.close();
  });

  it("burns every model, four readers at once; each emulator holds that seed and config and shows the predicted code", async () => {
    for (let round = 0; round < SINGLE_PROFILE_MODELS.length / OUR_READERS.length; round++) {
      const jobs = await Promise.all(
        OUR_READERS.map(async (reader, i) => {
          const model = SINGLE_PROFILE_MODELS[round * OUR_READERS.length + i]!;
          const settings = SETTINGS[i]!;
          const token = new SingleProfileToken({ serial: `${model.prefix}${String(round * 10 + i).padStart(7, "0")}` });
          const slot = await rig.insert(token, reader);
          const seed = new Uint8Array(randomBytes(settings.seedLength));
          return { reader, model, settings, token, slot, seed };
        }),
      );
      const results = await Promise.all(
        jobs.map(({ reader, settings, seed }) =>
          cli(
            [
              "burn",
              "--reader",
              reader.name,
              "--family",
              `${reader.name}=single-profile`,
              "--secret-stdin",
              "--yes",
              "--json",
              "--algorithm",
              settings.algorithm,
              "--period",
              String(settings.period),
              "--display",
              String(settings.display),
            ],
            base32.encode(Buffer.from(seed)),
          ),
        ),
      );
      for (const [i, { reader, model, settings, token, slot, seed }] of jobs.entries()) {
        const run = results[i]!;
        expect(run.stderr).toBe("");
        expect(run.code).toBe(0);
        const result = JSON.parse(run.stdout) as {
          serial: string;
          model: string;
          reader: string;
          codes: { time: number; previous: string; current: string; next: string };
        };
        expect(result).toMatchObject({ serial: token.state().serial, model: model.name, reader: reader.name, restrictedSync: model.restrictedSync });
        const state = token.state();
        const stored = seed.length < 20 ? Uint8Array.from([...seed, ...new Uint8Array(20 - seed.length)]) : seed;
        expect(Buffer.from(state.seed).toString("hex")).toBe(Buffer.from(stored).toString("hex"));
        expect(state).toMatchObject({
          alg: settings.algorithm === "SHA1" ? 1 : 2,
          step: settings.period,
          display: [15, 30, 60, 120].indexOf(settings.display),
          keyLocked: false,
        });
        // The emulator's clock was set to codes.time and has run on since.
        expect(state.rtc - result.codes.time).toBeGreaterThanOrEqual(0);
        expect(state.rtc - result.codes.time).toBeLessThan(5);
        expect(token.code(result.codes.time)).toBe(result.codes.current);
        const predicted = await cli(
          ["code", "--secret-stdin", "--algorithm", settings.algorithm, "--period", String(settings.period), "--time", String(state.rtc)],
          base32.encode(Buffer.from(seed)),
        );
        // Both at the same instant: the CLI child takes long enough to cross a step boundary.
        expect(predicted.stdout.trim()).toBe(token.code(state.rtc));
        await rig.remove(slot, reader.name);
      }
    }
  }, 120_000);

  it("sync-time: reads the drift, refuses to wipe a restricted model's seed unconfirmed, re-burns it when confirmed with the seed", async () => {
    const reader = OUR_READERS[2]!;
    const token = new SingleProfileToken({ serial: "86596220000077", clock: () => Math.floor(Date.now() / 1000) + 100 });
    const slot = await rig.insert(token, reader);
    const seed = new Uint8Array(randomBytes(20));
    const b32 = base32.encode(Buffer.from(seed));
    const base = ["--reader", reader.name, "--family", `${reader.name}=single-profile`];
    const check = await cli(["sync-time", ...base, "--check", "--json"]);
    expect(check.code).toBe(0);
    expect((JSON.parse(check.stdout) as { driftSeconds: number }).driftSeconds).toBeGreaterThanOrEqual(99);
    expect((JSON.parse(check.stdout) as { driftSeconds: number }).driftSeconds).toBeLessThanOrEqual(101);
    expect(token.state()).toMatchObject({ armed: false, authed: false });
    // The burn sets the clock to the host's time.
    expect((await cli(["burn", ...base, "--secret-stdin", "--yes"], b32)).code).toBe(0);
    const refused = await cli(["sync-time", ...base, "--yes"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/erases the seed of a OTPC-P2-i/);
    expect(Buffer.from(token.state().seed).equals(Buffer.from(seed))).toBe(true);
    const synced = await cli(["sync-time", ...base, "--yes", "--wipe-seed", "--secret-stdin", "--json"], b32);
    expect(synced.code).toBe(0);
    const result = JSON.parse(synced.stdout) as { seed: string; codes: { time: number; current: string } };
    expect(result.seed).toBe("rewritten");
    expect(Buffer.from(token.state().seed).equals(Buffer.from(seed))).toBe(true);
    expect(token.code(result.codes.time)).toBe(result.codes.current);
    await rig.remove(slot, reader.name);
  }, 60_000);

  it("refuses an unknown serial after GET INFO alone, and a locked token after one AUTH FINISH", async () => {
    const [a, b] = OUR_READERS;
    const unknown = new SingleProfileToken({ serial: "86596230000001" });
    const locked = new SingleProfileToken({ serial: "86596220000099", keyLocked: true });
    const slotA = await rig.insert(unknown, a!);
    const slotB = await rig.insert(locked, b!);
    const seed = base32.encode(Buffer.from(randomBytes(20)));
    const [ra, rb] = await Promise.all([
      cli(["burn", "--reader", a!.name, "--secret-stdin", "--yes"], seed),
      cli(["burn", "--reader", b!.name, "--secret-stdin", "--yes"], seed),
    ]);
    expect(ra.code).toBe(4);
    expect(ra.stderr).toMatch(/no single-profile token ready.*unsupported \(serial matches no known programmable model\)/);
    expect(unknown.state()).toMatchObject({ armed: false, authed: false, failedAuths: 0 });
    expect(rb.code).toBe(3);
    expect(rb.stderr).toMatch(/refused authentication \(6983\).*nothing was written/);
    expect(locked.state().seed).toHaveLength(0);
    await rig.remove(slotA, a!.name);
    await rig.remove(slotB, b!.name);
  }, 60_000);
});
