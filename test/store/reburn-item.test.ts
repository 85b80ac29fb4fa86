/**
 * Re-burning one chosen item (Journal#claimNext with `itemId`) on a real SQLite journal: the same
 * token takes the same seed again; a blank token takes over a lost token's item (the old serial stays
 * in the event, the export names the new one); a token bound to another item is refused with nothing
 * written; a pending item, or an item of another batch, is refused.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OtpbridgeError } from "../../src/lib/errors.js";
import type { Journal } from "../../src/store/journal.js";
import { burnAll, openKeyFileJournal, tempRoot } from "./helpers.js";

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OtpbridgeError);
    return (error as OtpbridgeError).reason;
  }
  throw new Error("expected a throw");
}

function finish(journal: Journal, itemId: number): void {
  journal.markBurned(itemId);
  journal.markVerified(itemId, { checked: true });
  journal.commit(itemId);
}

describe("journal: re-burning one item", () => {
  let t: ReturnType<typeof tempRoot>;
  let journal: Journal;
  let batchId: number;
  let seeds: Uint8Array[];
  beforeEach(() => {
    t = tempRoot();
    journal = openKeyFileJournal(t.dataDir);
    batchId = journal.createBatch({ name: "b", count: 3 }).id;
    journal.setBatchState(batchId, "start");
    seeds = burnAll(journal, batchId, 2);
  });
  afterEach(() => {
    journal.close();
    t.cleanup();
  });

  it("the same token takes the same seed again, and the item is committed again", () => {
    const [first] = journal.items(batchId);
    const claim = journal.claimNext(batchId, { serial: "S0001" }, { itemId: first!.id });
    if (claim.outcome !== "reburn") throw new Error(`expected reburn, got ${claim.outcome}`);
    expect(Buffer.from(claim.seed).equals(Buffer.from(seeds[0]!))).toBe(true);
    expect(claim.item).toMatchObject({ id: first!.id, serial: "S0001", state: "claimed", attempts: 2 });
    // Until it is committed again the export leaves it out: the token may hold half a burn.
    expect(journal.withCommittedSeeds(batchId, (items) => items.map((i) => i.serial))).toEqual(["S0002"]);
    finish(journal, first!.id);
    const event = journal.events(batchId).find((e) => e.kind === "item.reburn");
    expect(event?.detail).toEqual({ serial: "S0001", from: "committed", attempts: 2 });
  });

  it("a blank token takes over a lost token's item: the event keeps the old serial, the export the new one", () => {
    const [first] = journal.items(batchId);
    const claim = journal.claimNext(batchId, { serial: "NEW1", model: "OTPC-P2-i" }, { itemId: first!.id });
    if (claim.outcome !== "reburn") throw new Error(`expected reburn, got ${claim.outcome}`);
    expect(Buffer.from(claim.seed).equals(Buffer.from(seeds[0]!))).toBe(true);
    finish(journal, first!.id);
    expect(journal.item(first!.id)).toMatchObject({ serial: "NEW1", state: "committed" });
    expect(journal.events(batchId).find((e) => e.kind === "item.reburn")?.detail).toMatchObject({ serial: "NEW1", replacedSerial: "S0001" });
    const exported = journal.withCommittedSeeds(batchId, (items) => items.map((i) => [i.serial, Buffer.from(i.seed).toString("hex")]));
    expect(exported).toEqual([
      ["NEW1", Buffer.from(seeds[0]!).toString("hex")],
      ["S0002", Buffer.from(seeds[1]!).toString("hex")],
    ]);
    // The lost token is bound to nothing now: tapped again it would be a new token (next pending item).
    const again = journal.claimNext(batchId, { serial: "S0001" });
    expect(again).toMatchObject({ outcome: "claimed", item: { position: 2 } });
  });

  it("refuses a token bound to another item, writing nothing; refuses pending items and items of other batches", () => {
    const [first, , third] = journal.items(batchId);
    const before = journal.item(first!.id);
    const refused = journal.claimNext(batchId, { serial: "S0002" }, { itemId: first!.id });
    expect(refused).toMatchObject({ outcome: "serial-in-other-batch", conflicts: [{ batchId, state: "committed" }] });
    expect(journal.item(first!.id)).toEqual(before);
    expect(reasonOf(() => journal.claimNext(batchId, { serial: "X" }, { itemId: third!.id }))).toBe("ITEM_STATE");
    const other = journal.createBatch({ name: "other", count: 1 }).id;
    journal.setBatchState(other, "start");
    expect(reasonOf(() => journal.claimNext(other, { serial: "X" }, { itemId: first!.id }))).toBe("ITEM_NOT_FOUND");
    expect(reasonOf(() => journal.claimNext(batchId, { serial: "X" }, { itemId: 999 }))).toBe("ITEM_NOT_FOUND");
    journal.setBatchState(batchId, "pause");
    expect(reasonOf(() => journal.claimNext(batchId, { serial: "S0001" }, { itemId: first!.id }))).toBe("BATCH_STATE");
  });

  it("an interrupted re-burn of the same token resumes with the same seed", () => {
    const [first] = journal.items(batchId);
    const claim = journal.claimNext(batchId, { serial: "NEW1" }, { itemId: first!.id });
    expect(claim.outcome).toBe("reburn");
    const resumed = journal.claimNext(batchId, { serial: "NEW1" }, { itemId: first!.id });
    if (resumed.outcome !== "resumed") throw new Error(`expected resumed, got ${resumed.outcome}`);
    expect(Buffer.from(resumed.seed).equals(Buffer.from(seeds[0]!))).toBe(true);
    // Another token cannot take an item a reburn holds in flight.
    expect(reasonOf(() => journal.claimNext(batchId, { serial: "NEW2" }, { itemId: first!.id }))).toBe("ITEM_STATE");
  });
});
