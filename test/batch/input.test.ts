/**
 * Batch sources: CSV header names and aliases (an Entra ID hardware OATH CSV reads back as a
 * batch), what a single-profile token cannot hold, otpauth URI lists, "generate N"; errors name
 * the line and never quote a secret.
 */
import hiBase32 from "hi-base32";
import { describe, expect, it } from "vitest";
import { generatedBatch, parseBatchCsv, parseBatchUris } from "../../src/service/batch-input.js";
import { encodeMigrationUri } from "../../src/input/migration.js";
import { failure } from "../fixtures/errors.js";

const SEED = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const B32 = hiBase32.encode(SEED).replace(/=+$/, "");

describe("batch CSV", () => {
  it("reads the documented names in any case, with a BOM, and Entra ID's own columns", () => {
    const entra = `\uFEFFUPN,Serial Number,Secret Key,Time Interval,Manufacturer,Model\r\nalice@example.com,1234,${B32},60,Token2,C202\r\nbob@example.com,,,30,,\r\n`;
    const batch = parseBatchCsv(entra, "b");
    expect(batch.items).toEqual([
      { label: "alice@example.com", seed: SEED, period: 60 },
      { label: "bob@example.com", period: 30 },
    ]);
    const other = parseBatchCsv("label,seed,hash,digits,step\ncarol,,sha-256,6,30\n", "c");
    expect(other.items).toEqual([{ label: "carol", algorithm: "SHA256", digits: 6, period: 30 }]);
  });

  it("refuses unknown and doubled columns, bad values and what the tokens cannot hold, naming the line", () => {
    expect(failure(() => parseBatchCsv("upn,colour\na,red\n", "b"))).toMatchObject({ reason: "INVALID_INPUT", detail: { line: 1 } });
    expect(failure(() => parseBatchCsv("upn,label\na,b\n", "b")).message).toMatch(/more than one label column/);
    expect(failure(() => parseBatchCsv("upn\n", "b")).reason).toBe("INVALID_INPUT");
    expect(failure(() => parseBatchCsv("upn,period\na,30\nb,45\n", "b"))).toMatchObject({ reason: "NOT_BURNABLE", detail: { line: 3 } });
    expect(failure(() => parseBatchCsv("upn,algorithm\na,SHA512\n", "b"))).toMatchObject({ reason: "INVALID_INPUT", detail: { line: 2 } });
    expect(failure(() => parseBatchCsv("upn,digits\na,six\n", "b"))).toMatchObject({ reason: "INVALID_INPUT", detail: { line: 2 } });
    // 5 bytes: a token holds it, but a batch seed is at least 10 bytes (the journal's floor).
    expect(failure(() => parseBatchCsv(`upn,secret\na,${hiBase32.encode(new Uint8Array(5))}\n`, "b"))).toMatchObject({ reason: "NOT_BURNABLE" });
    const bad = failure(() => parseBatchCsv(`upn,secret\na,${B32}\nb,${B32.slice(0, -1)}8\n`, "b"));
    expect(bad).toMatchObject({ reason: "INVALID_SECRET_FORMAT", detail: { line: 3 } });
    expect(bad.message).not.toContain(B32.slice(0, 10));
    expect(failure(() => parseBatchCsv('upn,secret\n"a,b\n', "b")).reason).toBe("INVALID_INPUT");
  });
});

describe("batch URIs and generate", () => {
  it("takes TOTP URIs (comments and blank lines skipped) and keeps a common issuer", () => {
    const batch = parseBatchUris(
      [
        "# from the old system",
        "",
        `otpauth://totp/ACME:alice?secret=${B32}&issuer=ACME&period=60`,
        `otpauth://totp/ACME:bob?secret=${B32}&issuer=ACME&algorithm=SHA256`,
      ],
      "u",
    );
    expect(batch.issuer).toBe("ACME");
    expect(batch.items.map((i) => [i.label, i.algorithm, i.period, i.digits])).toEqual([
      ["alice", "SHA1", 60, 6],
      ["bob", "SHA256", 30, 6],
    ]);
    expect(parseBatchUris([`otpauth://totp/a?secret=${B32}&issuer=X`, `otpauth://totp/b?secret=${B32}&issuer=Y`], "u").issuer).toBeUndefined();
  });

  it("refuses HOTP, SHA-512 and 8 digits by line; an empty list", () => {
    expect(failure(() => parseBatchUris(["", `otpauth://hotp/a?secret=${B32}&counter=1`], "u"))).toMatchObject({
      reason: "WRONG_CODE_SCANNED",
      detail: { line: 2, scanned: "hotp" },
    });
    expect(failure(() => parseBatchUris([`otpauth://totp/a?secret=${B32}&algorithm=SHA512`], "u"))).toMatchObject({
      reason: "NOT_BURNABLE",
      detail: { line: 1 },
    });
    expect(failure(() => parseBatchUris([`otpauth://totp/a?secret=${B32}&digits=8`], "u"))).toMatchObject({ reason: "NOT_BURNABLE", detail: { line: 1 } });
    expect(failure(() => parseBatchUris(["# nothing"], "u")).reason).toBe("INVALID_INPUT");
  });

  it("goes through the shared classifier: a Google Authenticator export becomes its TOTP accounts, its HOTP ones are named as skipped", () => {
    const other = Uint8Array.from({ length: 32 }, (_, i) => 100 + i);
    const exported = encodeMigrationUri([
      { secret: SEED, name: "ACME:carol", issuer: "ACME", type: 2 },
      { secret: other, name: "ACME:dave", issuer: "ACME", algorithm: 2, type: 2 },
      { secret: SEED, name: "bank", type: 1 },
    ]);
    const batch = parseBatchUris([`otpauth://totp/ACME:alice?secret=${B32}&issuer=ACME`, exported], "u");
    expect(batch.items.map((i) => [i.label, i.algorithm, i.period, i.digits])).toEqual([
      ["alice", "SHA1", 30, 6],
      ["carol", "SHA1", 30, 6],
      ["dave", "SHA256", 30, 6],
    ]);
    expect(Buffer.from(batch.items[2]!.seed!).equals(Buffer.from(other))).toBe(true);
    expect(batch.issuer).toBe("ACME");
    expect(batch.skipped).toEqual([{ index: 2, name: "bank", reason: "hotp", line: 2 }]);
  });

  it("refuses, by line and with advice, codes scanned by mistake and bare secrets in a URI list", () => {
    expect(failure(() => parseBatchUris([`otpauth://totp/a?secret=${B32}`, "phonefactor://activate_account?code=123"], "u"))).toMatchObject({
      reason: "WRONG_CODE_SCANNED",
      detail: { line: 2, scanned: "phonefactor" },
    });
    const bare = failure(() => parseBatchUris([B32], "u"));
    expect(bare).toMatchObject({ reason: "INVALID_INPUT", detail: { line: 1 } });
    expect(bare.message).toMatch(/CSV with a secret column/);
    expect(bare.message).not.toContain(B32);
  });

  it("generate N: N items without seeds (the journal draws them), with the chosen settings", () => {
    expect(generatedBatch(3, "g", { algorithm: "SHA256", period: 60 }).items).toEqual(Array(3).fill({ algorithm: "SHA256", period: 60 }));
    expect(() => generatedBatch(0, "g")).toThrow(RangeError);
    expect(failure(() => generatedBatch(2, "g", { period: 45 })).reason).toBe("NOT_BURNABLE");
  });
});
