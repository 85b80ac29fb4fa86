import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DOMParser } from "@xmldom/xmldom";
import { parse as parseCsv } from "csv-parse/sync";
import { decode as base32, encode as base32Encode } from "hi-base32";
import { URI } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtpbridgeError } from "../../src/lib/errors.js";
import { exportBatch, type PskcProtection } from "../../src/store/export/index.js";
import type { Journal } from "../../src/store/journal.js";
import { PKCS5, XENC11, child, pskcPasswordKey, readPskc } from "../fixtures/pskc.js";
import { openKeyFileJournal, tempRoot } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));
const W3C_SCHEMAS = "/usr/share/xml/xmltooling"; // Debian xmltooling-schemas (scripts/setup.sh)

let t: ReturnType<typeof tempRoot>;
let journal: Journal;
let batchId: number;
let outDir: string;
let schemaDir: string;
/** serial → seed of every committed item, as the journal handed them out at claim time. */
const committed = new Map<string, Buffer>();

beforeAll(() => {
  t = tempRoot();
  outDir = join(t.root, "out");
  mkdirSync(outDir);
  // The RFC 6030 schema imports the W3C schemas by relative path: lay them side by side.
  schemaDir = join(t.root, "xsd");
  mkdirSync(schemaDir);
  copyFileSync(join(here, "../fixtures/pskc/pskc-schema.xsd"), join(schemaDir, "pskc-schema.xsd"));
  for (const f of ["xmldsig-core-schema.xsd", "xenc-schema.xsd"]) symlinkSync(join(W3C_SCHEMAS, f), join(schemaDir, f));

  journal = openKeyFileJournal(t.dataDir);
  batchId = journal.createBatch({
    name: "exports",
    issuer: "Contoso & Co",
    items: [
      { label: "alice@contoso.com" },
      { label: "bob@contoso.com", period: 60 },
      { label: "o'brien.carol@contoso.com", seed: randomBytes(32) },
      { label: "dave@contoso.com" },
      { label: "erin@contoso.com" },
    ],
  }).id;
  journal.setBatchState(batchId, "start");
  for (let i = 0; i < 5; i++) {
    const serial = `8659622000000${i}`;
    const claim = journal.claimNext(batchId, { serial, model: i === 1 ? "OTPC-P2-i" : "C302-i" });
    if (claim.outcome !== "claimed") throw new Error(claim.outcome);
    if (i === 3) continue; // left claimed: not in exports
    journal.markBurned(claim.item.id);
    if (i === 4) {
      journal.fail(claim.item.id, "VERIFY_MISMATCH"); // failed: not in exports
      continue;
    }
    journal.markVerified(claim.item.id, { checked: true });
    journal.commit(claim.item.id);
    committed.set(serial, Buffer.from(claim.seed));
    claim.seed.fill(0);
  }
});

afterAll(() => {
  journal.close();
  t.cleanup();
});

function expectPrivate(path: string): void {
  expect(statSync(path).mode & 0o777).toBe(0o600);
  expect(readdirSync(dirname(path)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
}

describe("Entra ID CSV", () => {
  it("has the exact header and one row per committed item, base32 secrets, time intervals", () => {
    const path = join(outDir, "entra.csv");
    expect(exportBatch(journal, batchId, { format: "entra-csv" }, path)).toEqual({ path, count: 3 });
    expectPrivate(path);
    const text = readFileSync(path, "utf8");
    expect(text.split("\r\n")[0]).toBe("upn,serial number,secret key,time interval,manufacturer,model");
    const rows = parseCsv(text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r["serial number"])).toEqual([...committed.keys()]);
    for (const row of rows) {
      const seed = committed.get(row["serial number"]!)!;
      expect(row["secret key"]).toMatch(/^[A-Z2-7]+$/);
      expect(Buffer.from(base32.asBytes(row["secret key"]!)).equals(seed)).toBe(true);
      expect(row.manufacturer).toBe("Token2");
    }
    expect(rows.map((r) => r["time interval"])).toEqual(["30", "60", "30"]);
    expect(rows.map((r) => r.upn)).toEqual(["alice@contoso.com", "bob@contoso.com", "o'brien.carol@contoso.com"]);
    expect(rows.map((r) => r.model)).toEqual(["C302-i", "OTPC-P2-i", "C302-i"]);
  });

  it("refuses items Entra would read wrongly (SHA-256)", () => {
    const id = journal.createBatch({ name: "sha256", count: 1, defaults: { algorithm: "SHA256" } }).id;
    journal.setBatchState(id, "start");
    const c = journal.claimNext(id, { serial: "X256" });
    if (c.outcome !== "claimed") throw new Error(c.outcome);
    journal.markBurned(c.item.id);
    journal.markVerified(c.item.id, { checked: true });
    journal.commit(c.item.id);
    const path = join(outDir, "never.csv");
    let error: unknown;
    try {
      exportBatch(journal, id, { format: "entra-csv" }, path);
    } catch (e) {
      error = e;
    }
    expect((error as OtpbridgeError).reason).toBe("EXPORT_UNSUPPORTED");
    expect(readdirSync(outDir)).not.toContain("never.csv");
    expect(() => exportBatch(journal, id, { format: "pskc", protection: psk() }, path)).toThrow(/SHA256/);
  });
});

describe("otpauth URIs", () => {
  it("one URI per committed item, parsed back by the otpauth package", () => {
    const path = join(outDir, "uris.txt");
    exportBatch(journal, batchId, { format: "otpauth" }, path);
    expectPrivate(path);
    const lines = readFileSync(path, "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    const serials = [...committed.keys()];
    lines.forEach((line, i) => {
      const otp = URI.parse(line);
      expect(otp.issuer).toBe("Contoso & Co");
      expect(otp.algorithm).toBe("SHA1");
      expect(Buffer.from(otp.secret.bytes).equals(committed.get(serials[i]!)!)).toBe(true);
      expect("period" in otp ? otp.period : 0).toBe(i === 1 ? 60 : 30);
    });
  });
});

function psk(): PskcProtection & { kind: "preSharedKey" } {
  return { kind: "preSharedKey", key: Buffer.from("12345678901234567890123456789012", "hex"), keyName: "Pre-shared-key" };
}

function xmllint(file: string): { status: number | null; out: string } {
  const r = spawnSync("xmllint", ["--nonet", "--noout", "--schema", join(schemaDir, "pskc-schema.xsd"), file], {
    encoding: "utf8",
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe("PSKC (RFC 6030)", () => {
  it("pre-shared key: valid against the RFC 6030 XSD and decrypts back, MAC checked", () => {
    const path = join(outDir, "psk.pskcxml");
    exportBatch(journal, batchId, { format: "pskc", protection: psk() }, path);
    expectPrivate(path);
    const lint = xmllint(path);
    expect(lint.out).toContain("validates");
    expect(lint.status).toBe(0);
    const keys = readPskc(readFileSync(path, "utf8"), psk().key as Buffer);
    expect([...keys.keys()]).toEqual([...committed.keys()]);
    for (const [serial, k] of keys) expect(k.seed.equals(committed.get(serial)!)).toBe(true);
    expect([...keys.values()].map((k) => [k.digits, k.period])).toEqual([
      ["6", "30"],
      ["6", "60"],
      ["6", "30"],
    ]);
  });

  it("password (PBKDF2): valid, and the key derived from the file's own parameters decrypts it", () => {
    const path = join(outDir, "pw.pskcxml");
    const password = "Qwerty!2345 öäü";
    exportBatch(journal, batchId, { format: "pskc", protection: { kind: "password", password, keyName: "My Password 1", iterations: 20_000 } }, path);
    expect(xmllint(path).status).toBe(0);
    const xml = readFileSync(path, "utf8");
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    const derived = child(doc.documentElement!, XENC11, "DerivedKey");
    expect(child(derived, XENC11, "KeyDerivationMethod").getAttribute("Algorithm")).toBe(`${PKCS5}pbkdf2`);
    expect(child(derived, XENC11, "MasterKeyName").textContent).toBe("My Password 1");
    const key = pskcPasswordKey(xml, password);
    const keys = readPskc(xml, key);
    for (const [serial, k] of keys) expect(k.seed.equals(committed.get(serial)!)).toBe(true);
    expect(() => readPskc(xml, randomBytes(16))).toThrow();
  });

  it("the checks bite: a flipped ciphertext fails the MAC, a broken document fails the schema", () => {
    const path = join(outDir, "psk2.pskcxml");
    exportBatch(journal, batchId, { format: "pskc", protection: psk() }, path);
    const xml = readFileSync(path, "utf8");
    const values = [...xml.matchAll(/<xenc:CipherValue>([^<]+)<\/xenc:CipherValue>/g)];
    const secretValue = values[1]![1]!; // [0] is the MAC key
    const flipped = Buffer.from(secretValue, "base64");
    flipped[20]! ^= 1;
    expect(() => readPskc(xml.replace(secretValue, flipped.toString("base64")), psk().key as Buffer)).toThrow(/ValueMAC mismatch/);
    const broken = join(outDir, "broken.pskcxml");
    writeFileSync(broken, xml.replace('Version="1.0"', 'Version="one"'));
    expect(xmllint(broken).status).not.toBe(0);
  });

  it("holds no seed in the clear", () => {
    const path = join(outDir, "psk3.pskcxml");
    exportBatch(journal, batchId, { format: "pskc", protection: psk() }, path);
    const text = readFileSync(path, "utf8");
    for (const seed of committed.values()) {
      for (const form of [seed.toString("hex"), seed.toString("base64"), base32Encode(seed).replace(/=+$/, "")]) expect(text).not.toContain(form);
    }
  });
});
