/**
 * Finding the token behind a code (src/service/find.ts, `otpbridge find`) over a real journal file
 * whose items went through claim → burn → verify → commit: exactly the token whose seed shows the
 * code; a collision found on purpose, then narrowed by the next code; nothing for a wrong code;
 * only committed items, of the batch asked for, with as many digits as the code; every match
 * confirmed by its seed's tag (an altered row is SEED_TAMPERED); the core's memory back where it
 * was; and nothing printed that holds a seed.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import hiBase32 from "hi-base32";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatCode, hotp, hotpBatch, totp, totpCounter } from "../../src/crypto/index.js";
import { wasmCore } from "../../src/crypto/wasm.js";
import { reasonOf } from "../../src/lib/errors.js";
import { findToken, journalSeedSource } from "../../src/service/find.js";
import type { Journal } from "../../src/store/journal.js";
import type { ItemInput } from "../../src/store/types.js";
import { rejection } from "../fixtures/errors.js";
import { runCli } from "../fixtures/cli.js";
import { burnAll, openKeyFileJournal, tempRoot } from "../store/helpers.js";

const TIME = 1_800_000_000;
const COUNTER = totpCounter({ time: TIME });

/** A 20-byte seed whose 6-digit code at `counter` is `seed`'s, and whose next code is not. */
function collidingSeed(seed: Uint8Array, counter: number): Uint8Array {
  const target = Number(hotp("SHA1", seed, counter));
  const next = Number(hotp("SHA1", seed, counter + 1));
  // About one random seed in 10^6 shows a given code: batches of 250,000 through the WASM core.
  for (let round = 0; round < 80; round++) {
    const pool = randomBytes(20 * 250_000);
    const keys = Array.from({ length: 250_000 }, (_, i) => pool.subarray(20 * i, 20 * i + 20));
    const codes = hotpBatch("SHA1", keys, counter);
    const at = codes.findIndex((code, i) => code === target && Number(hotp("SHA1", keys[i]!, counter + 1)) !== next);
    if (at >= 0) return new Uint8Array(keys[at]!);
  }
  throw new Error("no colliding seed in 20,000,000 tries");
}

/** A batch of `items`, started and committed item by item to serials `${prefix}0001`... */
function committedBatch(journal: Journal, items: ItemInput[], prefix: string, defaults = {}): number {
  const batch = journal.createBatch({ name: prefix, items, defaults });
  journal.setBatchState(batch.id, "start");
  burnAll(journal, batch.id, items.length, prefix).forEach((seed) => seed.fill(0));
  return batch.id;
}

describe("find", () => {
  let t: ReturnType<typeof tempRoot>;
  let journal: Journal;
  beforeEach(() => {
    t = tempRoot();
    journal = openKeyFileJournal(t.dataDir);
  });
  afterEach(() => {
    journal.close();
    t.cleanup();
  });

  it("finds exactly the token whose seed shows the code, with its step offset, and leaves the core as it was", async () => {
    const seeds = Array.from({ length: 12 }, () => new Uint8Array(randomBytes(20)));
    const batchId = committedBatch(
      journal,
      seeds.map((seed, i) => ({ seed, label: `user${i}@example.com` })),
      "S",
    );
    const source = journalSeedSource(journal);
    const before = wasmCore().allocatedBytes();
    for (const [index, offset] of [
      [4, 0],
      [9, -1],
      [0, 2],
    ] as const) {
      const code = totp("SHA1", seeds[index]!, { time: TIME + 30 * offset });
      const result = await findToken([source], { codes: [code], time: TIME });
      expect(result).toMatchObject({ searched: 12, window: 2, time: TIME, ambiguous: false });
      expect(result.matches).toEqual([
        {
          source: "journal",
          batchId,
          itemId: expect.any(Number),
          item: index + 1,
          serial: `S${String(index + 1).padStart(4, "0")}`,
          label: `user${index}@example.com`,
          algorithm: "SHA1",
          digits: 6,
          period: 30,
          offset,
        },
      ]);
    }
    expect(wasmCore().allocatedBytes()).toBe(before);
    // Outside the window: not found; a wider window finds it 3 steps behind.
    const late = totp("SHA1", seeds[3]!, { time: TIME - 90 });
    expect((await findToken([source], { codes: [late], time: TIME })).matches.map((m) => m.item)).not.toContain(4);
    expect((await findToken([source], { codes: [late], time: TIME, window: 3 })).matches).toContainEqual(expect.objectContaining({ item: 4, offset: -3 }));
  });

  it("reports a collision as ambiguous, and the next code the token shows settles it", async () => {
    const seed = new Uint8Array(randomBytes(20));
    const twin = collidingSeed(seed, COUNTER);
    const others = Array.from({ length: 5 }, () => new Uint8Array(randomBytes(20)));
    committedBatch(
      journal,
      [...others, { seed: twin }, { seed }].map((s) => ("seed" in s ? s : { seed: s })),
      "C",
    );
    const source = journalSeedSource(journal);
    const code = totp("SHA1", seed, { time: TIME });
    const both = await findToken([source], { codes: [code], time: TIME, window: 0 });
    expect(both.matches.map((m) => m.serial)).toEqual(["C0006", "C0007"]);
    expect(both.ambiguous).toBe(true);
    const next = totp("SHA1", seed, { time: TIME + 30 });
    const one = await findToken([source], { codes: [code, next], time: TIME });
    expect(one.matches.map((m) => [m.serial, m.offset])).toEqual([["C0007", 0]]);
    expect(one.ambiguous).toBe(false);
    expect(one.expectedFalseMatches).toBeLessThan(1e-9);
  });

  it("finds nothing for a code no seed shows, and searches only committed items of the batch asked, with the code's digits", async () => {
    const sha1 = Array.from({ length: 6 }, () => new Uint8Array(randomBytes(20)));
    const first = committedBatch(
      journal,
      sha1.map((seed) => ({ seed })),
      "A",
    );
    const sha256 = Array.from({ length: 3 }, () => new Uint8Array(randomBytes(32)));
    const second = committedBatch(
      journal,
      sha256.map((seed) => ({ seed })),
      "B",
      { algorithm: "SHA256", period: 60, digits: 8 },
    );
    // A third batch, created and claimed but never committed: its seeds are on no finished token.
    const pending = journal.createBatch({ name: "P", items: [{ seed: sha1[0]!.slice().reverse() }] });
    journal.setBatchState(pending.id, "start");
    const claimed = journal.claimNext(pending.id, { serial: "P0001" });
    if (claimed.outcome === "claimed") claimed.seed.fill(0);
    const source = journalSeedSource(journal);

    const shown = new Set<string>();
    for (const seed of sha1) for (let s = -2; s <= 2; s++) shown.add(totp("SHA1", seed, { time: TIME + 30 * s }));
    let wrong = 0;
    while (shown.has(formatCode(wrong, 6))) wrong++;
    const none = await findToken([source], { codes: [formatCode(wrong, 6)], time: TIME });
    expect(none).toMatchObject({ matches: [], searched: 6, ambiguous: false });

    const eight = totp("SHA256", sha256[2]!, { time: TIME, period: 60, digits: 8 });
    expect((await findToken([source], { codes: [eight], time: TIME })).matches).toEqual([
      expect.objectContaining({ batchId: second, item: 3, serial: "B0003", period: 60, digits: 8 }),
    ]);
    expect((await findToken([source], { codes: [eight], time: TIME, batchId: first })).searched).toBe(0);
    const code = totp("SHA1", sha1[1]!, { time: TIME });
    expect((await findToken([source], { codes: [code], time: TIME, batchId: first })).matches.map((m) => m.serial)).toEqual(["A0002"]);
    expect((await findToken([source], { codes: [code], time: TIME, batchId: second })).matches).toEqual([]);
    expect(reasonOf(await rejection(findToken([source], { codes: [code], batchId: 99 })))).toBe("BATCH_NOT_FOUND");
  });

  it("confirms every match with the seed's tag: a row altered in the file is SEED_TAMPERED, never a token", async () => {
    const seeds = Array.from({ length: 4 }, () => new Uint8Array(randomBytes(20)));
    committedBatch(
      journal,
      seeds.map((seed) => ({ seed })),
      "T",
    );
    journal.close();
    // The tag of item 2 and the ciphertext of item 3 altered behind the journal's back.
    const db = new Database(join(t.dataDir, "journal.sqlite"));
    const flip = (id: number, at: (length: number) => number) => {
      const sealed = db.prepare("SELECT seed_sealed FROM items WHERE id = ?").pluck().get(id) as Buffer;
      sealed[at(sealed.length)]! ^= 0x01;
      db.prepare("UPDATE items SET seed_sealed = ? WHERE id = ?").run(sealed, id);
    };
    flip(2, (length) => length - 1);
    flip(3, () => 0);
    db.close();
    journal = openKeyFileJournal(t.dataDir);
    const source = journalSeedSource(journal);
    const code = (i: number) => totp("SHA1", seeds[i]!, { time: TIME });
    expect((await findToken([source], { codes: [code(0)], time: TIME })).matches.map((m) => m.serial)).toEqual(["T0001"]);
    expect(reasonOf(await rejection(findToken([source], { codes: [code(1)], time: TIME })))).toBe("SEED_TAMPERED");
    expect((await findToken([source], { codes: [code(2)], time: TIME })).matches.map((m) => m.serial)).not.toContain("T0003");
  });

  it("refuses malformed requests with INVALID_INPUT, never quoting a code", async () => {
    const source = journalSeedSource(journal);
    const bad: unknown[] = [
      { codes: [] },
      { codes: "123456" },
      { codes: ["12345a"] },
      { codes: ["123"] },
      { codes: ["123456", "1234567"] },
      { codes: ["123456", "123456", "123456", "123456"] },
      { codes: ["123456"], window: 11 },
      { codes: ["123456"], window: -1 },
      { codes: ["123456"], time: -5 },
      { codes: ["123456"], batchId: 0 },
    ];
    for (const request of bad) {
      const error = await rejection(findToken([source], request as never));
      expect(reasonOf(error), JSON.stringify(request)).toBe("INVALID_INPUT");
      expect(error.message).not.toMatch(/12345a|123456/);
    }
  });
});

describe("otpbridge find", () => {
  let t: ReturnType<typeof tempRoot>;
  beforeEach(() => (t = tempRoot()));
  afterEach(() => t.cleanup());

  it("prints batch, item, serial, label and clock offset; exit 0 found, 3 none, the next code asked for on a collision; never a seed", async () => {
    const seed = new Uint8Array(randomBytes(20));
    const twin = collidingSeed(seed, COUNTER);
    const journal = openKeyFileJournal(t.dataDir);
    committedBatch(
      journal,
      [
        { seed: twin, label: "bob@example.com" },
        { seed, label: "alice@example.com" },
      ],
      "86596221",
    );
    journal.close();
    const dir = ["--data-dir", t.dataDir];
    const code = totp("SHA1", seed, { time: TIME });

    const found = await runCli(["find", code, "--at", String(TIME + 30), ...dir]);
    expect(found.code).toBe(0);
    expect(found.out).toEqual([
      "batch 1  item 1  serial 865962210001  bob@example.com  1 step behind",
      "batch 1  item 2  serial 865962210002  alice@example.com  1 step behind",
    ]);
    expect(found.err.join("\n")).toMatch(
      /^2 tokens match \(.* expected by chance\): read the code the token shows next, after it changes, and run otpbridge find \d{6} NEXT$/,
    );

    const next = totp("SHA1", seed, { time: TIME + 30 });
    const settled = await runCli(["find", code, next, "--at", new Date(TIME * 1000).toISOString(), "--batch", "1", ...dir]);
    expect(settled).toMatchObject({ code: 0, out: ["batch 1  item 2  serial 865962210002  alice@example.com  on time"], err: [] });

    const json = await runCli(["find", next, "--json", "--at", String(TIME), ...dir]);
    expect(JSON.parse(json.out.join("\n"))).toMatchObject({ matches: [{ serial: "865962210002", item: 2, offset: 1 }], searched: 2, window: 2 });

    let wrong = 0;
    while ([-2, -1, 0, 1, 2].some((s) => [seed, twin].some((k) => totp("SHA1", k, { time: TIME + 30 * s }) === formatCode(wrong, 6)))) wrong++;
    const none = await runCli(["find", formatCode(wrong, 6), "--at", String(TIME), ...dir]);
    expect(none).toMatchObject({ code: 3, out: [] });
    expect(none.err).toEqual([expect.stringMatching(/^no committed seed shows this code within ±2 steps \(2 seeds searched\)/)]);

    expect((await runCli(["find", "12345x", ...dir])).code).toBe(2);
    expect((await runCli(["find", code, "--window", "11", ...dir])).code).toBe(2);
    expect((await runCli(["find", code, "--at", "yesterday", ...dir])).code).toBe(2);
    expect((await runCli(["find", code, "--batch", "7", ...dir])).code).toBe(2);
    expect((await runCli(["find", ...dir])).code).toBe(2);

    const printed = [found, settled, json, none].flatMap((r) => [...r.out, ...r.err]).join("\n");
    for (const s of [seed, twin]) {
      for (const form of [Buffer.from(s).toString("hex"), hiBase32.encode(s).replace(/=+$/, ""), Buffer.from(s).toString("base64").replace(/=+$/, "")]) {
        expect(printed).not.toContain(form);
      }
    }
  }, 30_000);
});
