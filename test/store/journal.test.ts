import { statSync, existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OtpbridgeError } from "../../src/lib/errors.js";
import type { Journal } from "../../src/store/journal.js";
import { APPLICATION_ID, SCHEMA_VERSION } from "../../src/store/schema.js";
import { burnAll, openKeyFileJournal, tempRoot } from "./helpers.js";

function reasonOfThrown(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OtpbridgeError);
    return (error as OtpbridgeError).reason;
  }
  throw new Error("expected a throw");
}

describe("journal: creation and layout", () => {
  let t: ReturnType<typeof tempRoot>;
  beforeEach(() => (t = tempRoot()));
  afterEach(() => t.cleanup());

  it("creates a 0700 data directory, 0600 journal and key file, our application id and version, WAL", () => {
    const journal = openKeyFileJournal(t.dataDir);
    journal.createBatch({ name: "b", count: 3 });
    journal.close();
    expect(statSync(t.dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(t.dataDir, "journal.sqlite")).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.dataDir, "seed.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(t.dataDir, "seed.key")).size).toBe(32);
    const db = new Database(join(t.dataDir, "journal.sqlite"), { readonly: true });
    expect(db.pragma("application_id", { simple: true })).toBe(APPLICATION_ID);
    expect(db.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("refuses a second opener while the first holds the journal", () => {
    const first = openKeyFileJournal(t.dataDir);
    expect(reasonOfThrown(() => openKeyFileJournal(t.dataDir))).toBe("JOURNAL_BUSY");
    first.close();
    openKeyFileJournal(t.dataDir).close();
  });

  it("generates 20-byte seeds, distinct, and keeps the batch parameters", () => {
    const journal = openKeyFileJournal(t.dataDir);
    const batch = journal.createBatch({ name: "gen", count: 50, defaults: { period: 60 }, issuer: "Contoso" });
    expect(batch.state).toBe("created");
    expect(batch.params).toMatchObject({ count: 50, generated: 50, imported: 0 });
    journal.setBatchState(batch.id, "start");
    const seeds = burnAll(journal, batch.id, 50);
    expect(seeds.every((s) => s.length === 20)).toBe(true);
    expect(new Set(seeds.map((s) => Buffer.from(s).toString("hex"))).size).toBe(50);
    expect(journal.items(batch.id).every((i) => i.period === 60 && i.algorithm === "SHA1" && i.digits === 6)).toBe(true);
    journal.close();
  });

  it("rejects bad batch input with INVALID_INPUT errors", () => {
    const journal = openKeyFileJournal(t.dataDir);
    const bad: unknown[] = [
      { name: "", count: 1 },
      { name: "x" },
      { name: "x", count: 1, items: [{}] },
      { name: "x", count: 0 },
      { name: "x", items: [{ seed: new Uint8Array(5) }] },
      { name: "x", items: [{ algorithm: "MD5" }] },
      { name: "x", items: [{ digits: 12 }] },
    ];
    for (const input of bad) {
      let caught: unknown;
      try {
        journal.createBatch(input as never);
      } catch (error) {
        caught = error;
      }
      expect((caught as { reason?: string }).reason, JSON.stringify(input)).toBe("INVALID_INPUT");
    }
    expect(journal.batches()).toHaveLength(0);
    journal.close();
  });
});

describe("journal: claims", () => {
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

  function runningBatch(count: number): number {
    const id = journal.createBatch({ name: "b", count }).id;
    journal.setBatchState(id, "start");
    return id;
  }

  it("imported seeds come back byte-exact, in position order", () => {
    const seeds = [Uint8Array.from({ length: 20 }, (_, i) => i), Uint8Array.from({ length: 32 }, (_, i) => 255 - i)];
    const id = journal.createBatch({ name: "imp", items: seeds.map((seed, i) => ({ seed, label: `u${i}@x` })) }).id;
    journal.setBatchState(id, "start");
    const a = journal.claimNext(id, { serial: "A" });
    const b = journal.claimNext(id, { serial: "B" });
    expect(a.outcome === "claimed" && Buffer.from(a.seed).equals(Buffer.from(seeds[0]!))).toBe(true);
    expect(b.outcome === "claimed" && Buffer.from(b.seed).equals(Buffer.from(seeds[1]!))).toBe(true);
    expect(a.outcome === "claimed" && a.item.label).toBe("u0@x");
  });

  it("only a running batch takes claims", () => {
    const id = journal.createBatch({ name: "b", count: 2 }).id;
    expect(reasonOfThrown(() => journal.claimNext(id, { serial: "A" }))).toBe("BATCH_STATE");
    journal.setBatchState(id, "start");
    journal.setBatchState(id, "pause");
    expect(reasonOfThrown(() => journal.claimNext(id, { serial: "A" }))).toBe("BATCH_STATE");
    journal.setBatchState(id, "resume");
    expect(journal.claimNext(id, { serial: "A" }).outcome).toBe("claimed");
    journal.setBatchState(id, "cancel");
    expect(reasonOfThrown(() => journal.setBatchState(id, "resume"))).toBe("BATCH_STATE");
    expect(reasonOfThrown(() => journal.claimNext(id, { serial: "B" }))).toBe("BATCH_STATE");
    expect(reasonOfThrown(() => journal.claimNext(999, { serial: "B" }))).toBe("BATCH_NOT_FOUND");
  });

  it("an interrupted item is handed out again with the same seed, at every stage before commit", () => {
    const id = runningBatch(3);
    const first = journal.claimNext(id, { serial: "T1", model: "C302-i" });
    if (first.outcome !== "claimed") throw new Error(first.outcome);
    const seed = Buffer.from(first.seed);
    for (const step of ["none", "burned", "verified"] as const) {
      if (step === "burned") journal.markBurned(first.item.id);
      if (step === "verified") {
        journal.markBurned(first.item.id);
        journal.markVerified(first.item.id, { checked: false });
      }
      const again = journal.claimNext(id, { serial: "T1" });
      expect(again.outcome).toBe("resumed");
      if (again.outcome !== "resumed") return;
      expect(again.item.id).toBe(first.item.id);
      expect(again.item.state).toBe("claimed");
      expect(again.item.model).toBe("C302-i");
      expect(Buffer.from(again.seed).equals(seed)).toBe(true);
    }
    expect(journal.item(first.item.id).attempts).toBe(4);
    // Another token still gets the next item, not the interrupted one.
    const other = journal.claimNext(id, { serial: "T2" });
    expect(other.outcome === "claimed" && other.item.position).toBe(1);
  });

  it("a committed serial is skipped in its batch unless re-burn is asked, which gives the same seed", () => {
    const id = runningBatch(2);
    const [seed] = burnAll(journal, id, 1);
    const skip = journal.claimNext(id, { serial: "S0001" });
    expect(skip.outcome).toBe("already-committed");
    expect(journal.status(id).counts).toMatchObject({ committed: 1, pending: 1 });
    const again = journal.claimNext(id, { serial: "S0001" }, { reburn: true });
    expect(again.outcome).toBe("reburn");
    if (again.outcome !== "reburn") return;
    expect(Buffer.from(again.seed).equals(Buffer.from(seed!))).toBe(true);
    expect(again.item.state).toBe("claimed");
    expect(journal.status(id).counts).toMatchObject({ committed: 0, claimed: 1, pending: 1 });
  });

  it("a failed item stays bound to its token: reported on the next tap, retried with re-burn", () => {
    const id = runningBatch(2);
    const c = journal.claimNext(id, { serial: "F1" });
    if (c.outcome !== "claimed") throw new Error(c.outcome);
    journal.markBurned(c.item.id);
    const failed = journal.fail(c.item.id, "VERIFY_MISMATCH: code differs");
    expect(failed.failReason).toBe("VERIFY_MISMATCH: code differs");
    expect(journal.claimNext(id, { serial: "F1" }).outcome).toBe("previously-failed");
    const retry = journal.claimNext(id, { serial: "F1" }, { reburn: true });
    expect(retry.outcome === "reburn" && Buffer.from(retry.seed).equals(Buffer.from(c.seed))).toBe(true);
  });

  it("a token committed in another batch is reported; re-burn supersedes the old item", () => {
    const a = runningBatch(1);
    burnAll(journal, a, 1);
    const b = runningBatch(1);
    const tap = journal.claimNext(b, { serial: "S0001" });
    expect(tap).toEqual({ outcome: "serial-in-other-batch", conflicts: [{ batchId: a, itemId: 1, state: "committed" }] });
    expect(journal.status(b).counts.pending).toBe(1);
    const over = journal.claimNext(b, { serial: "S0001" }, { reburn: true });
    expect(over.outcome).toBe("claimed");
    expect(over.outcome === "claimed" && over.superseded).toEqual([{ batchId: a, itemId: 1, state: "committed" }]);
    expect(journal.item(1).state).toBe("superseded");
    expect(journal.withCommittedSeeds(a, (items) => items.length)).toBe(0);
    const kinds = journal.events().map((e) => e.kind);
    expect(kinds).toContain("tap.serial-in-other-batch");
    expect(kinds).toContain("item.superseded");
  });

  it("state machine refuses skipped steps", () => {
    const id = runningBatch(1);
    const c = journal.claimNext(id, { serial: "X" });
    if (c.outcome !== "claimed") throw new Error(c.outcome);
    expect(reasonOfThrown(() => journal.commit(c.item.id))).toBe("ITEM_STATE");
    expect(reasonOfThrown(() => journal.markVerified(c.item.id, { checked: true }))).toBe("ITEM_STATE");
    journal.markBurned(c.item.id);
    journal.markVerified(c.item.id, { checked: true });
    journal.commit(c.item.id);
    expect(reasonOfThrown(() => journal.fail(c.item.id, "late"))).toBe("ITEM_STATE");
    expect(reasonOfThrown(() => journal.markBurned(4242))).toBe("ITEM_NOT_FOUND");
    expect(journal.claimNext(id, { serial: "Y" }).outcome).toBe("exhausted");
    expect(journal.status(id)).toMatchObject({ total: 1, done: true });
  });

  it("the event log is append-only at the SQLite level", () => {
    const id = runningBatch(1);
    journal.claimNext(id, { serial: "E" });
    journal.close();
    const db = new Database(join(t.dataDir, "journal.sqlite"));
    expect(() => db.prepare("UPDATE events SET kind = 'x'").run()).toThrow(/append-only/);
    expect(() => db.prepare("DELETE FROM events").run()).toThrow(/append-only/);
    db.close();
    journal = openKeyFileJournal(t.dataDir);
    expect(existsSync(join(t.dataDir, "journal.sqlite"))).toBe(true);
  });
});

describe("journal: forgetting a seed its owner keeps", () => {
  let t: ReturnType<typeof tempRoot>;
  beforeEach(() => (t = tempRoot()));
  afterEach(() => t.cleanup());

  it("erases a committed item's sealed seed only: the record stays, exports leave it out, the event says so", () => {
    const journal = openKeyFileJournal(t.dataDir);
    try {
      const batch = journal.createBatch({ name: "mine", count: 2 });
      journal.setBatchState(batch.id, "start");
      const pending = journal.items(batch.id)[1]!;
      burnAll(journal, batch.id, 1);
      const [kept] = journal.items(batch.id);
      expect(reasonOfThrown(() => journal.forgetSeed(pending.id))).toBe("ITEM_STATE");
      const forgotten = journal.forgetSeed(kept!.id);
      expect(forgotten).toMatchObject({ state: "committed", serial: "S0001", model: "OTPC-P2-i" });
      journal.withCommittedSeeds(batch.id, (items) => expect(items).toEqual([]));
      expect(journal.events(batch.id).map((e) => e.kind)).toContain("item.seed-forgotten");
      const db = new Database(join(t.dataDir, "journal.sqlite"), { readonly: true });
      journal.close();
      expect((db.prepare("SELECT length(seed_sealed) AS n FROM items WHERE id = ?").get(kept!.id) as { n: number }).n).toBe(0);
      db.close();
    } finally {
      journal.close();
    }
  });
});
