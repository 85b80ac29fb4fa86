/**
 * Shared set-up of the single-profile end-to-end suites: the machine-wide PC/SC lock, pcscd with
 * the test readers (scripts/services.sh), a PcscManager to watch events, and insertion of
 * emulated tokens into the four vpcd readers "Virtual PCD C/D 00 00/01", which these
 * suites own (the transports suites use the first ones).
 */
import { PcscManager } from "../../src/transports/pcsc.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { VPCD_READERS, ensurePcscd, lockPcscd } from "../fixtures/pcscd.js";
import { nextEvent } from "../fixtures/pcsc-events.js";

export const OUR_READERS = VPCD_READERS.filter((r) => /^Virtual PCD [CD] 00 0[01]$/.test(r.name));

/** Waits until every reader of `names` is listed. */
export async function readersListed(pcsc: PcscManager, names: readonly string[], timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!names.every((name) => pcsc.readers().some((r) => r.name === name))) {
    if (Date.now() > deadline) throw new Error(`readers not listed: ${names.join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface PcscRig {
  pcsc: PcscManager;
  /** Inserts a card and waits until pcscd reports it. */
  insert(card: VirtualCard, reader: { name: string; port: number }): Promise<InsertedCard>;
  /** Removes a card and waits until pcscd reports it gone. */
  remove(slot: InsertedCard, reader: string): Promise<void>;
  /**
   * Removes the cards a failed test left in (its own removals never ran) and gives pcscd a polling
   * period to see them go, so that the next test's insertions are new cards.
   */
  removeAll(): Promise<void>;
  close(): Promise<void>;
}

/** Takes the lock, ensures pcscd, starts a manager and waits for our readers. */
export async function openRig(): Promise<PcscRig> {
  const release = await lockPcscd();
  ensurePcscd();
  const pcsc = await PcscManager.start({ retryMaxMs: 300 });
  await readersListed(
    pcsc,
    OUR_READERS.map((r) => r.name),
  );
  const inserted = new Set<InsertedCard>();
  return {
    pcsc,
    insert: async (card, reader) => {
      const seen = nextEvent(pcsc, (e) => e.type === "card-inserted" && e.reader === reader.name, 5_000);
      const slot = await insertCard(card, { port: reader.port });
      inserted.add(slot);
      await seen;
      return slot;
    },
    remove: async (slot, reader) => {
      const gone = nextEvent(pcsc, (e) => e.type === "card-removed" && e.reader === reader, 5_000);
      await slot.remove();
      inserted.delete(slot);
      await gone;
    },
    removeAll: async () => {
      if (inserted.size === 0) return;
      await Promise.all([...inserted].map((slot) => slot.remove()));
      inserted.clear();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    },
    close: async () => {
      await Promise.all([...inserted].map((slot) => slot.remove()));
      await pcsc.close();
      release();
    },
  };
}
