/**
 * `otpbridge molto2 ...` and `otpbridge applet ...` with --simulate, through main(): the emulated
 * Molto2 sits in an in-memory reader (its path through pcscd and vpcd is in molto2-cli.e2e.test.ts);
 * the emulated FIDO key is on the in-memory HID link.
 */
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import base32 from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";

const SEED_B32 = base32.encode("12345678901234567890").replace(/=/g, "");

describe("otpbridge molto2 --simulate", () => {
  const previous = process.env.OTPBRIDGE_SIMULATE_LINK;
  beforeAll(() => {
    process.env.OTPBRIDGE_SIMULATE_LINK = "memory";
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.OTPBRIDGE_SIMULATE_LINK;
    else process.env.OTPBRIDGE_SIMULATE_LINK = previous;
  });

  it("lists a fresh token", async () => {
    const r = await runCli(["molto2", "list", "--simulate"]);
    expect(r.code).toBe(0);
    expect(r.err[0]).toBe("simulated Molto2 (memory)");
    expect(r.out[0]).toMatch(/^Molto2 SIM000000000001, 100 profiles, clock /);
    expect(r.out.at(-1)).toBe("0 of 100 profiles in use");
  });

  it("writes a seed from stdin with its title and config, and never prints the seed", async () => {
    const r = await runCli(["molto2", "write", "--simulate", "--profile", "5", "--secret-stdin", "--title", "Okta", "--digits", "8"], {
      stdin: `${SEED_B32}\n`,
    });
    expect(r.code).toBe(0);
    expect(r.out.at(-1)).toMatch(/^ {2}5 {2}seed +SHA1 30s 8 digits +"Okta"$/);
    expect([...r.out, ...r.err].join("\n")).not.toContain(SEED_B32);
  });

  it("runs delete, sync, set-key, reset, lock and unlock", async () => {
    const empty = await runCli(["molto2", "delete", "--simulate", "--profile", "3"]);
    expect(empty.code).toBe(3);
    expect(empty.err.at(-1)).toBe("otpbridge: profile 3 holds no seed");
    const sync = await runCli(["molto2", "sync", "--simulate", "--all"]);
    expect(sync.out.at(-1)).toMatch(/^clock set to .* through 100 profile\(s\)$/);
    process.env.OTPB_TEST_NEW_KEY = "0123456789abcdef";
    const rekey = await runCli(["molto2", "set-key", "--simulate", "--new-key-env", "OTPB_TEST_NEW_KEY"]);
    delete process.env.OTPB_TEST_NEW_KEY;
    expect(rekey.out).toEqual(["press ▲ on the token", "customer key changed (the token accepted the new key)"]);
    const reset = await runCli(["molto2", "reset", "--simulate"]);
    expect(reset.out).toEqual(["press ▲ on the token", "factory reset confirmed: every profile is empty and the factory key is back"]);
    expect((await runCli(["molto2", "lock", "--simulate"])).out).toEqual(["screen locked"]);
    expect((await runCli(["molto2", "unlock", "--simulate"])).out).toEqual(["screen unlocked"]);
  });

  it("warns on stderr while the factory key is in use; refuses it as the new key; reset needs no key and warns of nothing", async () => {
    const lock = await runCli(["molto2", "lock", "--simulate"]);
    expect(lock.out).toEqual(["screen locked"]);
    expect(lock.err).toContain(
      "warning: this Molto2 still uses the public factory customer key TOKEN2MOLTO1-KEY: anyone holding it can rewrite its profiles; set your own with `otpbridge molto2 set-key`",
    );
    // A list reads public blocks only: no authentication, no warning.
    expect((await runCli(["molto2", "list", "--simulate"])).err.some((l) => l.startsWith("warning:"))).toBe(false);
    process.env.OTPB_TEST_NEW_KEY = "TOKEN2MOLTO1-KEY";
    const same = await runCli(["molto2", "set-key", "--simulate", "--new-key-env", "OTPB_TEST_NEW_KEY"]);
    process.env.OTPB_TEST_NEW_KEY = "abc";
    const short = await runCli(["molto2", "set-key", "--simulate", "--new-key-env", "OTPB_TEST_NEW_KEY"]);
    delete process.env.OTPB_TEST_NEW_KEY;
    expect(same.code).toBe(2);
    expect(same.err.at(-1)).toMatch(/^otpbridge: the new customer key is the public factory key TOKEN2MOLTO1-KEY; choose your own/);
    expect(same.err.some((l) => l.startsWith("simulated"))).toBe(false); // refused before the token is touched
    expect(short.code).toBe(0);
    expect(short.err).toContain(
      "warning: the new customer key is 3 bytes; 16 or more are advised, as a short key is easier to guess (the token accepts any length)",
    );
    expect(short.err.some((l) => l.includes("factory customer key"))).toBe(false);
    const reset = await runCli(["molto2", "reset", "--simulate"]);
    expect(reset.code).toBe(0);
    expect(reset.err.some((l) => l.startsWith("warning:"))).toBe(false); // it never authenticated
  });

  it("stops at a wrong customer key with the tries left and exit code 77, without echoing the key", async () => {
    const r = await runCli(["molto2", "lock", "--simulate", "--key-stdin"], { stdin: "not the key\n" });
    expect(r.code).toBe(77);
    expect(r.err.at(-1)).toBe("otpbridge: wrong customer key: 9 tries left before the token locks");
    expect([...r.out, ...r.err].join("\n")).not.toContain("not the key");
  });

  it("reads the customer key from a file, as ASCII or hex", async () => {
    const dir = mkdtempSync(join(tmpdir(), "otpb-molto2-"));
    const ascii = join(dir, "key.txt");
    const hexFile = join(dir, "key.hex");
    writeFileSync(ascii, "TOKEN2MOLTO1-KEY\n");
    writeFileSync(hexFile, Buffer.from("TOKEN2MOLTO1-KEY").toString("hex"));
    chmodSync(ascii, 0o600);
    chmodSync(hexFile, 0o600);
    expect((await runCli(["molto2", "lock", "--simulate", "--key-file", ascii])).out).toEqual(["screen locked"]);
    expect((await runCli(["molto2", "lock", "--simulate", "--key-file", hexFile, "--key-hex"])).out).toEqual(["screen locked"]);
    const asText = await runCli(["molto2", "lock", "--simulate", "--key-file", hexFile]);
    expect(asText.code).toBe(77); // the hex digits taken as ASCII are another key
    expect((await runCli(["molto2", "lock", "--simulate", "--key-file", ascii, "--key-hex"])).code).toBe(2);
  });

  it("rejects bad input before touching a token", async () => {
    for (const argv of [
      ["molto2", "write", "--simulate"],
      ["molto2", "write", "--simulate", "--profile", "100", "--title", "x"],
      ["molto2", "write", "--simulate", "--profile", "1", "--secret", SEED_B32, "--digits", "7"],
      ["molto2", "write", "--simulate", "--profile", "1", "--secret", SEED_B32, "--algorithm", "SHA512"],
      ["molto2", "sync", "--simulate"],
      ["molto2", "set-key", "--simulate"],
      ["molto2", "lock", "--simulate", "--key-stdin", "--secret-stdin"],
      ["molto2", "frobnicate"],
    ]) {
      const r = await runCli(argv);
      expect(r.code, argv.join(" ")).toBe(2);
      expect(r.err.some((l) => l.startsWith("simulated"))).toBe(false);
    }
  });
});

describe("otpbridge applet --simulate", () => {
  it("adds an entry and shows its code; list and delete on a fresh key", async () => {
    const add = await runCli(["applet", "add", "--simulate", "--app", "ACME", "--account", "bob", "--secret-stdin"], { stdin: SEED_B32 });
    expect(add.code).toBe(0);
    expect(add.out).toEqual(["added ACME:bob (TOTP SHA1 6 digits, 30 s)"]);
    expect((await runCli(["applet", "list", "--simulate"])).out).toEqual(["0 entries"]);
    const missing = await runCli(["applet", "delete", "--simulate", "--account", "bob"]);
    expect(missing.code).toBe(3);
    expect(missing.err.at(-1)).toMatch(/no such entry/);
    const code = await runCli(["applet", "code", "--simulate", "--account", "bob"]);
    expect(code.code).toBe(3);
  });

  it("refuses two device choices and a missing account", async () => {
    expect((await runCli(["applet", "list", "--simulate", "--hid", "/dev/hidraw0"])).code).toBe(2);
    expect((await runCli(["applet", "code", "--simulate"])).code).toBe(2);
  });
});
