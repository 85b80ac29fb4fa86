/**
 * Secrets audit (issue #6): after a batch with resumptions, failures, re-burns and a PSKC export, no
 * byte of the journal directory (database, WAL, anything SQLite left beside it; the key file aside,
 * it holds a key, not a seed), no event and nothing printed holds a seed as raw bytes, hex (either
 * case), base32 or base64.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { encode as base32 } from "hi-base32";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exportBatch } from "../../src/store/export/index.js";
import { openKeyFileJournal, tempRoot } from "./helpers.js";

let t: ReturnType<typeof tempRoot>;
let printed: string[];
const original = { out: process.stdout.write, err: process.stderr.write };

beforeEach(() => {
  t = tempRoot();
  printed = [];
  // Capture (and still pass through) everything written to stdout and stderr during the batch.
  const tee = (stream: NodeJS.WriteStream, write: typeof process.stdout.write) =>
    ((chunk: unknown, ...rest: unknown[]) => {
      printed.push(String(chunk));
      return (write as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = tee(process.stdout, original.out);
  process.stderr.write = tee(process.stderr, original.err);
});

afterEach(() => {
  process.stdout.write = original.out;
  process.stderr.write = original.err;
  t.cleanup();
});

function forms(seed: Buffer): { name: string; bytes: Buffer }[] {
  const hex = seed.toString("hex");
  const b32 = base32(seed).replace(/=+$/, "");
  return [
    { name: "raw", bytes: seed },
    { name: "hex", bytes: Buffer.from(hex) },
    { name: "HEX", bytes: Buffer.from(hex.toUpperCase()) },
    { name: "base32", bytes: Buffer.from(b32) },
    { name: "base32 lower", bytes: Buffer.from(b32.toLowerCase()) },
    { name: "base64", bytes: Buffer.from(seed.toString("base64").replace(/=+$/, "")) },
  ];
}

function scan(where: string, haystack: Buffer, seeds: Buffer[]): string[] {
  const hits: string[] = [];
  seeds.forEach((seed, i) => {
    for (const f of forms(seed)) if (haystack.includes(f.bytes)) hits.push(`${where}: seed ${i} as ${f.name}`);
  });
  return hits;
}

describe("secrets audit", () => {
  it("journal files, events, errors and output hold no seed in any encoding", () => {
    const seeds: Buffer[] = [];
    const imported = Array.from({ length: 5 }, (_, i) => Buffer.alloc(20, 0x41 + i)); // low-entropy seeds too
    let journal = openKeyFileJournal(t.dataDir);
    const a = journal.createBatch({ name: "audit", count: 40, issuer: "Audit" }).id;
    const b = journal.createBatch({ name: "imported", items: imported.map((seed) => ({ seed, label: "x@y" })) }).id;
    seeds.push(...imported);
    for (const id of [a, b]) journal.setBatchState(id, "start");
    const errors: string[] = [];
    for (let i = 0; i < 45; i++) {
      const id = i < 40 ? a : b;
      const serial = `AUD${i}`;
      const claim = journal.claimNext(id, { serial });
      if (claim.outcome !== "claimed") throw new Error(claim.outcome);
      seeds.push(Buffer.from(claim.seed));
      claim.seed.fill(0);
      journal.markBurned(claim.item.id);
      if (i % 7 === 3) {
        // interrupted: resumed after a reopen
        journal.close();
        journal = openKeyFileJournal(t.dataDir);
        const again = journal.claimNext(id, { serial });
        if (again.outcome === "resumed") again.seed.fill(0);
        journal.markBurned(claim.item.id);
      }
      if (i % 11 === 5) {
        journal.fail(claim.item.id, "VERIFY_MISMATCH");
        const retry = journal.claimNext(id, { serial }, { reburn: true });
        if (retry.outcome === "reburn") retry.seed.fill(0);
        journal.markBurned(claim.item.id);
      }
      journal.markVerified(claim.item.id, { checked: true });
      journal.commit(claim.item.id);
    }
    // Error paths print messages too: collect a few.
    for (const fn of [
      () => journal.claimNext(a, { serial: "AUD1" }),
      () => journal.commit(1),
      () => exportBatch(journal, a, { format: "pskc", protection: { kind: "preSharedKey", key: new Uint8Array(3), keyName: "k" } }, join(t.root, "x")),
    ]) {
      try {
        const r = fn();
        errors.push(JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? "<bytes>" : v)));
      } catch (error) {
        errors.push(String(error), JSON.stringify(error));
      }
    }
    exportBatch(
      journal,
      a,
      { format: "pskc", protection: { kind: "password", password: "pw-audit", keyName: "k", iterations: 10_000 } },
      join(t.root, "a.pskcxml"),
    );

    const hits: string[] = [];
    // While open: the WAL holds the recent pages.
    for (const f of readdirSync(t.dataDir).filter((f) => f !== "seed.key")) {
      hits.push(...scan(`open ${f}`, readFileSync(join(t.dataDir, f)), seeds));
    }
    expect(readdirSync(t.dataDir)).toContain("journal.sqlite-wal");
    const kinds = new Set(journal.events().map((e) => e.kind));
    for (const kind of ["item.claimed", "item.resumed", "item.reburn", "item.failed", "item.committed"]) {
      expect(kinds).toContain(kind);
    }
    hits.push(...scan("events", Buffer.from(JSON.stringify(journal.events())), seeds));
    hits.push(...scan("items", Buffer.from(JSON.stringify([...journal.items(a), ...journal.items(b)])), seeds));
    journal.close();
    for (const f of readdirSync(t.dataDir).filter((f) => f !== "seed.key")) {
      hits.push(...scan(`closed ${f}`, readFileSync(join(t.dataDir, f)), seeds));
    }
    hits.push(...scan("PSKC export", readFileSync(join(t.root, "a.pskcxml")), seeds));
    hits.push(...scan("errors and results", Buffer.from(errors.join("\n")), seeds));
    hits.push(...scan("stdout/stderr", Buffer.from(printed.join("")), seeds));
    expect(seeds).toHaveLength(50); // 5 imported, then the 45 handed out by claims (5 of them those)
    expect(hits).toEqual([]);
  });
});
