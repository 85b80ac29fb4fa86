/**
 * The devices, burn and sync-time commands in process, with --simulate forced to in-memory
 * readers (the same commands through pcscd and vpcd are in test/e2e). The simulated token's own
 * display (simulatedTokenShows) is the emulator's code for the time it was set to.
 */
import { PNG } from "pngjs";
import jpeg from "jpeg-js";
import QRCode from "qrcode";
import base32 from "hi-base32";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, type CliRun } from "../fixtures/cli.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { closeSntpResponders, sntpResponder } from "../fixtures/sntp.js";
import { totp } from "../../src/crypto/index.js";

const SEED = Uint8Array.from(Buffer.from("3132333435363738393031323334353637383930", "hex"));
const SEED32 = base32.encode(Buffer.from(SEED)).replace(/=/g, "");
const dir = mkdtempSync(join(tmpdir(), "otpb-burn-"));

const json = (r: CliRun): Record<string, unknown> => JSON.parse(r.out.join("\n")) as Record<string, unknown>;

let previous: string | undefined;
beforeAll(() => {
  previous = process.env.OTPBRIDGE_SIMULATE_LINK;
  process.env.OTPBRIDGE_SIMULATE_LINK = "memory";
});
afterAll(() => {
  if (previous === undefined) delete process.env.OTPBRIDGE_SIMULATE_LINK;
  else process.env.OTPBRIDGE_SIMULATE_LINK = previous;
});

describe("otpbridge devices --simulate", () => {
  it("lists the four simulated tokens with model and serial", async () => {
    const r = await runCli(["devices", "--simulate", "--json"]);
    expect(r.code).toBe(0);
    const devices = json(r).devices as Array<Record<string, unknown>>;
    expect(devices.map((d) => [d.reader, d.family, d.model, d.state])).toEqual([
      ["Simulated NFC reader 1", "single-profile", "OTPC-P1-i", "ready"],
      ["Simulated NFC reader 2", "single-profile", "OTPC-P2-i", "ready"],
      ["Simulated NFC reader 3", "single-profile", "miniOTP-3-i", "ready"],
      ["Simulated NFC reader 4", "single-profile", "C302-i", "ready"],
    ]);
  });
});

describe("otpbridge burn --simulate", () => {
  it("burns, prints serial, model and the code, and the token shows that code", async () => {
    const r = await runCli(["burn", "--simulate", "--reader", "reader 2", "--secret-stdin", "--yes", "--json"], { stdin: `${SEED32}\n` });
    expect(r.code).toBe(0);
    const result = json(r) as { serial: string; model: string; codes: { time: number; current: string }; simulatedTokenShows: string };
    expect(result).toMatchObject({ serial: "86596221000002", model: "OTPC-P2-i", algorithm: "SHA1", period: 30, display: 30 });
    expect(result.simulatedTokenShows).toBe(result.codes.current);
    const predicted = await runCli(["code", "--secret", SEED32, "--time", String(result.codes.time)]);
    expect(predicted.out).toEqual([result.codes.current]);
  });

  it("prints a readable summary", async () => {
    const r = await runCli([
      "burn",
      "--simulate",
      "--reader",
      "reader 4",
      "--hex",
      Buffer.from(SEED).toString("hex"),
      "--period",
      "60",
      "--algorithm",
      "sha256",
      "-y",
    ]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe("serial   86596321000004");
    expect(r.out[1]).toBe("model    C302-i");
    // The clock is read back after the burn: the simulated token runs on the host clock.
    expect(r.out[3]).toMatch(/^clock {4}token clock (matches the host|is 1 s (ahead of|behind) the host)$/);
    expect(r.out[4]).toMatch(/^code {5}\d{6} {3}\(previous \d{6}, next \d{6}; SHA256, 60 s\)$/);
    expect(r.out[5]).toBe(`simulated token shows ${r.out[4]!.slice(9, 15)}`);
  });

  it("refuses a host clock more than 2 s off the --ntp server unless forced", async () => {
    const fast = await sntpResponder(5_000);
    const seed = ["burn", "--simulate", "--reader", "reader 2", "--secret", SEED32, "--yes", "--ntp", `127.0.0.1:${fast}`];
    const refused = await runCli(seed);
    expect(refused.code).toBe(EXIT_CODES.CLOCK_UNTRUSTED);
    expect(refused.err.join("\n")).toMatch(/5\.0 s behind 127\.0\.0\.1 \(limit 2 s\); not burning/);
    expect(refused.out).toEqual([]);
    const forced = await runCli([...seed, "--force"]);
    expect(forced.code).toBe(0);
    expect(forced.err.join("\n")).toMatch(/warning \(--force\): the system clock is 5\.0 s behind/);
    const close = await sntpResponder(500);
    expect((await runCli([...seed.slice(0, -1), `127.0.0.1:${close}`])).code).toBe(0);
    expect((await runCli([...seed.slice(0, -1), "127.0.0.1:99999"])).err.join("\n")).toMatch(/--ntp must be HOST, HOST:PORT/);
    await closeSntpResponders();
  });

  it("refuses with two or more tokens present and no --reader", async () => {
    const r = await runCli(["burn", "--simulate", "--secret", SEED32, "--yes"]);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toMatch(/4 single-profile tokens are present; choose one with --reader/);
  });

  it("refuses without --yes when there is no terminal, and when the person says no", async () => {
    const noTty = await runCli(["burn", "--simulate", "--reader", "reader 1", "--secret", SEED32]);
    expect(noTty.code).toBe(2);
    expect(noTty.err.join("\n")).toMatch(/no terminal to ask on: pass --yes/);
    const no = await runCli(["burn", "--simulate", "--reader", "reader 1", "--secret", SEED32], { answer: "n" });
    expect(no.code).toBe(2);
    expect(no.err.join("\n")).toMatch(/not confirmed; nothing was written/);
    const yes = await runCli(["burn", "--simulate", "--reader", "reader 1", "--secret", SEED32], { answer: "yes" });
    expect(yes.code).toBe(0);
  });

  it("takes algorithm and period from an otpauth URI, and refuses what the tokens cannot show", async () => {
    const uri = `otpauth://totp/ACME:alice?secret=${SEED32}&issuer=ACME&algorithm=SHA256&period=60`;
    const r = await runCli(["burn", "--simulate", "--reader", "reader 3", "--uri", uri, "--yes", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ algorithm: "SHA256", period: 60 });
    const eight = await runCli(["burn", "--simulate", "--reader", "reader 3", "--uri", uri.replace("period=60", "digits=8"), "--yes"]);
    expect(eight.code).toBe(2);
    expect(eight.err.join("\n")).toMatch(/not burned: single-profile tokens show 6 digits, not 8/);
    const both = await runCli(["burn", "--simulate", "--reader", "reader 3", "--uri", uri, "--period", "30", "--yes"]);
    expect(both.err.join("\n")).toMatch(/--period cannot be combined with an otpauth URI/);
  });

  it("reads the seed from a QR code screenshot, PNG or JPEG", async () => {
    const uri = `otpauth://totp/ACME:bob?secret=${SEED32}&issuer=ACME`;
    const pngPath = join(dir, "enrol.png");
    writeFileSync(pngPath, await QRCode.toBuffer(uri, { type: "png", scale: 6 }));
    const decoded = PNG.sync.read(await QRCode.toBuffer(uri, { type: "png", scale: 6 }));
    const jpgPath = join(dir, "enrol.jpg");
    writeFileSync(jpgPath, jpeg.encode({ data: decoded.data, width: decoded.width, height: decoded.height }, 90).data);
    for (const path of [pngPath, jpgPath]) {
      const r = await runCli(["burn", "--simulate", "--reader", "reader 1", "--qr", path, "--yes", "--json"]);
      expect(r.code).toBe(0);
      const result = json(r) as { codes: { time: number; current: string }; simulatedTokenShows: string };
      expect(result.codes.current).toBe(totp("SHA1", SEED, { time: result.codes.time }));
      expect(result.simulatedTokenShows).toBe(result.codes.current);
    }
    const notQr = join(dir, "blank.png");
    const blank = new PNG({ width: 50, height: 50 });
    blank.data.fill(255);
    writeFileSync(notQr, PNG.sync.write(blank));
    const r = await runCli(["burn", "--simulate", "--reader", "reader 1", "--qr", notQr, "--yes"]);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toMatch(/no QR code was found/);
    const text = join(dir, "plain.txt");
    writeFileSync(text, "hello");
    expect((await runCli(["burn", "--simulate", "--qr", text, "--yes"])).err.join("\n")).toMatch(/neither a PNG nor a JPEG/);
  });

  it("reads a hex seed from the environment with --encoding hex", async () => {
    process.env.OTPB_TEST_HEX_SEED = Buffer.from(SEED).toString("hex");
    try {
      const r = await runCli(["burn", "--simulate", "--reader", "reader 1", "--secret-env", "OTPB_TEST_HEX_SEED", "--encoding", "hex", "--yes", "--json"]);
      const result = json(r) as { codes: { time: number; current: string } };
      expect(result.codes.current).toBe(totp("SHA1", SEED, { time: result.codes.time }));
      const wrong = await runCli(["burn", "--simulate", "--reader", "reader 1", "--secret-env", "OTPB_TEST_HEX_SEED", "--yes"]);
      expect(wrong.code).toBe(2);
      expect(wrong.err.join("\n")).toMatch(/is it a hex seed\? use --hex/);
    } finally {
      delete process.env.OTPB_TEST_HEX_SEED;
    }
  });

  it("refuses implausible seeds before touching a device", async () => {
    const r = await runCli(["burn", "--simulate", "--reader", "reader 1", "--hex", "0102030405", "--yes"]);
    expect(r.code).toBe(2);
    expect(r.err.join("\n")).toMatch(/the seed is 5 bytes; a token takes 10 to 63/);
  });

  it("never writes the seed to stdout or stderr, even with --debug", async () => {
    const r = await runCli(["burn", "--debug", "--simulate", "--reader", "reader 2", "--secret-stdin", "--yes"], { stdin: SEED32 });
    expect(r.code).toBe(0);
    expect(r.err.length).toBeGreaterThan(5);
    const all = [...r.out, ...r.err].join("\n").toLowerCase();
    for (const form of [SEED32.toLowerCase(), Buffer.from(SEED).toString("hex"), Buffer.from(SEED).toString("base64").toLowerCase()]) {
      expect(all).not.toContain(form);
    }
  });

  it("the help explains why stdin or the environment is safer than the command line", async () => {
    const r = await runCli(["burn", "--help"]);
    expect(r.out.join("\n")).toMatch(/readable by every local user \(ps, \/proc\/PID\/cmdline\)/);
  });
});

describe("otpbridge sync-time --simulate", () => {
  it("--check prints the drift and writes nothing", async () => {
    const r = await runCli(["sync-time", "--simulate", "--reader", "reader 1", "--check", "--json"]);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ serial: "86596121000001", model: "OTPC-P1-i" });
    expect(Math.abs(json(r).driftSeconds as number)).toBeLessThanOrEqual(1);
  });

  it("refuses on a restricted model without --wipe-seed; with it and the seed, burns again", async () => {
    const refused = await runCli(["sync-time", "--simulate", "--reader", "reader 2", "--yes"]);
    expect(refused.code).toBe(2);
    expect(refused.err.join("\n")).toMatch(/erases the seed of a OTPC-P2-i/);
    const wiped = await runCli(["sync-time", "--simulate", "--reader", "reader 2", "--yes", "--wipe-seed", "--json"]);
    expect(json(wiped)).toMatchObject({ seed: "wiped", model: "OTPC-P2-i" });
    const reburn = await runCli(["sync-time", "--simulate", "--reader", "reader 2", "--yes", "--wipe-seed", "--secret", SEED32, "--json"]);
    const result = json(reburn) as { seed: string; codes: { time: number; current: string } };
    expect(result.seed).toBe("rewritten");
    expect(result.codes.current).toBe(totp("SHA1", SEED, { time: result.codes.time }));
  });

  it("keeps the seed on an unrestricted model", async () => {
    const r = await runCli(["sync-time", "--simulate", "--reader", "reader 4", "--yes"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("the seed was kept");
  });
});
