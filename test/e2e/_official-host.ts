/**
 * A PC/SC host that behaves like the official Token2 tools at the connection level, for the
 * official-flow suites: it drives the pcsclite binding directly (as pyscard and the pcsc crate
 * drive libpcsclite), connects SHARED, and releases the card the way the tool does
 * (SCARD_UNPOWER_CARD for pyscard's default, SCARD_RESET_CARD for the pcsc crate's drop, LEAVE for
 * a host that keeps the field). The commands themselves come from our codecs (src/protocol).
 * The host holds the PC/SC lock (test/fixtures/pcscd.ts) from open() to close().
 */
import { decodeResponseApdu, type ResponseApdu } from "../../src/protocol/apdu.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { ensurePcscd, lockPcscd } from "../fixtures/pcscd.js";

/** The parts of the pcsclite binding used here. */
interface RawReader {
  readonly name: string;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_UNPOWER_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_LEAVE_CARD: number;
  readonly SCARD_STATE_PRESENT: number;
  state?: number;
  on(event: "status", listener: (status: { state: number }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  connect(options: { share_mode: number }, cb: (error: Error | null | undefined, protocol: number) => void): void;
  transmit(data: Buffer, maxLength: number, protocol: number, cb: (error: Error | null | undefined, response: Buffer) => void): void;
  disconnect(disposition: number, cb: (error: Error | null | undefined) => void): void;
  close(): void;
}
interface RawContext {
  readonly readers: Record<string, RawReader>;
  on(event: "reader", listener: (reader: RawReader) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  close(): void;
}

export type Send = (apdu: Uint8Array) => Promise<ResponseApdu>;
/** How a tool lets go of the card at the end of a run. */
export type Release = "unpower" | "reset" | "leave";

/** A card with a record of the power events pcscd gives it ("on", "off", "reset"). */
function watched(card: VirtualCard): { card: VirtualCard; events: string[] } {
  const events: string[] = [];
  return {
    events,
    card: {
      atr: card.atr,
      transmit: (apdu) => card.transmit(apdu),
      powerOn: () => {
        events.push("on");
        card.powerOn?.();
      },
      powerOff: () => {
        events.push("off");
        card.powerOff?.();
      },
      reset: () => {
        events.push("reset");
        card.reset?.();
      },
    },
  };
}

export async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export class OfficialHost {
  #slot: InsertedCard | undefined;

  private constructor(
    private readonly context: RawContext,
    private readonly reader: RawReader,
    private readonly port: number,
    private readonly release: () => void,
  ) {}

  /**
   * Takes the PC/SC lock (waiting up to 120 s for it), makes sure pcscd runs, and opens a binding
   * context watching `reader` (name and vpcd port); resolves once pcscd lists it.
   */
  static async open(reader: { name: string; port: number }): Promise<OfficialHost> {
    const release = await lockPcscd();
    try {
      ensurePcscd();
      return await OfficialHost.#watch(reader, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  static async #watch(reader: { name: string; port: number }, release: () => void): Promise<OfficialHost> {
    const factory = (await import("pcsclite")).default as unknown as () => RawContext;
    const context = factory();
    context.on("error", () => {}); // "Command cancelled" on close
    const found = await new Promise<RawReader>((resolve) =>
      context.on("reader", (r) => {
        r.on("error", () => {});
        r.on("status", (status) => {
          r.state = status.state;
        });
        if (r.name === reader.name) resolve(r);
      }),
    );
    return new OfficialHost(context, found, reader.port, release);
  }

  #present(): boolean {
    return ((this.reader.state ?? 0) & this.reader.SCARD_STATE_PRESENT) !== 0;
  }

  /**
   * Puts `card` in the reader for the duration of `fn`, waiting for pcscd to see it come and go;
   * `fn` gets the power events pcscd gives the card ("on", "off", "reset"), as they happen.
   */
  async withCard(card: VirtualCard, fn: (events: string[]) => Promise<void>): Promise<void> {
    const { card: watchedCard, events } = watched(card);
    this.#slot = await insertCard(watchedCard, { port: this.port });
    try {
      await until(() => this.#present(), "pcscd to see the card");
      await fn(events);
    } finally {
      await this.#slot.remove();
      this.#slot = undefined;
      await until(() => !this.#present(), "pcscd to see the card leave");
    }
  }

  /** One tool run: connect SHARED, the tool's commands, then let go of the card the tool's way. */
  async run(release: Release, commands: (send: Send) => Promise<void>): Promise<void> {
    const reader = this.reader;
    const protocol = await new Promise<number>((resolve, reject) =>
      reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, (error, p) => (error ? reject(error) : resolve(p))),
    );
    const send: Send = (apdu) =>
      new Promise((resolve, reject) =>
        reader.transmit(Buffer.from(apdu), 258, protocol, (error, response) =>
          error ? reject(error) : resolve(decodeResponseApdu(Uint8Array.from(response))),
        ),
      );
    try {
      await commands(send);
    } finally {
      const how = { unpower: reader.SCARD_UNPOWER_CARD, reset: reader.SCARD_RESET_CARD, leave: reader.SCARD_LEAVE_CARD }[release];
      await new Promise<void>((resolve) => reader.disconnect(how, () => resolve()));
    }
  }

  /** Takes out any card, closes every reader and the context (deferred, as the binding requires), releases the lock. */
  async close(): Promise<void> {
    try {
      await this.#slot?.remove();
      await new Promise((resolve) => setImmediate(resolve));
      for (const r of Object.values(this.context.readers)) r.close();
      this.context.close();
    } finally {
      this.release();
    }
  }
}
