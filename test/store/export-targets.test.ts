import { createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { DOMParser, type Element } from "@xmldom/xmldom";
import { parse as parseCsv } from "csv-parse/sync";
import { decode as base32 } from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OtpbridgeError } from "../../src/lib/errors.js";
import { exportBatch, lintItems, lintText, type ExportRequest } from "../../src/store/export/index.js";
import type { Journal } from "../../src/store/journal.js";
import type { CommittedSeed, ItemInput } from "../../src/store/types.js";
import { openKeyFileJournal, tempRoot } from "./helpers.js";

let t: ReturnType<typeof tempRoot>;
let journal: Journal;
let outDir: string;
const seeds = new Map<string, Buffer>();
let serialCounter = 0;

/** A running batch whose items are all committed; returns its id. Seeds are recorded by serial. */
function committedBatch(name: string, items: ItemInput[]): number {
  const id = journal.createBatch({ name, issuer: "Contoso", items }).id;
  journal.setBatchState(id, "start");
  for (let i = 0; i < items.length; i++) {
    const serial = `86596320${String(++serialCounter).padStart(6, "0")}`;
    const claim = journal.claimNext(id, { serial, model: "C302-i" });
    if (claim.outcome !== "claimed") throw new Error(claim.outcome);
    journal.markBurned(claim.item.id);
    journal.markVerified(claim.item.id, { checked: true });
    journal.commit(claim.item.id);
    seeds.set(serial, Buffer.from(claim.seed));
    claim.seed.fill(0);
  }
  return id;
}

function exportText(id: number, request: ExportRequest, file: string): string {
  const path = join(outDir, file);
  exportBatch(journal, id, request, path);
  expect(statSync(path).mode & 0o777).toBe(0o600);
  return readFileSync(path, "utf8");
}

function refusal(id: number, request: ExportRequest, file: string): OtpbridgeError {
  try {
    exportBatch(journal, id, request, join(outDir, file));
  } catch (e) {
    expect(readdirSync(outDir)).not.toContain(file);
    return e as OtpbridgeError;
  }
  throw new Error("expected the export to be refused");
}

let sha1Batch: number;
let mixedBatch: number;

beforeAll(() => {
  t = tempRoot();
  outDir = join(t.root, "out");
  mkdirSync(outDir);
  journal = openKeyFileJournal(t.dataDir);
  sha1Batch = committedBatch("sha1", [
    { label: "alice@contoso.com" },
    { label: "bob@contoso.com", period: 60 },
    { label: "0cadbf92-1234-4abc-8def-0123456789ab", seed: randomBytes(20) },
  ]);
  mixedBatch = committedBatch("mixed", [
    { label: "carol@contoso.com", algorithm: "SHA256", seed: randomBytes(32) },
    { label: "dave@contoso.com", digits: 8 },
  ]);
});

afterAll(() => {
  journal.close();
  t.cleanup();
});

describe("Microsoft Graph hardware OATH JSON", () => {
  it("one value per token, base32 secretKey, hash function, SHA-256 carried, object ids assigned", () => {
    const body = JSON.parse(exportText(sha1Batch, { format: "graph-json" }, "graph.json")) as { "@context": string; value: Record<string, unknown>[] };
    expect(body["@context"]).toBe("#$delta");
    expect(body.value.map((v) => v["@contentId"])).toEqual(["1", "2", "3"]);
    for (const v of body.value) {
      expect(Buffer.from(base32.asBytes(v.secretKey as string)).equals(seeds.get(v.serialNumber as string)!)).toBe(true);
      expect(v.hashFunction).toBe("hmacsha1");
      expect(v.manufacturer).toBe("Token2");
    }
    expect(body.value.map((v) => v.timeIntervalInSeconds)).toEqual(["30", "60", "30"]);
    expect(body.value[0]!.displayName).toBe("alice@contoso.com");
    expect(body.value[2]!.assignTo).toEqual({ id: "0cadbf92-1234-4abc-8def-0123456789ab" });
  });

  it("refuses the 8-digit token (Graph tokens are 6 digits) and names it", () => {
    const error = refusal(mixedBatch, { format: "graph-json" }, "never.json");
    expect(error.reason).toBe("EXPORT_UNSUPPORTED");
    expect(error.message).toMatch(/item 2 .*6 digits, not 8/);
    expect(error.message).not.toMatch(/item 1 /); // SHA-256, 6 digits: fine for Graph
  });
});

describe("Duo", () => {
  it("serial,hex per line, 60 s tokens marked", () => {
    const rows = parseCsv(exportText(sha1Batch, { format: "duo" }, "duo.csv"), { relax_column_count: true }) as string[][];
    expect(rows).toHaveLength(3);
    for (const [serial, hex] of rows) expect(Buffer.from(hex!, "hex").equals(seeds.get(serial!)!)).toBe(true);
    expect(rows.map((r) => r.length)).toEqual([2, 3, 2]);
    expect(rows[1]![2]).toBe("60");
  });

  it("refuses SHA-256 and a paste mixing 6 and 8 digits, all problems at once", () => {
    const error = refusal(mixedBatch, { format: "duo" }, "never-duo.csv");
    expect(error.message).toMatch(/SHA1, not SHA256/);
    expect(error.message).toMatch(/mixes 6 and 8 digits/);
    expect((error.detail.problems as unknown[]).length).toBe(2);
  });
});

describe("PingID / PingOne", () => {
  it("oathJobs body with hex secrets, otpLength, hash and time step", () => {
    const body = JSON.parse(exportText(mixedBatch, { format: "pingid" }, "ping.json")) as { tokens: Record<string, unknown>[] };
    expect(body.tokens.map((x) => [x.type, x.otpLength, x.hashAlgorithm, x.totp, x.rowNumber])).toEqual([
      ["TOTP", 6, "HmacSHA256", { timeStep: 30 }, 1],
      ["TOTP", 8, "HmacSHA1", { timeStep: 30 }, 2],
    ]);
    for (const x of body.tokens) expect(Buffer.from(x.secret as string, "hex").equals(seeds.get(x.serialNumber as string)!)).toBe(true);
  });
});

describe("privacyIDEA", () => {
  it("OATH CSV: serial, hex seed, TOTP, digits, step", () => {
    const rows = parseCsv(exportText(sha1Batch, { format: "privacyidea-csv" }, "pi.csv")) as string[][];
    expect(rows.map((r) => r.slice(2))).toEqual([
      ["TOTP", "6", "30"],
      ["TOTP", "6", "60"],
      ["TOTP", "6", "30"],
    ]);
    for (const r of rows) expect(Buffer.from(r[1]!, "hex").equals(seeds.get(r[0]!)!)).toBe(true);
  });

  it("OATH CSV refuses a 32-byte SHA-256 seed (the importer guesses the hash from the length)", () => {
    expect(refusal(mixedBatch, { format: "privacyidea-csv" }, "never-pi.csv").message).toMatch(/privacyidea-pskc/);
  });

  it("PSKC: Suite hashalgo, TimeInterval, ResponseFormat, ValueMAC over the ciphertext; decrypts back", () => {
    const key = randomBytes(16);
    const xml = exportText(mixedBatch, { format: "privacyidea-pskc", protection: { kind: "preSharedKey", key, keyName: "Pre-shared-key" } }, "pi.pskcxml");
    const NS = "urn:ietf:params:xml:ns:keyprov:pskc";
    const XENC = "http://www.w3.org/2001/04/xmlenc#";
    const doc = new DOMParser().parseFromString(xml, "text/xml");
    const one = (parent: Element, ns: string, name: string): Element => parent.getElementsByTagNameNS(ns, name)[0]!;
    const decrypt = (el: Element): Buffer => {
      const v = Buffer.from(one(el, XENC, "CipherValue").textContent!, "base64");
      const d = createDecipheriv("aes-128-cbc", key, v.subarray(0, 16));
      return Buffer.concat([d.update(v.subarray(16)), d.final()]);
    };
    const macKey = decrypt(one(doc.documentElement!, NS, "MACKey"));
    const found = Array.from(doc.documentElement!.getElementsByTagNameNS(NS, "KeyPackage")).map((pkg) => {
      const keyEl = one(pkg, NS, "Key");
      const secret = one(keyEl, NS, "Secret");
      const cipher = Buffer.from(one(secret, XENC, "CipherValue").textContent!, "base64");
      expect(Buffer.from(one(secret, NS, "ValueMAC").textContent!, "base64").equals(createHmac("sha1", macKey).update(cipher).digest())).toBe(true);
      const serial = one(pkg, NS, "SerialNo").textContent!;
      expect(decrypt(one(secret, NS, "EncryptedValue")).equals(seeds.get(serial)!)).toBe(true);
      return [
        keyEl.getAttribute("Algorithm")!.slice(-4),
        one(keyEl, NS, "Suite").getAttribute("hashalgo"),
        one(keyEl, NS, "ResponseFormat").getAttribute("Length"),
        one(one(keyEl, NS, "TimeInterval"), NS, "PlainValue").textContent,
      ];
    });
    expect(found).toEqual([
      ["totp", "sha256", "6", "30"],
      ["totp", "sha1", "8", "30"],
    ]);
  });
});

describe("the export linter", () => {
  const item = (over: Partial<CommittedSeed>): CommittedSeed => ({
    itemId: 1,
    position: 0,
    label: "alice@contoso.com",
    issuer: null,
    serial: "86596320000001",
    manufacturer: "Token2",
    model: "C302-i",
    seed: new Uint8Array(20).fill(1),
    algorithm: "SHA1",
    digits: 6,
    period: 30,
    ...over,
  });

  it("finds duplicate serials, bad UPNs, steps, and reports them all", () => {
    const problems = lintItems(
      [item({}), item({ itemId: 2, position: 1, label: "bob" }), item({ itemId: 3, position: 2, serial: "86596320000002", period: 45 })],
      "entra-csv",
    );
    expect(problems.map((p) => p.message)).toEqual([
      // Counted from 1, as the batch's progress lines count them.
      "item 2 (token 86596320000001): Entra ID CSV needs a UPN (user@domain) as the label",
      "item 2 (token 86596320000001): serial already used by item 1",
      "item 3 (token 86596320000002): Entra ID CSV takes 30 or 60 s steps, not 45 s",
    ]);
  });

  it("checks the written text: the Entra header, headerless CSVs, record counts", () => {
    expect(lintText("upn,serial number,secret key,time interval,manufacturer,model\r\na,b,c,30,d,e\r\n", "entra-csv", 1)).toEqual([]);
    expect(lintText("UPN,Serial,secret,interval,manufacturer,model\r\na,b,c,30,d,e\r\n", "entra-csv", 1)).toHaveLength(1);
    expect(lintText("serial,secret\nx,00\n", "duo", 1).map((p) => p.message)).toEqual([
      "Duo hardware token import files have no header line",
      "2 lines for 1 tokens",
    ]);
    expect(lintText('{"value":[]}', "graph-json", 1)).toHaveLength(1);
  });
});
