/**
 * Batch faults through the real PC/SC stack (the engine in process over PcscManager, pcscd and
 * vpcd): a card pulled between the config and the seed write, and pcscd killed while the seed
 * write is in flight (readers gone, cards gone with them, the service back). Each interrupted item
 * stays claimed for its token and is resumed with the same seed when that token comes back; the
 * other reader's token is never given the interrupted item. Holds the PC/SC test lock throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BatchEngine, type BatchItemEvent } from "../../src/service/batch-engine.js";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { Journal } from "../../src/store/journal.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { ensurePcscd, lockPcscd, missingPcscStack, startPcscd, stopPcscd, VPCD_READERS } from "../fixtures/pcscd.js";
import { RecordingCard, WRITE_SEED, sw } from "../drivers/_cards.js";
import { tempRoot } from "../store/helpers.js";
import { CardRig } from "./_card-rig.js";

const missing = missingPcscStack();
if (missing) console.warn(`batch fault tests skipped: ${missing}`);
const READERS = VPCD_READERS.filter((r) => /^Virtual PCD B 00 0[01]$/.test(r.name));

async function until(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(missing !== undefined)("batch faults through pcscd and vpcd", () => {
  let release = (): void => {};
  let rig: CardRig;
  let manager: DeviceManager;
  let journal: Journal;
  let engine: BatchEngine;
  let t: ReturnType<typeof tempRoot>;
  const events: BatchItemEvent[] = [];
  const eventFor = (serial: string, after: number): BatchItemEvent | undefined => events.slice(after).find((e) => e.serial === serial);
  const seedOf = (batchId: number, serial: string): string | undefined =>
    journal.withCommittedSeeds(batchId, (items) => {
      const item = items.find((i) => i.serial === serial);
      return item === undefined ? undefined : Buffer.from(item.seed).toString("hex");
    });

  beforeAll(async () => {
    release = await lockPcscd(300_000);
    ensurePcscd();
    rig = await CardRig.open(READERS.map((r) => r.name));
    manager = new DeviceManager({ pcsc: rig.pcsc, families: READERS.map((r) => ({ reader: r.name, match: "exact", family: "single-profile" })) });
    t = tempRoot();
    journal = Journal.open({ dataDir: t.dataDir, key: { kind: "keyFile" } });
    engine = new BatchEngine({ journal, devices: manager, holdStill: { waitMs: 500 } });
    engine.onItem((e) => events.push(e));
  }, 320_000);

  afterAll(async () => {
    await engine?.close();
    manager?.close();
    journal?.close();
    await rig?.close();
    t?.cleanup();
    release();
  });

  it("card pulled between config and seed: interrupted, the other reader's token gets the next item, the same token resumes with the same seed", async () => {
    const batch = journal.createBatch({ name: "pulled", count: 3 });
    engine.run(batch.id);
    const token = new SingleProfileToken({ serial: "86596221000501" });
    const card = new RecordingCard(token);
    let slot!: InsertedCard;
    card.onceAt(WRITE_SEED, () => {
      void slot.remove();
      return sw(0x6f00);
    });
    const before = events.length;
    slot = await rig.insert(card, READERS[0]!);
    await until(() => eventFor("86596221000501", before) !== undefined);
    const cut = eventFor("86596221000501", before)!;
    expect(cut).toMatchObject({ outcome: "interrupted", reason: "CARD_REMOVED" });
    expect(journal.item(cut.itemId!).state).toBe("claimed");

    const other = new SingleProfileToken({ serial: "86596121000502" });
    const otherSlot = await rig.insert(other, READERS[1]!);
    await until(() => eventFor("86596121000502", before) !== undefined);
    expect(eventFor("86596121000502", before)).toMatchObject({ outcome: "committed" });
    expect(eventFor("86596121000502", before)!.itemId).not.toBe(cut.itemId);
    await rig.remove(otherSlot, READERS[1]!.name);

    await until(() => manager.list().find((d) => d.reader === READERS[0]!.name)?.state === "no-card");
    const again = events.length;
    slot = await rig.insert(card, READERS[0]!);
    await until(() => eventFor("86596221000501", again) !== undefined);
    expect(eventFor("86596221000501", again)).toMatchObject({ outcome: "committed", itemId: cut.itemId, resumed: true });
    expect(Buffer.from(token.state().seed).toString("hex")).toBe(seedOf(batch.id, "86596221000501"));
    await rig.remove(slot, READERS[0]!.name);
    engine.cancel(batch.id);
  }, 60_000);

  it("pcscd killed while the seed write is in flight: interrupted; after the restart the token resumes with the same seed", async () => {
    const batch = journal.createBatch({ name: "pcscd", count: 2 });
    engine.run(batch.id);
    const token = new SingleProfileToken({ serial: "86596321000503" });
    const card = new RecordingCard(token);
    card.onceAt(WRITE_SEED, (apdu, inner) => {
      // The seed lands on the token; pcscd dies before its answer reaches the daemon.
      const answer = inner.transmit(apdu);
      stopPcscd();
      return answer;
    });
    const before = events.length;
    let slot: InsertedCard;
    try {
      slot = await rig.insert(card, READERS[0]!);
      await until(() => eventFor("86596321000503", before) !== undefined);
    } finally {
      startPcscd();
    }
    const cut = eventFor("86596321000503", before)!;
    expect(cut.outcome).toBe("interrupted");
    expect(["PCSC_UNAVAILABLE", "READER_GONE", "CARD_REMOVED"]).toContain(cut.reason);
    expect(journal.item(cut.itemId!).state).toBe("claimed");
    await slot!.gone;
    await until(() => READERS.every((r) => rig.pcsc.readers().some((x) => x.name === r.name)) && manager.status().pcsc === "ready");
    const again = events.length;
    slot = await rig.insert(card, READERS[0]!);
    await until(() => eventFor("86596321000503", again) !== undefined);
    expect(eventFor("86596321000503", again)).toMatchObject({ outcome: "committed", itemId: cut.itemId, resumed: true });
    expect(Buffer.from(token.state().seed).toString("hex")).toBe(seedOf(batch.id, "86596321000503"));
    expect(journal.status(batch.id).counts).toMatchObject({ committed: 1, pending: 1 });
    await rig.remove(slot, READERS[0]!.name);
  }, 90_000);
});
