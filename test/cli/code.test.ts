import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import base32 from "hi-base32";
import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import QRCode from "qrcode";
import { runCli } from "../fixtures/cli.js";
import { prng } from "../fixtures/prng.js";
import { encodeMigrationUri } from "../../src/input/migration.js";

const SHA1_SEED = base32.encode("12345678901234567890").replace(/=/g, "");
const SHA256_SEED = base32.encode("12345678901234567890123456789012").replace(/=/g, "");

describe("otpbridge code", () => {
  it("prints the RFC 6238 Appendix B codes", async () => {
    expect((await runCli(["code", "--secret", SHA1_SEED, "--digits", "8", "--time", "59"])).out).toEqual(["94287082"]);
    expect((await runCli(["code", "--secret", SHA256_SEED, "--algorithm", "sha256", "--digits", "8", "--time", "1111111109"])).out).toEqual(["68084774"]);
  });

  it("takes algorithm, digits and period from an otpauth URI", async () => {
    const uri = `otpauth://totp/ACME:alice?secret=${SHA256_SEED}&issuer=ACME&algorithm=SHA256&digits=8&period=30`;
    expect((await runCli(["code", "--uri", uri, "--time", "2000000000"])).out).toEqual(["90698825"]);
  });

  it("reads the seed from stdin, a file and the environment", async () => {
    const dir = mkdtempSync(join(tmpdir(), "otpb-cli-"));
    const file = join(dir, "seed.txt");
    writeFileSync(file, `${SHA1_SEED}\n`);
    chmodSync(file, 0o600);
    process.env.OTPB_TEST_SEED = SHA1_SEED.toLowerCase();
    const args = ["--digits", "8", "--time", "59"];
    expect((await runCli(["code", "--secret-stdin", ...args], { stdin: ` ${SHA1_SEED}\n` })).out).toEqual(["94287082"]);
    expect((await runCli(["code", "--secret-file", file, ...args])).out).toEqual(["94287082"]);
    expect((await runCli(["code", "--secret-env", "OTPB_TEST_SEED", ...args])).out).toEqual(["94287082"]);
    delete process.env.OTPB_TEST_SEED;
  });

  it("accepts base32 as people paste it: lower case, spaces, padding", async () => {
    const messy = `${SHA1_SEED.toLowerCase().replace(/(.{4})/g, "$1 ")}====`;
    expect((await runCli(["code", "--secret", messy, "--digits", "8", "--time", "59"])).out).toEqual(["94287082"]);
  });

  it("agrees with the otpauth package on random seeds and times", async () => {
    const rand = prng(0x12345678).float;
    for (let i = 0; i < 200; i++) {
      const seed = Uint8Array.from({ length: 1 + Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
      const algorithm = (["SHA1", "SHA256", "SHA512"] as const)[i % 3]!;
      const digits = 6 + (i % 3);
      const period = [30, 60, 15][i % 3]!;
      const time = Math.floor(rand() * 4e9);
      const secret = new OTPAuth.Secret({ buffer: seed.slice().buffer });
      const expected = new OTPAuth.TOTP({ secret, algorithm, digits, period }).generate({ timestamp: time * 1000 });
      const args = ["code", "--secret", secret.base32, "--algorithm", algorithm];
      const result = await runCli([...args, "--digits", `${digits}`, "--period", `${period}`, "--time", `${time}`]);
      expect(result.out).toEqual([expected]);
    }
  });

  it("takes the seed as hex, from --hex or with --encoding hex, and from a QR code image", async () => {
    const hexSeed = Buffer.from("12345678901234567890").toString("hex");
    const args = ["--digits", "8", "--time", "59"];
    expect((await runCli(["code", "--hex", hexSeed, ...args])).out).toEqual(["94287082"]);
    expect((await runCli(["code", "--secret-stdin", "--encoding", "hex", ...args], { stdin: `${hexSeed}\n` })).out).toEqual(["94287082"]);
    // Without --encoding hex the same text is read as base32, which it is not.
    expect((await runCli(["code", "--secret-stdin", ...args], { stdin: hexSeed })).code).toBe(2);
    const png = join(mkdtempSync(join(tmpdir(), "otpb-cli-")), "qr.png");
    writeFileSync(png, await QRCode.toBuffer(`otpauth://totp/ACME:alice?secret=${SHA1_SEED}&digits=8`, { type: "png", scale: 6 }));
    expect((await runCli(["code", "--qr", png, "--time", "59"])).out).toEqual(["94287082"]);
  });

  it("names on stderr each account of an export it skips, and prints the TOTP codes", async () => {
    const seed = Buffer.from("12345678901234567890");
    const uri = encodeMigrationUri([
      { secret: seed, name: "alice@example.com", issuer: "ACME", algorithm: 1, digits: 1, type: 2 },
      { secret: Buffer.from("abcdefghij0123456789"), name: "vpn", issuer: "Corp", algorithm: 1, digits: 1, type: 1 },
    ]);
    const result = await runCli(["code", "--secret-stdin", "--time", "59"], { stdin: uri });
    expect(result.code).toBe(0);
    expect(result.out).toEqual(["287082"]);
    expect(result.err).toEqual(["skipped account 2 (Corp: vpn): a counter-based (HOTP) account; this command prints time-based (TOTP) codes"]);
  });

  it("prints one named line per TOTP account of a Google Authenticator export", async () => {
    const seeds = [Buffer.from("12345678901234567890"), Buffer.from("abcdefghij0123456789")];
    // Protobuf enum values of the export format: algorithm 1 = SHA1, digits 1 = six, type 2 = TOTP.
    const uri = encodeMigrationUri([
      { secret: seeds[0]!, name: "alice@example.com", issuer: "ACME", algorithm: 1, digits: 1, type: 2 },
      { secret: seeds[1]!, name: "bob", algorithm: 1, digits: 1, type: 2 },
    ]);
    const result = await runCli(["code", "--secret-stdin", "--time", "59"], { stdin: uri });
    const expected = seeds.map((seed) =>
      new OTPAuth.TOTP({ secret: new OTPAuth.Secret({ buffer: Uint8Array.from(seed).buffer }) }).generate({ timestamp: 59_000 }),
    );
    expect(result.out).toEqual([`${expected[0]}  ACME: alice@example.com`, `${expected[1]}  bob`]);
  });

  const BAD: Array<[string, string[], RegExp]> = [
    ["bad base32", ["--secret", "JBSWY3DPEHPK3PX1"], /outside A-Z and 2-7 at position 16 .*hex seed/],
    ["impossible base32 length", ["--secret", "JBSWY3DPE"], /cannot encode whole bytes/],
    ["empty seed", ["--secret", "  "], /the seed read from argument is empty/],
    ["no seed", [], /no seed given/],
    ["two seeds", ["--secret", "JBSWY3DP", "--secret-env", "X"], /give the seed once/],
    ["digits out of range", ["--secret", "JBSWY3DP", "--digits", "11"], /--digits must be between 4 and 10, got 11/],
    ["digits not a number", ["--secret", "JBSWY3DP", "--digits", "6x"], /--digits must be a whole number/],
    ["period zero", ["--secret", "JBSWY3DP", "--period", "0"], /--period must be between 1 and 86400/],
    ["unknown algorithm", ["--secret", "JBSWY3DP", "--algorithm", "MD5"], /--algorithm must be SHA1, SHA256 or SHA512/],
    ["URI plus a parameter", ["--uri", "otpauth://totp/a?secret=JBSWY3DP", "--digits", "8"], /cannot be combined/],
    ["hotp URI", ["--uri", "otpauth://hotp/a?secret=JBSWY3DP&counter=1"], /otpauth:\/\/hotp code: a counter-based .*time-based codes only/],
    ["malformed URI", ["--uri", "otpauth://totp/a?secret=JBSWY3D1"], /bad otpauth URI: .*secret/],
    ["URI digits out of range", ["--uri", "otpauth://totp/a?secret=JBSWY3DP&digits=99"], /digits must be 4 to 10/],
    ["a web link", ["--uri", "https://example.com/?secret=JBSWY3DP"], /you scanned a web link/],
    ["a token's serial barcode", ["--secret", "86596220000001"], /serial-number barcode/],
    ["unknown flag", ["--secret", "JBSWY3DP", "--bogus"], /Unknown option '--bogus'/],
    ["missing env variable", ["--secret-env", "OTPB_DOES_NOT_EXIST"], /OTPB_DOES_NOT_EXIST is not set/],
  ];
  for (const [what, args, message] of BAD) {
    it(`exits 2 with one line for ${what}`, async () => {
      const result = await runCli(["code", ...args]);
      expect(result.code).toBe(2);
      expect(result.out).toEqual([]);
      expect(result.err).toHaveLength(1);
      expect(result.err[0]).toMatch(/^otpbridge: /);
      expect(result.err[0]).toMatch(message);
      expect(result.err[0]).not.toContain("JBSWY3DP");
    });
  }
});

describe("the otpbridge binary", () => {
  const bin = join(import.meta.dirname, "../../bin/otpbridge.js");

  it("reads the seed on stdin and prints only the code on stdout", () => {
    const stdout = execFileSync("node", [bin, "code", "--secret-stdin", "--digits", "8", "--time", "59"], {
      input: SHA1_SEED,
      encoding: "utf8",
    });
    expect(stdout).toBe("94287082\n");
  });

  it("exits 2 with one line on stderr for a bad seed", () => {
    const result = spawnSync("node", [bin, "code", "--secret", "not base32!"], { encoding: "utf8" });
    expect(result.status).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/^otpbridge: the base32 secret has a character outside/);
  });

  it("lists its commands and explains why stdin, files and env are safer than arguments", () => {
    expect(execFileSync("node", [bin, "--help"], { encoding: "utf8" })).toMatch(/code\s+print the TOTP code/);
    expect(execFileSync("node", [bin, "code", "--help"], { encoding: "utf8" })).toMatch(/shell history/);
  });
});
