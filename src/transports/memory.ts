/**
 * An {@link ApduTransport} backed directly by a {@link VirtualCard}, for unit tests and drivers'
 * fault suites: the same contract as a PC/SC session, without pcscd. It behaves like a session on
 * a card that is already powered: it neither powers the card up nor down.
 */
import { abytes, aint } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import type { ApduTransport, VirtualCard } from "./types.js";

export interface MemoryTransportOptions {
  /**
   * Fault injection: the card "leaves the reader" after this many APDUs have been answered; the
   * next transmit (and every later one) fails with CARD_REMOVED, as a PC/SC session does.
   */
  removeAfter?: number;
}

/** An in-process session with a virtual card. */
export class MemoryTransport implements ApduTransport {
  readonly #card: VirtualCard;
  readonly #removeAfter: number;
  #sent = 0;
  #closed = false;

  /** @throws RangeError (INVALID_INPUT) when `removeAfter` is not a non-negative integer. */
  constructor(card: VirtualCard, options: MemoryTransportOptions = {}) {
    if (options.removeAfter !== undefined) aint(options.removeAfter, "removeAfter", 0, Number.MAX_SAFE_INTEGER);
    this.#card = card;
    this.#removeAfter = options.removeAfter ?? Infinity;
  }

  /** Number of APDUs the card has answered in this session. */
  get sent(): number {
    return this.#sent;
  }

  /**
   * Gives the card a copy of `apdu` and resolves with a copy of its answer (so that neither side
   * can change the other's buffer afterwards, as over a real link).
   * @throws OtpbridgeError CARD_REMOVED once the injected removal has happened; INTERNAL after
   *   close; TypeError/RangeError (INVALID_INPUT) for an APDU shorter than a header.
   */
  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    abytes(apdu, "apdu", { min: 4 });
    if (this.#closed) throw otpbError("INTERNAL", "transmit on a closed memory transport");
    if (this.#sent >= this.#removeAfter) {
      throw otpbError("CARD_REMOVED", "the card was removed during the session", { detail: { after: this.#sent } });
    }
    const response = this.#card.transmit(apdu.slice());
    this.#sent++;
    return response.slice();
  }

  /** Ends the session; idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
