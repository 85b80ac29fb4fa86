import { describe, expect, it } from "vitest";
import { decode as base32Decode } from "hi-base32";
import { classifySecretInput } from "../../src/input/classify.js";
import { DEVICE_CAPABILITIES } from "../../src/input/capabilities.js";
import { encodeMigrationUri } from "../../src/input/migration.js";
import type { OtpbridgeError } from "../../src/lib/errors.js";

function failure(fn: () => unknown): OtpbridgeError {
  try {
    fn();
  } catch (e) {
    return e as OtpbridgeError;
  }
  throw new Error("expected a refusal");
}

const B32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"; // 20 bytes

describe("classifySecretInput: what it accepts", () => {
  it("base32 with case, spaces and padding ignored", () => {
    const expected = Buffer.from(base32Decode.asBytes(B32));
    for (const text of [B32, B32.toLowerCase(), "jbsw y3dp ehpk 3pxp JBSW Y3DP EHPK 3PXP", `${B32}====`, `  ${B32}\n`]) {
      const r = classifySecretInput(text);
      expect(r.source).toBe("base32");
      expect(Buffer.from(r.accounts[0]!.secret).equals(expected)).toBe(true);
      expect(r.accounts[0]).toMatchObject({ algorithm: "SHA1", digits: 6, period: 30 });
    }
  });

  it("hex only when asked; a hex string is not silently taken as base32", () => {
    const hex = "3132333435363738393031323334353637383930";
    expect(failure(() => classifySecretInput(hex)).reason).toBe("INVALID_SECRET_FORMAT");
    const r = classifySecretInput(hex, { hex: true, defaults: { algorithm: "SHA256", period: 60 } });
    expect(r.source).toBe("hex");
    expect(Buffer.from(r.accounts[0]!.secret).toString()).toBe("12345678901234567890");
    expect(r.accounts[0]).toMatchObject({ algorithm: "SHA256", period: 60 });
  });

  it("otpauth://totp URIs with their parameters", () => {
    const r = classifySecretInput(`otpauth://totp/ACME:alice@acme.com?secret=${B32}&issuer=ACME&algorithm=SHA256&digits=8&period=60`);
    expect(r.source).toBe("otpauth");
    expect(r.accounts[0]).toMatchObject({ algorithm: "SHA256", digits: 8, period: 60, issuer: "ACME", label: "alice@acme.com" });
  });

  it("Google Authenticator exports, expanded into their accounts", () => {
    const s = (n: number) => Uint8Array.from({ length: 20 }, (_, i) => i + n);
    const uri = encodeMigrationUri(
      [
        { secret: s(1), name: "alice", issuer: "A", algorithm: 1, digits: 1, type: 2 },
        { secret: s(2), name: "bob", issuer: "B", algorithm: 2, digits: 2, type: 2 },
        { secret: s(3), name: "ctr", algorithm: 1, digits: 1, type: 1 },
      ],
      { index: 1, count: 2 },
    );
    const r = classifySecretInput(uri);
    expect(r.source).toBe("otpauth-migration");
    expect(r.accounts.map((a) => [a.label, a.algorithm, a.digits])).toEqual([
      ["alice", "SHA1", 6],
      ["bob", "SHA256", 8],
    ]);
    expect(r.skipped).toEqual([{ index: 2, name: "ctr", reason: "hotp" }]);
    expect(r.part).toEqual({ index: 1, count: 2 });
  });
});

describe("classifySecretInput: wrong codes, recognised and explained", () => {
  it.each([
    ["otpauth://hotp/ACME:bob?secret=JBSWY3DPEHPK3PXP&counter=3", "hotp", /otpauth:\/\/hotp.*counter-based.*TOTP/],
    [
      "phonefactor://activate_account?code=123456789&url=https://example.invalid/pad/x",
      "phonefactor",
      /Microsoft Authenticator activation.*no seed.*otpauth:\/\/totp/,
    ],
    ["FIDO:/1234567890123456789012345678901234567890", "fido", /passkey.*no seed.*setup QR code/],
    ["86596220000001", "serial-barcode", /serial-number barcode.*Tap the token.*otpauth:\/\/totp/],
    ["8659612 0001234", "serial-barcode", /serial-number barcode/],
    ["https://aka.ms/mfasetup", "web-link", /web link/],
    ["otpauth://steam/x?secret=JBSWY3DPEHPK3PXP", "otpauth-other", /neither TOTP nor HOTP/],
  ])("%s → %s", (text, scanned, message) => {
    const error = failure(() => classifySecretInput(text));
    expect(error.reason).toBe("WRONG_CODE_SCANNED");
    expect(error.detail.scanned).toBe(scanned);
    expect(error.message).toMatch(message);
  });

  it("a serial barcode is refused even with --hex (8 bytes or fewer: no plausible seed)", () => {
    expect(failure(() => classifySecretInput("86596220000001", { hex: true })).detail.scanned).toBe("serial-barcode");
    // A 20-byte hex seed that happens to start with 86596 is a seed.
    expect(classifySecretInput("8659622000000100000000000000000000000001", { hex: true }).accounts[0]!.secret.length).toBe(20);
  });

  it("a migration export of HOTP accounts only is a wrong code", () => {
    const uri = encodeMigrationUri([{ secret: new Uint8Array(20).fill(7), name: "ctr", algorithm: 1, digits: 1, type: 1 }]);
    const error = failure(() => classifySecretInput(uri));
    expect(error.reason).toBe("WRONG_CODE_SCANNED");
    expect(error.detail.scanned).toBe("hotp");
  });

  it("never puts the seed in a message", () => {
    const error = failure(() => classifySecretInput(`${B32}1`));
    expect(error.reason).toBe("INVALID_SECRET_FORMAT");
    expect(error.message).not.toContain(B32);
  });
});

describe("classifySecretInput with a device and a target", () => {
  it("refuses a TOTP URI the device cannot show, listing every problem, and zeroes the parsed seeds", () => {
    const error = failure(() =>
      classifySecretInput(`otpauth://totp/x?secret=${B32}&algorithm=SHA512&digits=8&period=45`, {
        device: DEVICE_CAPABILITIES["single-profile"],
        target: "entra-csv",
      }),
    );
    expect(error.reason).toBe("NOT_BURNABLE");
    expect(error.message).toMatch(/SHA1 or SHA256, not SHA512/);
    expect(error.message).toMatch(/6 digits, not 8/);
    expect(error.message).toMatch(/30 or 60 s, not 45/);
    expect(error.message).toMatch(/UPN/);
    const problems = (error.detail.accounts as { problems: { by: string }[] }[])[0]!.problems;
    expect(problems.filter((p) => p.by === "device")).toHaveLength(3);
    expect(problems.filter((p) => p.by === "target")).toHaveLength(4);
  });

  it("passes what fits", () => {
    const r = classifySecretInput(`otpauth://totp/Contoso:alice@contoso.com?secret=${B32}&issuer=Contoso`, {
      device: DEVICE_CAPABILITIES["single-profile"],
      target: "entra-csv",
    });
    expect(r.accounts).toHaveLength(1);
  });
});
