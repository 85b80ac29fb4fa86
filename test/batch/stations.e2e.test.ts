/**
 * One shared batch burned by three stations, each a batch engine with four in-memory readers (the
 * same DeviceManager, driver and emulator code the daemon runs through pcscd), on a real PostgreSQL
 * server in a throw-away cluster: every token holds exactly the seed the shared batch records for its
 * serial, no seed is on two tokens, no item is lost, and the export equals the tokens. A token cut
 * mid-write at one station is finished at another once its lease ran out, with the same seed; a
 * server stopped mid-batch pauses every station's new taps while their burns go on into the outbox.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchEngine, type BatchItemEvent } from "../../src/service/batch-engine.js";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { MemoryReaders } from "../../src/simulation/simulation.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { otpbError } from "../../src/lib/errors.js";
import { Outbox, SharedJournal, Station, type StationStore } from "../../src/store/stations/index.js";
import { RecordingCard, WRITE_SEED } from "../drivers/_cards.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "../store/stations/_cluster.js";

const missing = missingPostgres();
const READERS = ["R1", "R2", "R3", "R4"];
const serial = (i: number): string => `86596229${String(i).padStart(6, "0")}`;

interface Desk {
  name: string;
  store: StationStore;
  station: Station;
  journal: SharedJournal;
  readers: MemoryReaders;
  manager: DeviceManager;
  engine: BatchEngine;
  events: BatchItemEvent[];
}

let db: TestDb;
let dataDir: string;
const desks: Desk[] = [];

beforeAll(async () => {
  if (missing !== undefined) return;
  db = await testDb();
  dataDir = mkdtempSync(join(tmpdir(), "otpb-desks-"));
});
afterAll(async () => {
  for (const desk of desks) {
    await desk.engine.close();
    desk.manager.close();
    desk.station.close();
    await desk.journal.close();
  }
  await db?.close();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function desk(name: string, batchId: number): Promise<Desk> {
  const store = await db.store(name, { leaseMs: 3_000 });
  const station = new Station({ store, batch: await store.openBatch(batchId, PASSPHRASE), outbox: Outbox.open(join(dataDir, name)) });
  station.start();
  const journal = await SharedJournal.open(station, { pollMs: 200 });
  const readers = new MemoryReaders();
  for (const reader of READERS) readers.addReader(reader);
  const manager = new DeviceManager({ pcsc: readers });
  const engine = new BatchEngine({ journal, devices: manager, holdStill: { waitMs: 300 } });
  const events: BatchItemEvent[] = [];
  engine.onItem((e) => events.push(e));
  // Back from an outage: look at the readers again (tokens waiting there are taps now).
  station.on("resumed", () => engine.run(batchId));
  engine.run(batchId);
  const made = { name, store, station, journal, readers, manager, engine, events };
  desks.push(made);
  return made;
}

async function itemEvent(d: Desk, s: string, after: number): Promise<BatchItemEvent> {
  for (let i = 0; i < 1_500; i++) {
    const found = d.events.slice(after).find((e) => e.serial === s);
    if (found !== undefined) return found;
    await sleep(4);
  }
  throw new Error(`${d.name}: no batch.item for ${s}; seen ${JSON.stringify(d.events.map((e) => [e.serial, e.outcome]))}`);
}

async function tap(d: Desk, reader: string, card: SingleProfileToken | RecordingCard, s: string): Promise<BatchItemEvent> {
  const before = d.events.length;
  d.readers.insert(reader, card);
  const event = await itemEvent(d, s, before);
  d.readers.remove(reader);
  return event;
}

describe.skipIf(missing !== undefined)("three stations on one shared batch", () => {
  it("burns the batch across 12 readers; the tokens hold exactly what the batch records", async () => {
    const owner = await db.store("owner");
    const COUNT = 36;
    const record = await owner.createBatch({ name: "three desks", issuer: "Example", count: COUNT }, PASSPHRASE, TEST_SCRYPT);
    await owner.setBatchState(record.id, "start");
    const [a, b, c] = [await desk("desk-a", record.id), await desk("desk-b", record.id), await desk("desk-c", record.id)];
    const tokens = Array.from({ length: COUNT }, (_, i) => new SingleProfileToken({ serial: serial(i + 1) }));

    // A token cut mid-write at desk A: interrupted there, its item stays bound and written-to.
    const cutToken = tokens[0]!;
    const cut = new RecordingCard(cutToken);
    cut.onceAt(WRITE_SEED, () => {
      a.readers.remove("R1");
      throw otpbError("CARD_REMOVED", "the card left the reader");
    });
    a.readers.insert("R1", cut);
    const interrupted = await itemEvent(a, serial(1), 0);
    expect(interrupted).toMatchObject({ outcome: "interrupted", reason: "CARD_REMOVED" });

    // The same token carried to desk B while A's lease still runs: refused, nothing written.
    const early = await tap(b, "R1", cut, serial(1));
    expect(early).toMatchObject({ outcome: "error", reason: "ITEM_STATE" });

    // Everyone else's tokens, four readers per desk, in parallel.
    const queue = tokens.slice(1).map((token, i) => ({ token, s: serial(i + 2) }));
    await Promise.all(
      [a, b, c].flatMap((d) =>
        READERS.map(async (reader) => {
          for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
            const event = await tap(d, reader, next.token, next.s);
            expect(event.outcome).toBe("committed");
          }
        }),
      ),
    );

    // A's lease on the cut token runs out (A never came back to it); the sweeper makes it needs-check;
    // tapped at desk C it is finished with the seed it was first given. Desk A stops first: its
    // heartbeat would renew the lease between the expiry and the sweep.
    a.station.close();
    await db.expire([interrupted.itemId!]);
    await owner.sweep();
    const finished = await tap(c, "R2", cut, serial(1));
    expect(finished).toMatchObject({ outcome: "committed", itemId: interrupted.itemId, resumed: true });

    // The proof: the shared store's record, the tokens and the export agree.
    for (let i = 0; i < 200 && desks.some((d) => d.station.unsent().length > 0); i++) await sleep(20);
    const status = await owner.status(record.id);
    expect(status.counts).toMatchObject({ committed: COUNT, pending: 0, claimed: 0, "needs-check": 0 });
    expect(status.done).toBe(true);
    expect(new Set(status.stations.filter((s) => s.committed > 0).map((s) => s.id))).toEqual(new Set(["desk-a", "desk-b", "desk-c"]));
    const batch = await owner.openBatch(record.id, PASSPHRASE);
    const exported = await batch.withCommittedSeeds((items) => new Map(items.map((i) => [i.serial, Buffer.from(i.seed).toString("hex")])));
    batch.close();
    expect(exported.size).toBe(COUNT);
    const onTokens = new Set<string>();
    for (const [i, token] of tokens.entries()) {
      const held = Buffer.from(token.state().seed).toString("hex");
      expect(held).toBe(exported.get(serial(i + 1)));
      onTokens.add(held);
    }
    expect(onTokens.size).toBe(COUNT);
  });

  it("the server stops mid-burn: the burn finishes into the outbox, new taps wait, and all resume by themselves", async () => {
    const owner = desks[0]!.store;
    const record = await owner.createBatch({ name: "outage", count: 3 }, PASSPHRASE, TEST_SCRYPT);
    await owner.setBatchState(record.id, "start");
    const [d, e] = [await desk("desk-d", record.id), await desk("desk-e", record.id)];
    const tokens = [1, 2, 3].map((i) => new SingleProfileToken({ serial: serial(100 + i) }));

    // The server stops while desk D writes the seed: the burn goes on and is committed locally.
    const card = new RecordingCard(tokens[0]!);
    card.onceAt(WRITE_SEED, (apdu, inner) => {
      db.cluster.stop("fast");
      return inner.transmit(apdu);
    });
    const during = await tap(d, "R1", card, serial(101));
    expect(during).toMatchObject({ outcome: "committed" });
    expect(d.station.unsent().map((x) => x.step)).toEqual(["burned", "verified", "committed"]);

    // Desk E notices on its next heartbeat, and a token tapped there now waits instead of being claimed.
    for (let i = 0; i < 300 && e.station.taking; i++) await sleep(20);
    expect(e.station.taking).toBe(false);
    e.readers.insert("R2", tokens[1]!);
    await sleep(300);
    expect(e.events.filter((x) => x.serial === serial(102))).toEqual([]);
    expect(e.engine.progress().readers.find((r) => r.reader === "R2")).toMatchObject({ state: "waiting", serial: serial(102) });

    // Back: desk E takes the waiting token by itself, desk D's outbox reaches the server.
    db.cluster.start();
    expect(await itemEvent(e, serial(102), 0)).toMatchObject({ outcome: "committed" });
    e.readers.remove("R2");
    expect(await tap(d, "R3", tokens[2]!, serial(103))).toMatchObject({ outcome: "committed" });
    for (let i = 0; i < 300 && d.station.unsent().length > 0; i++) await sleep(20);
    expect(d.station.unsent()).toEqual([]);

    const status = await owner.status(record.id);
    expect(status.counts).toMatchObject({ committed: 3, pending: 0 });
    const batch = await owner.openBatch(record.id, PASSPHRASE);
    const exported = await batch.withCommittedSeeds((items) => new Map(items.map((i) => [i.serial, Buffer.from(i.seed).toString("hex")])));
    batch.close();
    for (const [i, token] of tokens.entries()) expect(Buffer.from(token.state().seed).toString("hex")).toBe(exported.get(serial(101 + i)));
  });
});
