/**
 * The engine's one-item reburn (BatchEngine#reburnItem) in process, on in-memory readers and a real
 * SQLite journal: a token bound to another item is refused and the arm waits; a blank token takes
 * the armed item with its seed, not the next pending one; the arm is then used up, and the next token
 * takes the pending item; a paused batch cannot be armed.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { BatchEngine, type BatchItemEvent } from "../../src/service/batch-engine.js";
import { MemoryReaders } from "../../src/simulation/simulation.js";
import { Journal } from "../../src/store/journal.js";
import { tempRoot } from "../store/helpers.js";

const serial = (i: number): string => `86596221${String(i).padStart(6, "0")}`;

describe("batch engine: re-burning one item", () => {
  let t: ReturnType<typeof tempRoot>;
  let readers: MemoryReaders;
  let manager: DeviceManager;
  let journal: Journal;
  let engine: BatchEngine;
  let events: BatchItemEvent[];

  beforeEach(() => {
    t = tempRoot();
    readers = new MemoryReaders();
    readers.addReader("R1");
    manager = new DeviceManager({ pcsc: readers });
    journal = Journal.open({ dataDir: t.dataDir, key: { kind: "keyFile" } });
    engine = new BatchEngine({ journal, devices: manager });
    events = [];
    engine.onItem((e) => events.push(e));
  });

  afterEach(async () => {
    await engine.close();
    manager.close();
    journal.close();
    t.cleanup();
  });

  async function tap(token: SingleProfileToken): Promise<BatchItemEvent> {
    const before = events.length;
    readers.insert("R1", token);
    const deadline = Date.now() + 3_000;
    try {
      for (;;) {
        const found = events.slice(before).find((e) => e.serial === token.state().serial);
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no batch.item for ${token.state().serial}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    } finally {
      readers.remove("R1");
    }
  }

  it("refuses a token of another item, gives the armed item to a blank token, then goes on with the pending ones", async () => {
    const batch = journal.createBatch({ name: "desk", count: 3 });
    engine.run(batch.id);
    const [a, b, c, d] = [1, 2, 3, 4].map((i) => new SingleProfileToken({ serial: serial(i) }));
    expect(await tap(a!)).toMatchObject({ outcome: "committed" });
    expect(await tap(b!)).toMatchObject({ outcome: "committed" });
    const lost = journal.items(batch.id)[0]!;
    expect(lost.serial).toBe(serial(1));

    engine.reburnItem(batch.id, lost.id);
    expect(engine.progress().reburnItemId).toBe(lost.id);
    // B holds item 2's seed: one seed per token, so it is refused and nothing changes.
    expect(await tap(b!)).toMatchObject({ outcome: "conflict" });
    expect(engine.reburnItemId).toBe(lost.id);
    expect(journal.item(lost.id)).toMatchObject({ serial: serial(1), state: "committed", attempts: 1 });

    expect(await tap(c!)).toMatchObject({ outcome: "committed", itemId: lost.id });
    expect(Buffer.from(c!.state().seed).equals(Buffer.from(a!.state().seed))).toBe(true);
    expect(journal.item(lost.id)).toMatchObject({ serial: serial(3), state: "committed", attempts: 2 });
    expect(journal.status(batch.id).counts).toMatchObject({ committed: 2, pending: 1 });
    expect(engine.reburnItemId).toBeUndefined();
    expect(engine.progress().reburnItemId).toBeUndefined();

    const next = await tap(d!);
    expect(next).toMatchObject({ outcome: "committed", position: 2 });
    expect(journal.withCommittedSeeds(batch.id, (items) => items.map((i) => i.serial))).toEqual([serial(3), serial(2), serial(4)]);
  });

  it("arms only the batch it runs, and only while it runs", async () => {
    const batch = journal.createBatch({ name: "desk", count: 1 });
    const other = journal.createBatch({ name: "other", count: 1 });
    engine.run(batch.id);
    expect(await tap(new SingleProfileToken({ serial: serial(1) }))).toMatchObject({ outcome: "committed" });
    const item = journal.items(batch.id)[0]!;
    expect(() => engine.reburnItem(other.id, item.id)).toThrow(expect.objectContaining({ reason: "BATCH_STATE" }));
    engine.pause(batch.id);
    expect(() => engine.reburnItem(batch.id, item.id)).toThrow(expect.objectContaining({ reason: "BATCH_STATE" }));
    engine.run(batch.id);
    engine.reburnItem(batch.id, item.id);
    engine.cancel(batch.id);
    expect(engine.reburnItemId).toBeUndefined();
  });
});
