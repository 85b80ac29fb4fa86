/**
 * seedForDevice: the one set of seed rules of the CLI, the API and batch items. The API's side is
 * tested through the daemon (test/daemon/seed-input.test.ts); here, every rule on its own.
 */
import hiBase32 from "hi-base32";
import { describe, expect, it } from "vitest";
import { encodeMigrationUri } from "../../src/input/migration.js";
import { checkBurnerSeedLength, seedForDevice } from "../../src/input/seed-input.js";
import { failure } from "../fixtures/errors.js";

const SEED = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const B32 = hiBase32.encode(SEED).replace(/=+$/, "");
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("seedForDevice", () => {
  it("a bare base32 seed takes the explicit parameters, defaults SHA1, 6 digits, 30 s", () => {
    expect(seedForDevice(B32.toLowerCase(), "single-profile")).toMatchObject({ algorithm: "SHA1", digits: 6, period: 30, fromUri: false });
    const molto2 = seedForDevice(B32, "molto2", { explicit: { algorithm: "SHA256", digits: 8, period: undefined } });
    expect(molto2).toMatchObject({ algorithm: "SHA256", digits: 8, period: 30 });
    expect(hex(molto2.secret)).toBe(hex(SEED));
  });

  it("hex only when asked", () => {
    expect(hex(seedForDevice(hex(SEED), "single-profile", { hex: true }).secret)).toBe(hex(SEED));
    expect(failure(() => seedForDevice(hex(SEED), "single-profile")).reason).toBe("INVALID_SECRET_FORMAT");
  });

  it("an otpauth URI sets the parameters and names the account; a parameter beside it is refused, named as the caller names it", () => {
    const uri = `otpauth://totp/ACME:carol?secret=${B32}&issuer=ACME&algorithm=SHA256&digits=8&period=60`;
    expect(seedForDevice(uri, "otp-applet")).toMatchObject({ algorithm: "SHA256", digits: 8, period: 60, fromUri: true, label: "carol", issuer: "ACME" });
    const api = failure(() => seedForDevice(uri, "otp-applet", { explicit: { digits: 6, period: 60 } }));
    expect([api.reason, api.message, api.detail.param]).toEqual([
      "INVALID_INPUT",
      "digits, period cannot be combined with an otpauth URI, which sets them",
      "digits",
    ]);
    const cli = failure(() => seedForDevice(uri, "otp-applet", { explicit: { algorithm: "SHA1" }, paramName: (p) => `--${p}` }));
    expect(cli.message).toBe("--algorithm cannot be combined with an otpauth URI, which sets it");
  });

  it("checks the family's capability table, listing every problem", () => {
    const uri = `otpauth://totp/a?secret=${B32}&algorithm=SHA512&digits=8`;
    const error = failure(() => seedForDevice(uri, "single-profile"));
    expect(error.reason).toBe("NOT_BURNABLE");
    expect(error.message).toBe("not burned: single-profile tokens compute SHA1 or SHA256, not SHA512; single-profile tokens show 6 digits, not 8");
    expect(failure(() => seedForDevice(B32, "molto2", { explicit: { digits: 7 } })).message).toBe("not burned: molto2 tokens show 4, 6, 8 or 10 digits, not 7");
    expect(failure(() => seedForDevice(hex(new Uint8Array(20)), "molto2", { hex: true })).message).toMatch(/all-zero seed is the molto2 "clear" value/);
    expect(seedForDevice(B32, "otp-applet", { explicit: { period: 45, digits: 10 } })).toMatchObject({ period: 45, digits: 10 });
  });

  it("takes a one-account Google Authenticator export, refuses one of several", () => {
    const one = encodeMigrationUri([{ secret: SEED, name: "ACME:dave", issuer: "ACME", algorithm: 2, digits: 2, type: 2 }]);
    expect(seedForDevice(one, "molto2")).toMatchObject({ algorithm: "SHA256", digits: 8, fromUri: true, label: "dave" });
    const two = encodeMigrationUri([
      { secret: SEED, name: "a", type: 2 },
      { secret: SEED, name: "b", type: 2 },
    ]);
    expect(failure(() => seedForDevice(two, "molto2")).message).toMatch(/^this export holds 2 accounts and a device entry takes one/);
  });

  it("refuses wrong codes with advice for the device: an HOTP URI reads differently for the OTP applet", () => {
    const hotp = `otpauth://hotp/a?secret=${B32}&counter=0`;
    expect(failure(() => seedForDevice(hotp, "single-profile")).message).toMatch(/time-based codes only/);
    expect(failure(() => seedForDevice(hotp, "otp-applet")).message).toMatch(/base32 secret with the HOTP type, and starts them at counter 0/);
    expect(failure(() => seedForDevice("FIDO:/1234567890", "molto2")).detail.scanned).toBe("fido");
  });

  it("the burner's seed length: 10 to 63 bytes", () => {
    expect(() => checkBurnerSeedLength(new Uint8Array(10))).not.toThrow();
    expect(failure(() => checkBurnerSeedLength(new Uint8Array(9))).message).toBe(
      "the seed is 9 bytes; a token takes 10 to 63 (a shorter one is probably a typing error)",
    );
    expect(failure(() => checkBurnerSeedLength(new Uint8Array(64))).reason).toBe("INVALID_INPUT");
  });
});
