/**
 * "Which token shows this code" over the stations' shared store on a real PostgreSQL server (a
 * throw-away cluster): shared batches whose items went through claim → write → burn → verify →
 * commit, searched through their sealed seeds (SharedBatch#sealedCommitted, BatchKeyring) beside a
 * real journal file: one shared batch by id, or every batch the passphrase opens with the others
 * named in `skipped`; each batch's key derived once; and a sealed seed altered in PostgreSQL (its
 * tag, or a ciphertext copied onto another item's row) is SEED_TAMPERED, never a match.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hotp, totpCounter } from "../../../src/crypto/index.js";
import { findOnStation, journalSeedSource } from "../../../src/service/find.js";
import type { Journal } from "../../../src/store/journal.js";
import { BatchKeyring, type SharedBatch, type StationStore } from "../../../src/store/stations/index.js";
import { rejection } from "../../fixtures/errors.js";
import { missingPostgres } from "../../fixtures/postgres.js";
import { burnAll, openKeyFileJournal, tempRoot } from "../helpers.js";
import { committedSharedBatch, PASSPHRASE, testDb, type TestDb } from "./_cluster.js";

const TIME = 1_800_000_000;
const COUNTER = totpCounter({ time: TIME });
const code = (seed: Uint8Array, steps = 0): string => hotp("SHA1", seed, COUNTER + steps, 6);

const missing = missingPostgres();
let db: TestDb;
let store: StationStore;
let t: ReturnType<typeof tempRoot>;
let journal: Journal;
/** The journal's one committed batch (id 1, as the first shared batch's: `source` tells them apart). */
let journalSeeds: Uint8Array[];
const seeds = Array.from({ length: 4 }, () => new Uint8Array(randomBytes(20)));
const otherSeed = new Uint8Array(randomBytes(20));
const foreignSeed = new Uint8Array(randomBytes(20));
let desk: number;
let other: number;
let foreign: number;

function sharedBatch(seeds: Uint8Array[], commit: number, prefix: string, passphrase = PASSPHRASE): Promise<number> {
  return committedSharedBatch(store, seeds, commit, prefix, passphrase);
}

beforeAll(async () => {
  if (missing !== undefined) return;
  db = await testDb();
  store = await db.store("desk-find");
  desk = await sharedBatch(seeds, 3, "DESK");
  other = await sharedBatch([otherSeed], 1, "OTHER");
  foreign = await sharedBatch([foreignSeed], 1, "FOREIGN", "another team's passphrase");
  // Nothing committed in these two: no key derived for them, nothing skipped.
  await sharedBatch([new Uint8Array(randomBytes(20))], 0, "FRESH");
  await sharedBatch([new Uint8Array(randomBytes(20))], 0, "FRESH-FOREIGN", "another team's passphrase");
  t = tempRoot();
  journal = openKeyFileJournal(t.dataDir);
  const local = journal.createBatch({ name: "local desk", count: 2 });
  journal.setBatchState(local.id, "start");
  journalSeeds = burnAll(journal, local.id, 2, "LOCAL");
});
afterAll(async () => {
  journal?.close();
  t?.cleanup();
  await db?.close();
});

describe.skipIf(missing !== undefined)("find over the stations' shared store", () => {
  it("finds a committed item of a shared batch by its code, by batch id or across every batch and the journal", async () => {
    const keyring = new BatchKeyring(store, PASSPHRASE);
    const find = (codes: string[], batchId?: number) =>
      findOnStation(() => journalSeedSource(journal), keyring, { codes, time: TIME, ...(batchId !== undefined ? { batchId } : {}) });
    try {
      const one = await find([code(seeds[1]!)], desk);
      expect(one.matches).toEqual([
        {
          source: "stations",
          batchId: desk,
          itemId: expect.any(Number),
          item: 2,
          serial: "DESK2",
          label: "DESK-2@example.com",
          algorithm: "SHA1",
          digits: 6,
          period: 30,
          offset: 0,
        },
      ]);
      // One batch asked for: its three committed items, not the journal's, no batch skipped.
      expect(one).toMatchObject({ searched: 3, skipped: [], ambiguous: false });

      // Every batch: the shared ones the passphrase opens (4 committed seeds) and the journal's 2; the
      // batch sealed under another passphrase is named, and its token is not found.
      const all = await find([code(seeds[1]!), code(seeds[1]!, 1)]);
      expect(all.matches.map((m) => [m.source, m.batchId, m.serial])).toEqual([["stations", desk, "DESK2"]]);
      expect(all).toMatchObject({ searched: 6, skipped: [{ batchId: foreign, reason: "WRONG_PASSPHRASE" }] });
      expect((await find([code(otherSeed)])).matches.map((m) => [m.source, m.batchId, m.serial, m.offset])).toEqual([["stations", other, "OTHER1", 0]]);
      expect((await find([code(foreignSeed)])).matches).toEqual([]);
      // The journal's batch 1 and shared batch 1 are told apart by their source.
      expect(desk).toBe(1);
      const local = await find([code(journalSeeds[0]!, -2)]);
      expect(local.matches.map((m) => [m.source, m.batchId, m.serial, m.offset])).toEqual([["journal", 1, "LOCAL0001", -2]]);

      // Only committed items, of the batch asked for.
      expect((await find([code(seeds[3]!)])).matches).toEqual([]);
      expect((await find([code(otherSeed)], desk)).matches).toEqual([]);
      expect((await rejection(find([code(foreignSeed)], foreign))).reason).toBe("WRONG_PASSPHRASE");
      expect((await rejection(find([code(otherSeed)], 999))).reason).toBe("BATCH_NOT_FOUND");

      // Each key derived once (and only for batches with committed items): the same open batch for
      // every search, until the keyring closes.
      const first = (await keyring.forSearch(undefined)).batches;
      const again = (await keyring.forSearch(undefined)).batches;
      expect(again.map((b) => b.batchId)).toEqual([desk, other]);
      again.forEach((batch, i) => expect(batch).toBe(first[i]));
    } finally {
      await keyring.close();
    }
  });

  it("zeroes the keys it opened when closed", async () => {
    const keyring = new BatchKeyring(store, PASSPHRASE);
    let opened: readonly SharedBatch[];
    try {
      opened = (await keyring.forSearch(undefined)).batches;
      expect(opened.map((b) => b.batchId)).toEqual([desk, other]);
      const sealed = await opened[0]!.sealedCommitted();
      sealed.openSeed(0, (seed) => expect(hotp("SHA1", seed, COUNTER, 6)).toBe(code(seeds[0]!)));
    } finally {
      await keyring.close();
    }
    for (const batch of opened) {
      const closed = await batch.sealedCommitted();
      expect(() => closed.openSeed(0, () => undefined)).toThrow(/after destroy/);
    }
  });

  it("reports a sealed seed altered in PostgreSQL as SEED_TAMPERED, never as a match", async () => {
    const keyring = new BatchKeyring(store, PASSPHRASE);
    const find = (seed: Uint8Array) => findOnStation(() => journalSeedSource(journal), keyring, { codes: [code(seed)], batchId: desk, time: TIME });
    const { rows } = await db.admin.query<{ id: number; seed_nonce: Buffer; seed_sealed: Buffer }>(
      "SELECT id, seed_nonce, seed_sealed FROM otpb_items WHERE batch_id = $1 ORDER BY position",
      [desk],
    );
    const [first, , third] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const write = (id: number, nonce: Buffer, sealed: Buffer) =>
      db.admin.query("UPDATE otpb_items SET seed_nonce = $2, seed_sealed = $3 WHERE id = $1", [id, nonce, sealed]);
    try {
      // The tag altered: the seed decrypts as it was, so the search finds it, and the check refuses it.
      const tag = Buffer.from(first.seed_sealed);
      tag[tag.length - 1]! ^= 0x01;
      await write(first.id, first.seed_nonce, tag);
      let error = await rejection(find(seeds[0]!));
      expect(error.reason).toBe("SEED_TAMPERED");
      expect(error.detail).toEqual({ batchId: desk, itemId: first.id });
      expect(`${error.message} ${JSON.stringify(error.detail)}`).not.toContain(code(seeds[0]!));
      await write(first.id, first.seed_nonce, first.seed_sealed);

      // The first item's sealed seed copied onto the third item's row: its code would name two tokens;
      // the copy fails its binding (batch uid and item id) and the search says so.
      await write(third.id, first.seed_nonce, first.seed_sealed);
      error = await rejection(find(seeds[0]!));
      expect(error.reason).toBe("SEED_TAMPERED");
      expect(error.detail).toEqual({ batchId: desk, itemId: third.id });
    } finally {
      await write(first.id, first.seed_nonce, first.seed_sealed);
      await write(third.id, third.seed_nonce, third.seed_sealed);
    }
    // Restored: found again.
    expect((await find(seeds[0]!)).matches.map((m) => m.serial)).toEqual(["DESK1"]);
    await keyring.close();
  });
});
