import { describe, expect, it } from "vitest";
import { decodeMigrationUri, encodeMigrationUri } from "../../src/input/migration.js";
import type { OtpbridgeError } from "../../src/lib/errors.js";

/** Protobuf wire format written out by hand (varint tags, length-delimited fields), independent of protobufjs. */
function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}
const bytesField = (field: number, value: Uint8Array | string): number[] => {
  const data = typeof value === "string" ? [...Buffer.from(value, "utf8")] : [...value];
  return [(field << 3) | 2, ...varint(data.length), ...data];
};
const intField = (field: number, value: number): number[] => [(field << 3) | 0, ...varint(value)];
function otpParameters(p: { secret: Uint8Array; name: string; issuer?: string; algorithm: number; digits: number; type: number }): number[] {
  return [
    ...bytesField(1, p.secret),
    ...bytesField(2, p.name),
    ...(p.issuer ? bytesField(3, p.issuer) : []),
    ...intField(4, p.algorithm),
    ...intField(5, p.digits),
    ...intField(6, p.type),
  ];
}
function uriOf(wire: number[]): string {
  return `otpauth-migration://offline?data=${encodeURIComponent(Buffer.from(wire).toString("base64"))}`;
}

describe("Google Authenticator migration exports", () => {
  it("reads hand-written wire bytes: SHA-256, 8 digits, HOTP and MD5 skipped, batch part 2 of 3", () => {
    const s1 = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const s2 = Uint8Array.from({ length: 20 }, (_, i) => 200 - i);
    const wire = [
      ...bytesField(1, Uint8Array.from(otpParameters({ secret: s1, name: "ACME:alice", issuer: "ACME", algorithm: 2, digits: 2, type: 2 }))),
      ...bytesField(1, Uint8Array.from(otpParameters({ secret: s2, name: "counter", algorithm: 1, digits: 1, type: 1 }))),
      ...bytesField(1, Uint8Array.from(otpParameters({ secret: s2, name: "old", algorithm: 4, digits: 1, type: 2 }))),
      ...bytesField(1, Uint8Array.from(otpParameters({ secret: s2, name: "mystery", algorithm: 1, digits: 1, type: 0 }))),
      ...intField(2, 1),
      ...intField(3, 3),
      ...intField(4, 1),
    ];
    const batch = decodeMigrationUri(uriOf(wire));
    expect(batch.accounts).toHaveLength(1);
    const [a] = batch.accounts;
    expect([a!.issuer, a!.label, a!.algorithm, a!.digits, a!.period]).toEqual(["ACME", "alice", "SHA256", 8, 30]);
    expect(Buffer.from(a!.secret).equals(Buffer.from(s1))).toBe(true);
    expect(batch.skipped).toEqual([
      { index: 1, name: "counter", reason: "hotp" },
      { index: 2, name: "old", reason: "unsupported-algorithm" },
      { index: 3, name: "mystery", reason: "unknown-type" },
    ]);
    expect(batch.part).toEqual({ index: 2, count: 3 });
  });

  it("accepts unescaped '+' (read as space by URL parsing) and URL-safe base64", () => {
    const secret = Uint8Array.from([0xfb, 0xff, 0xfe, 0xfb, 0xef, 0xbe, 0xfb, 0xff, 0xfe, 0xfb]);
    const wire = bytesField(1, Uint8Array.from(otpParameters({ secret, name: "x", algorithm: 1, digits: 1, type: 2 })));
    const b64 = Buffer.from(wire).toString("base64");
    expect(b64).toMatch(/[+/]/);
    for (const data of [b64, b64.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "")]) {
      const [account] = decodeMigrationUri(`otpauth-migration://offline?data=${data}`).accounts;
      expect(Buffer.from(account!.secret).equals(Buffer.from(secret))).toBe(true);
    }
  });

  it("round-trips through encodeMigrationUri", () => {
    const secret = Uint8Array.from({ length: 20 }, (_, i) => i * 7);
    const uri = encodeMigrationUri([{ secret, name: "bob", issuer: "Contoso", algorithm: 1, digits: 1, type: 2 }]);
    const [a] = decodeMigrationUri(uri).accounts;
    expect(Buffer.from(a!.secret).equals(Buffer.from(secret))).toBe(true);
    expect(a!.label).toBe("bob");
  });

  it.each([
    ["otpauth-migration://online?data=AAAA", /offline/],
    ["otpauth-migration://offline?x=1", /no data/],
    ["otpauth-migration://offline?data=***", /not base64/],
    ["otpauth-migration://offline?data=CjEKCkhlbGxv", /not a valid export/],
  ])("refuses %s", (uri, message) => {
    let error: unknown;
    try {
      decodeMigrationUri(uri);
    } catch (e) {
      error = e;
    }
    expect((error as OtpbridgeError).reason).toBe("INVALID_SECRET_FORMAT");
    expect((error as Error).message).toMatch(message);
  });
});
