/**
 * In-memory PC/SC readers: the same shape as PcscManager (readers, events, exclusive sessions)
 * with virtual cards put in and taken out by code. It backs `--simulate` on a machine without
 * pcscd and the device manager's unit tests; it follows the PcscManager contract: a session is
 * exclusive (DEVICE_BUSY for a second one), and a card taken out (or a reader removed) makes the
 * session's next transmit fail with CARD_REMOVED (or READER_GONE).
 */
import { abytes } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import type { PcscEvent, PcscState, ReaderInfo } from "../transports/pcsc.js";
import type { ApduTransport, VirtualCard } from "../transports/types.js";
import type { PcscSource } from "./device-manager.js";

interface Slot {
  card: VirtualCard | undefined;
  /** Bumped on every insertion and removal: a session belongs to one insertion. */
  generation: number;
  busy: boolean;
  gone: boolean;
}

/** A set of simulated readers. */
export class MemoryReaders implements PcscSource {
  readonly #slots = new Map<string, Slot>();
  readonly #listeners = new Set<(event: PcscEvent) => void>();

  /** Always ready: there is no service to lose. */
  get status(): { state: PcscState } {
    return { state: "ready" };
  }

  /** The readers now, in the order they were added. */
  readers(): ReaderInfo[] {
    return [...this.#slots.entries()].map(([name, slot]) => ({
      name, cardPresent: slot.card !== undefined, atr: slot.card?.atr.slice() ?? new Uint8Array(0), inUse: slot.busy,
    }));
  }

  /** Subscribes to reader and card events; returns the unsubscribe function. */
  on(listener: (event: PcscEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Plugs in a reader.
   * @throws OtpbridgeError INVALID_INPUT if a reader of that name exists.
   */
  addReader(name: string): void {
    if (this.#slots.has(name)) throw otpbError("INVALID_INPUT", `reader ${JSON.stringify(name)} exists already`);
    this.#slots.set(name, { card: undefined, generation: 0, busy: false, gone: false });
    this.#emit({ type: "reader-added", reader: name });
  }

  /** Unplugs a reader (its card goes with it). Unknown names are ignored. */
  removeReader(name: string): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) return;
    if (slot.card !== undefined) this.remove(name);
    slot.gone = true;
    this.#slots.delete(name);
    this.#emit({ type: "reader-removed", reader: name });
  }

  /**
   * Puts a card into a reader and powers it up.
   * @throws OtpbridgeError READER_GONE (no such reader), INVALID_INPUT (the reader holds a card).
   */
  insert(name: string, card: VirtualCard): void {
    const slot = this.#slot(name);
    if (slot.card !== undefined) throw otpbError("INVALID_INPUT", `reader ${name} already holds a card`);
    slot.card = card;
    slot.generation++;
    card.powerOn?.();
    this.#emit({ type: "card-inserted", reader: name, atr: card.atr.slice() });
  }

  /** Takes the card out of a reader (powering it down); nothing happens if it is empty. */
  remove(name: string): void {
    const slot = this.#slots.get(name);
    if (slot?.card === undefined) return;
    slot.card.powerOff?.();
    slot.card = undefined;
    slot.generation++;
    this.#emit({ type: "card-removed", reader: name });
  }

  /**
   * An exclusive session on the card in `reader`, closed whatever `fn` does.
   * @throws OtpbridgeError READER_GONE, CARD_REMOVED (no card), DEVICE_BUSY (a session is open);
   *   whatever `fn` throws.
   */
  async withCard<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T> {
    const slot = this.#slot(reader);
    if (slot.busy) throw otpbError("DEVICE_BUSY", `reader ${reader} is in use by another session`, { detail: { reader } });
    if (slot.card === undefined) throw otpbError("CARD_REMOVED", `no card in reader ${reader}`, { detail: { reader } });
    slot.busy = true;
    const card = slot.card;
    const generation = slot.generation;
    let closed = false;
    const transport: ApduTransport = {
      transmit: async (apdu) => {
        abytes(apdu, "apdu", { min: 4 });
        if (closed) throw otpbError("INTERNAL", "transmit on a closed session");
        if (slot.gone) throw otpbError("READER_GONE", `reader ${reader} is gone`, { detail: { reader } });
        if (slot.generation !== generation) throw otpbError("CARD_REMOVED", `the card left reader ${reader}`, { detail: { reader } });
        return card.transmit(apdu.slice()).slice();
      },
      close: async () => {
        closed = true;
      },
    };
    try {
      return await fn(transport);
    } finally {
      closed = true;
      slot.busy = false;
    }
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw otpbError("READER_GONE", `no reader named ${JSON.stringify(name)}`, { detail: { reader: name } });
    return slot;
  }

  #emit(event: PcscEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}
