/**
 * The batch engine in process, on in-memory readers (the same DeviceManager, driver and emulator
 * code the daemon runs through pcscd): parallel readers, the claim-before-write rule, resumption
 * with the same seed after a card pulled mid-write or a reader unplugged, failures, verification
 * of the clock read-back, skips and conflicts, pause, and a full journal.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BatchEngine, type BatchEngineOptions, type BatchItemEvent } from "../../src/service/batch-engine.js";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { MemoryReaders } from "../../src/simulation/simulation.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { otpbError } from "../../src/lib/errors.js";
import { Journal } from "../../src/store/journal.js";
import { AUTH_FINISH, RecordingCard, WRITE_CONFIG, WRITE_SEED, sw } from "../drivers/_cards.js";
import { tempRoot } from "../store/helpers.js";

const READERS = ["R1", "R2", "R3"];
const serial = (i: number): string => `86596221${String(i).padStart(6, "0")}`;
const WRITES = [WRITE_CONFIG, WRITE_SEED, AUTH_FINISH];

let t: ReturnType<typeof tempRoot>;
let readers: MemoryReaders;
let manager: DeviceManager;
let journal: Journal;
let engine: BatchEngine;
let events: BatchItemEvent[];

/** How long a tap waits for a token that slipped out (the engine's default is 5 s). */
const HOLD_STILL_MS = 400;

function open(options: { maxPageCount?: number; reburn?: boolean; checkClock?: BatchEngineOptions["checkClock"] } = {}): void {
  journal = Journal.open({ dataDir: t.dataDir, key: { kind: "keyFile" }, ...(options.maxPageCount ? { maxPageCount: options.maxPageCount } : {}) });
  engine = new BatchEngine({
    journal,
    devices: manager,
    holdStill: { waitMs: HOLD_STILL_MS },
    ...(options.reburn ? { reburn: true } : {}),
    ...(options.checkClock ? { checkClock: options.checkClock } : {}),
  });
  events = [];
  engine.onItem((e) => events.push(e));
}

beforeEach(() => {
  t = tempRoot();
  readers = new MemoryReaders();
  for (const name of READERS) readers.addReader(name);
  manager = new DeviceManager({ pcsc: readers });
  open();
});

afterEach(async () => {
  await engine.close();
  manager.close();
  journal.close();
  t.cleanup();
});

/** The next item event for `serialNo` (after those already seen). */
async function itemEvent(serialNo: string, after = 0, timeoutMs = 3_000): Promise<BatchItemEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = events.slice(after).find((e) => e.serial === serialNo);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no batch.item for ${serialNo}; seen ${JSON.stringify(events.map((e) => [e.serial, e.outcome]))}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Taps a token: in, wait for its event, out. */
async function tap(reader: string, card: SingleProfileToken | RecordingCard, s: string): Promise<BatchItemEvent> {
  const before = events.length;
  readers.insert(reader, card);
  const event = await itemEvent(s, before);
  readers.remove(reader);
  return event;
}

function journalSeed(batchId: number, s: string): Buffer | undefined {
  return journal.withCommittedSeeds(batchId, (items) => {
    const item = items.find((i) => i.serial === s);
    return item === undefined ? undefined : Buffer.from(item.seed);
  });
}

describe("batch engine on in-memory readers", () => {
  it("burns 12 tokens on 3 readers in parallel, each with its own committed seed, and reports progress", async () => {
    const batch = journal.createBatch({ name: "march", count: 12 });
    engine.run(batch.id);
    const tokens = Array.from({ length: 12 }, (_, i) => new SingleProfileToken({ serial: serial(i + 1) }));
    await Promise.all(
      READERS.map(async (reader, r) => {
        for (let i = r; i < tokens.length; i += READERS.length) {
          const event = await tap(reader, tokens[i]!, serial(i + 1));
          expect(event).toMatchObject({ outcome: "committed", reader, batchId: batch.id });
          // The code the operator should see is the one the emulated token shows at the burn time.
          expect(event.codes!.current).toBe(tokens[i]!.code(event.codes!.time));
          expect(Math.abs(event.driftSeconds!)).toBeLessThanOrEqual(2);
        }
      }),
    );
    const progress = engine.progress();
    expect(progress).toMatchObject({ total: 12, done: 12, finished: true, inFlight: 0 });
    const seeds = new Set<string>();
    for (const [i, token] of tokens.entries()) {
      const seed = journalSeed(batch.id, serial(i + 1))!;
      expect(Buffer.from(token.state().seed).equals(seed)).toBe(true);
      seeds.add(seed.toString("hex"));
    }
    expect(seeds.size).toBe(12);
    // Every reader did some of the work.
    expect(new Set(events.map((e) => e.reader))).toEqual(new Set(READERS));
  });

  it("takes no token while the batch is paused, and the ones waiting once it resumes", async () => {
    const batch = journal.createBatch({ name: "b", count: 2 });
    engine.run(batch.id);
    engine.pause(batch.id);
    const token = new RecordingCard(new SingleProfileToken({ serial: serial(1) }));
    readers.insert("R1", token);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual([]);
    expect(engine.progress().readers.find((r) => r.reader === "R1")).toMatchObject({ state: "waiting", serial: serial(1) });
    engine.run(batch.id);
    expect(await itemEvent(serial(1))).toMatchObject({ outcome: "committed" });
  });

  it("a committed token tapped again is skipped with nothing but GET INFO sent; a token of another batch is reported", async () => {
    const first = journal.createBatch({ name: "a", count: 2 });
    engine.run(first.id);
    const token = new SingleProfileToken({ serial: serial(1) });
    await tap("R1", token, serial(1));
    const card = new RecordingCard(token);
    expect(await tap("R2", card, serial(1))).toMatchObject({ outcome: "already-committed" });
    expect(card.steps.filter((s) => WRITES.includes(s))).toEqual([]);
    engine.cancel(first.id);
    const second = journal.createBatch({ name: "b", count: 2 });
    engine.run(second.id);
    const event = await tap("R3", card, serial(1));
    expect(event).toMatchObject({ outcome: "conflict", conflicts: [{ batchId: first.id, state: "committed" }] });
    expect(card.steps.filter((s) => WRITES.includes(s))).toEqual([]);
    expect(journal.status(second.id).counts.pending).toBe(2);
  });

  it("a token that slips out during the seed write and is back within the wait: 'hold the token still', then committed from the same claim", async () => {
    const batch = journal.createBatch({ name: "b", count: 2 });
    const progress: string[] = [];
    engine.onProgress((p) => progress.push(...p.readers.map((r) => r.message ?? "").filter((m) => m.startsWith("hold"))));
    engine.run(batch.id);
    const token = new SingleProfileToken({ serial: serial(11) }); // OTPC-P2-i: the config write erased the seed
    const card = new RecordingCard(token);
    card.onceAt(WRITE_SEED, () => {
      readers.remove("R1");
      setTimeout(() => readers.insert("R1", card), 50);
      throw otpbError("CARD_REMOVED", "the card left the reader", { detail: { stage: "seed" } });
    });
    readers.insert("R1", card);
    const event = await itemEvent(serial(11));
    expect(event).toMatchObject({ outcome: "committed", attempts: 1, resumed: false });
    expect(progress[0]).toBe("hold the token still, retrying (the token left the field during seed; retry 1 of 2)");
    expect(Buffer.from(token.state().seed).equals(journalSeed(batch.id, serial(11))!)).toBe(true);
    expect(token.code(event.codes!.time)).toBe(event.codes!.current);
    // One item claimed and committed; the other still pending; the token in the reader is not tapped twice.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(journal.status(batch.id).counts).toMatchObject({ committed: 1, pending: 1 });
    expect(events.filter((e) => e.serial === serial(11))).toHaveLength(1);
  });

  it("refuses a tap while the host clock check fails, before anything is claimed or written", async () => {
    await engine.close();
    journal.close();
    // A clock 5 s off (the SNTP side of the check is tested through the daemon, test/daemon/clock.test.ts).
    open({
      checkClock: async (force) => {
        if (!force) throw otpbError("CLOCK_UNTRUSTED", "the system clock is 5.0 s behind 127.0.0.1 (limit 2 s); not burning");
        return { overridden: ["the system clock is 5.0 s behind 127.0.0.1 (limit 2 s)"] };
      },
    });
    const batch = journal.createBatch({ name: "b", count: 2 });
    engine.run(batch.id);
    const card = new RecordingCard(new SingleProfileToken({ serial: serial(12) }));
    expect(await tap("R1", card, serial(12))).toMatchObject({ outcome: "error", reason: "CLOCK_UNTRUSTED" });
    expect(card.steps.filter((s) => WRITES.includes(s))).toEqual([]);
    expect(journal.status(batch.id).counts.pending).toBe(2);
    // Forced: the tap goes on (the problem is logged as a warning).
    engine.run(batch.id, { forceClock: true });
    expect(await tap("R1", card, serial(12))).toMatchObject({ outcome: "committed" });
  });

  it("card pulled between config and seed and not back within the wait: the item stays claimed, another token gets the next item, the same token resumes with the same seed", async () => {
    const batch = journal.createBatch({ name: "b", count: 3 });
    engine.run(batch.id);
    const token = new SingleProfileToken({ serial: serial(1) });
    const card = new RecordingCard(token);
    card.onceAt(WRITE_SEED, () => {
      readers.remove("R1");
      throw otpbError("CARD_REMOVED", "the card left the reader");
    });
    readers.insert("R1", card);
    const cut = await itemEvent(serial(1));
    expect(cut).toMatchObject({ outcome: "interrupted", reason: "CARD_REMOVED" });
    expect(journal.item(cut.itemId!)).toMatchObject({ state: "claimed", serial: serial(1) });
    // Another token takes the next item, not the interrupted one.
    const other = await tap("R2", new SingleProfileToken({ serial: serial(2) }), serial(2));
    expect(other.itemId).not.toBe(cut.itemId);
    const resumed = await tap("R3", card, serial(1));
    expect(resumed).toMatchObject({ outcome: "committed", itemId: cut.itemId, resumed: true, attempts: 2 });
    expect(Buffer.from(token.state().seed).equals(journalSeed(batch.id, serial(1))!)).toBe(true);
  });

  it("reader unplugged mid-burn: interrupted, resumed on another reader", async () => {
    const batch = journal.createBatch({ name: "b", count: 1 });
    engine.run(batch.id);
    const token = new SingleProfileToken({ serial: serial(7) });
    const card = new RecordingCard(token);
    card.onceAt(WRITE_CONFIG, () => {
      readers.removeReader("R1");
      throw otpbError("READER_GONE", "the reader was unplugged");
    });
    readers.insert("R1", card);
    expect(await itemEvent(serial(7))).toMatchObject({ outcome: "interrupted", reason: "READER_GONE" });
    expect(await tap("R2", card, serial(7))).toMatchObject({ outcome: "committed", resumed: true });
    expect(Buffer.from(token.state().seed).equals(journalSeed(batch.id, serial(7))!)).toBe(true);
  });

  it("a token that refuses authentication fails its item; tapped again it is reported, not burned", async () => {
    const batch = journal.createBatch({ name: "b", count: 2 });
    engine.run(batch.id);
    const card = new RecordingCard(new SingleProfileToken({ serial: serial(3) }));
    card.intercept = (step) => (step === AUTH_FINISH ? sw(0x6983) : undefined);
    const event = await tap("R1", card, serial(3));
    expect(event).toMatchObject({ outcome: "failed", reason: "TOKEN_LOCKED", seedState: "unchanged" });
    expect(journal.item(event.itemId!)).toMatchObject({ state: "failed" });
    card.steps.length = 0;
    expect(await tap("R1", card, serial(3))).toMatchObject({ outcome: "previously-failed" });
    expect(card.steps.filter((s) => WRITES.includes(s))).toEqual([]);
  });

  it("a clock that reads back more than 2 s off fails the item with VERIFY_MISMATCH", async () => {
    const batch = journal.createBatch({ name: "b", count: 1 });
    engine.run(batch.id);
    let skew = 0;
    const token = new SingleProfileToken({ serial: serial(4), clock: () => Math.floor(Date.now() / 1000) + skew });
    const card = new RecordingCard(token);
    card.intercept = (step, apdu, inner) => {
      if (step !== WRITE_SEED) return undefined;
      const answer = inner.transmit(apdu);
      skew = 10; // the token's oscillator runs away right after the burn
      return answer;
    };
    const event = await tap("R1", card, serial(4));
    expect(event).toMatchObject({ outcome: "failed", reason: "VERIFY_MISMATCH" });
    expect(journal.item(event.itemId!)).toMatchObject({ state: "failed" });
    expect(journal.status(batch.id).counts.committed).toBe(0);
  });

  it("a full journal: the claim fails, and no byte that writes reaches the token", async () => {
    const batch = journal.createBatch({ name: "b", count: 300 });
    engine.run(batch.id);
    await engine.close();
    journal.close();
    const db = new Database(join(t.dataDir, "journal.sqlite"), { readonly: true });
    const pages = db.pragma("page_count", { simple: true }) as number;
    db.close();
    open({ maxPageCount: pages });
    engine.run(batch.id);
    let full: BatchItemEvent | undefined;
    for (let i = 0; i < 300 && full === undefined; i++) {
      const card = new RecordingCard(new SingleProfileToken({ serial: serial(100 + i) }));
      const event = await tap(READERS[i % 3]!, card, serial(100 + i));
      if (event.outcome === "interrupted") {
        // Full after the claim (markBurned, commit): the item stays in flight, to resume with its seed.
        expect(event.reason).toBe("JOURNAL_FULL");
        expect(["claimed", "burned", "verified"]).toContain(journal.item(event.itemId!).state);
      } else if (event.outcome !== "committed") {
        full = event;
        expect(card.steps.filter((s) => WRITES.includes(s))).toEqual([]);
      }
    }
    expect(full).toMatchObject({ outcome: "error", reason: "JOURNAL_FULL" });
    expect(journal.items(batch.id).some((item) => item.serial === full!.serial)).toBe(false);
  });

  it("release lets go of a running batch without changing it; a token tapped meanwhile waits for the next batch run", async () => {
    const first = journal.createBatch({ name: "desk one", count: 2 });
    const second = journal.createBatch({ name: "desk two", count: 2 });
    engine.run(first.id);
    expect((await tap("R1", new SingleProfileToken({ serial: serial(1) }), serial(1))).outcome).toBe("committed");
    const waiting = new SingleProfileToken({ serial: serial(2) });
    expect(() => engine.run(second.id)).toThrow(expect.objectContaining({ reason: "BATCH_BUSY" }));

    engine.release();
    expect(engine.batchId).toBeUndefined();
    expect(journal.batch(first.id).state).toBe("running");
    const before = events.length;
    readers.insert("R2", waiting);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events.length).toBe(before);
    engine.run(second.id);
    expect(await itemEvent(serial(2), before)).toMatchObject({ outcome: "committed", batchId: second.id });
    expect(journal.status(first.id).counts).toMatchObject({ committed: 1, pending: 1 });
  });
});
