/**
 * The vpcd card rig of the batch suites that run the real daemon over pcscd: inserts and removes
 * virtual cards, each time waiting until pcscd has reported the change.
 */
import { PcscManager } from "../../src/transports/pcsc.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { nextEvent } from "../fixtures/pcsc-events.js";

/** Inserts and removes virtual cards, each time until pcscd has reported the change. */
export class CardRig {
  readonly #inserted = new Set<InsertedCard>();

  private constructor(readonly pcsc: PcscManager) {}

  /** A PcscManager of the test process, once every reader of `readers` is listed. */
  static async open(readers: readonly string[]): Promise<CardRig> {
    const pcsc = await PcscManager.start({ retryMaxMs: 300 });
    const deadline = Date.now() + 8_000;
    while (!readers.every((name) => pcsc.readers().some((r) => r.name === name))) {
      if (Date.now() > deadline) throw new Error(`readers not listed: ${readers.join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return new CardRig(pcsc);
  }

  async insert(card: VirtualCard, reader: { name: string; port: number }): Promise<InsertedCard> {
    const seen = nextEvent(this.pcsc, (e) => e.type === "card-inserted" && e.reader === reader.name, 5_000);
    const slot = await insertCard(card, { port: reader.port });
    this.#inserted.add(slot);
    await seen;
    return slot;
  }

  async remove(slot: InsertedCard, reader: string): Promise<void> {
    const gone = nextEvent(this.pcsc, (e) => e.type === "card-removed" && e.reader === reader, 5_000);
    await slot.remove();
    this.#inserted.delete(slot);
    await gone;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#inserted].map((slot) => slot.remove()));
    await this.pcsc.close();
  }
}
