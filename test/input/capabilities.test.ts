import { describe, expect, it } from "vitest";
import { DEVICE_CAPABILITIES, EXPORT_TARGETS, TARGET_CAPABILITIES, assertBurnable, checkBurnable, type BurnCandidate } from "../../src/input/capabilities.js";
import type { OtpbridgeError } from "../../src/lib/errors.js";

const account = (over: Partial<BurnCandidate> & { seedLength?: number } = {}): BurnCandidate => ({
  secret: new Uint8Array(over.seedLength ?? 20).fill(0x5a),
  algorithm: "SHA1",
  digits: 6,
  period: 30,
  label: "alice@contoso.com",
  ...over,
});

describe("device capabilities", () => {
  it("single-profile: seeds of 1 to 63 bytes, SHA-1/SHA-256, 30/60 s, 6 digits (docs/PROTOCOL.md §2.1, §2.7)", () => {
    const sp = DEVICE_CAPABILITIES["single-profile"];
    for (const n of [1, 10, 20, 32, 63]) expect(checkBurnable(account({ seedLength: n }), sp)).toEqual([]);
    for (const n of [0, 64, 80]) expect(checkBurnable(account({ seedLength: n }), sp).map((p) => p.field)).toEqual(["seed"]);
    expect(checkBurnable(account({ algorithm: "SHA256", period: 60 }), sp)).toEqual([]);
    expect(checkBurnable(account({ digits: 8 }), sp).map((p) => p.message)).toEqual(["single-profile tokens show 6 digits, not 8"]);
  });

  it("Molto2: digits 4/6/8/10, titles up to 12 UTF-8 bytes, all-zero seed reserved", () => {
    const m = DEVICE_CAPABILITIES.molto2;
    for (const digits of [4, 6, 8, 10]) expect(checkBurnable(account({ digits }), m)).toEqual([]);
    expect(checkBurnable(account({ digits: 7 }), m)).toHaveLength(1);
    expect(checkBurnable(account({ title: "GitHub-Work1" }), m)).toEqual([]); // 12 bytes
    expect(checkBurnable(account({ title: "Überweisung1" }), m)[0]!.message).toMatch(/13 UTF-8 bytes/);
    expect(checkBurnable(account({ secret: new Uint8Array(20) }), m)[0]!.message).toMatch(/all-zero/);
  });

  it("OTP applet: seed up to 64, step 1 to 65535, digits 4 to 10, ASCII names", () => {
    const o = DEVICE_CAPABILITIES["otp-applet"];
    expect(checkBurnable(account({ seedLength: 64, period: 1, digits: 10, issuer: "ACME" }), o)).toEqual([]);
    expect(checkBurnable(account({ seedLength: 65, period: 65536, digits: 3 }), o).map((p) => p.field)).toEqual(["seed", "period", "digits"]);
    expect(checkBurnable(account({ label: "zoë@example.com" }), o).map((p) => p.field)).toEqual(["label"]);
    expect(checkBurnable(account({ label: "" }), o).map((p) => p.field)).toEqual(["label"]);
  });
});

describe("export targets", () => {
  const sp = DEVICE_CAPABILITIES["otp-applet"];

  it("Entra CSV: base32 of at most 128 characters (80 bytes), SHA-1, 6 digits, 30/60 s, a UPN", () => {
    expect(checkBurnable(account({ seedLength: 64 }), sp, "entra-csv")).toEqual([]);
    const tooLong = { ...DEVICE_CAPABILITIES["otp-applet"], seedBytes: { min: 1, max: 200 } };
    expect(checkBurnable(account({ seedLength: 80 }), tooLong, "entra-csv")).toEqual([]);
    expect(checkBurnable(account({ seedLength: 81 }), tooLong, "entra-csv")[0]!.message).toMatch(/at most 80 \(128 base32 characters\)/);
    expect(checkBurnable(account({ label: "alice" }), sp, "entra-csv").map((p) => p.field)).toEqual(["label"]);
    expect(checkBurnable(account({ algorithm: "SHA256", digits: 8, period: 90 }), sp, "entra-csv").map((p) => p.field)).toEqual([
      "algorithm",
      "digits",
      "period",
    ]);
  });

  it("Graph JSON carries SHA-256; privacyIDEA CSV refuses 16- and 32-byte seeds; Duo is SHA-1", () => {
    expect(checkBurnable(account({ algorithm: "SHA256" }), sp, "graph-json")).toEqual([]);
    expect(checkBurnable(account({ seedLength: 32 }), sp, "privacyidea-csv")[0]!.message).toMatch(/privacyidea-pskc/);
    expect(checkBurnable(account({ seedLength: 16 }), sp, "privacyidea-csv")).toHaveLength(1);
    expect(checkBurnable(account({ seedLength: 32, algorithm: "SHA256" }), sp, "privacyidea-pskc")).toEqual([]);
    expect(checkBurnable(account({ algorithm: "SHA256" }), sp, "duo").map((p) => p.by)).toEqual(["target"]);
  });

  it("has an entry for every target", () => {
    for (const t of EXPORT_TARGETS) expect(TARGET_CAPABILITIES[t].target).toBe(t);
  });

  it("assertBurnable throws NOT_BURNABLE with every problem", () => {
    let error: OtpbridgeError | undefined;
    try {
      assertBurnable(account({ seedLength: 70, digits: 8 }), DEVICE_CAPABILITIES["single-profile"], "entra-csv");
    } catch (e) {
      error = e as OtpbridgeError;
    }
    expect(error?.reason).toBe("NOT_BURNABLE");
    expect(error?.detail.problems as unknown[]).toHaveLength(3); // seed (device), digits (device), digits (target)
  });
});
