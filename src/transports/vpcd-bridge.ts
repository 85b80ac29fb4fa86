/**
 * Puts a {@link VirtualCard} into a vpcd reader (vsmartcard's virtual PC/SC reader driver, loaded
 * by pcscd): the card is a TCP client of the port vpcd listens on. Insert = connect, remove =
 * close; pcscd notices either within about 400 ms (its presence polling period).
 *
 * Wire format, both ways: 2-byte big-endian length, then payload. From vpcd, a 1-byte payload is a
 * control message (00 power off, 01 power on, 02 reset: no reply; 04 get ATR: reply the ATR);
 * anything longer is a command APDU, answered with the response APDU.
 */
import { connect, type Socket } from "node:net";
import { abytes, aint } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import type { VirtualCard } from "./types.js";

/** vpcd's first port ("Virtual PCD 00 00"); each further slot listens on the next port. */
export const VPCD_FIRST_PORT = 35963;
/**
 * 127.0.0.2 rather than 127.0.0.1: vpcd 3.3 writes length and APDU as two segments without
 * TCP_NODELAY, so on a default route every APDU waits for the card's delayed ACK (about 44 ms);
 * scripts/services.sh gives 127.0.0.2 a `quickack 1` route (180-350 µs). Without the route
 * 127.0.0.2 still reaches vpcd (it listens on all addresses), only slower.
 */
export const VPCD_DEFAULT_HOST = "127.0.0.2";

const CONTROL_POWER_OFF = 0x00;
const CONTROL_POWER_ON = 0x01;
const CONTROL_RESET = 0x02;
const CONTROL_GET_ATR = 0x04;
/** The card's answer when its emulator throws: "no precise diagnosis" (ISO 7816-4 table 6). */
const SW_NO_PRECISE_DIAGNOSIS = Uint8Array.of(0x6f, 0x00);

export interface InsertOptions {
  /** TCP port of the vpcd slot (default {@link VPCD_FIRST_PORT}). */
  port?: number;
  /** Address vpcd listens on (default {@link VPCD_DEFAULT_HOST}). */
  host?: string;
}

/** A card sitting in a vpcd reader. */
export interface InsertedCard {
  readonly host: string;
  readonly port: number;
  /** Resolves when the card has left the reader: removed, or vpcd (pcscd) went away. */
  readonly gone: Promise<void>;
  /** Takes the card out of the reader (closes the connection); resolves once closed. */
  remove(): Promise<void>;
}

/**
 * Connects `card` to a vpcd slot. vpcd serves one card per slot: a second card on a busy port
 * stays in vpcd's listen queue, unseen, until the first leaves.
 * @throws OtpbridgeError READER_GONE when nothing listens on host:port (pcscd not running, or no
 *   vpcd reader declared on that port); INVALID_INPUT for a bad port or ATR.
 */
export async function insertCard(card: VirtualCard, options: InsertOptions = {}): Promise<InsertedCard> {
  const port = options.port ?? VPCD_FIRST_PORT;
  const host = options.host ?? VPCD_DEFAULT_HOST;
  aint(port, "port", 1, 65535);
  abytes(card.atr, "card.atr", { min: 2, max: 33 });

  const socket = await new Promise<Socket>((resolve, reject) => {
    const s = connect({ host, port });
    s.once("connect", () => {
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (error) => {
      reject(
        otpbError("READER_GONE", `no vpcd reader listens on ${host}:${port}`, {
          detail: { host, port },
          cause: error,
        }),
      );
    });
  });
  socket.setNoDelay(true);
  // After the connection is up, errors (ECONNRESET when pcscd dies) just end the insertion.
  socket.on("error", () => socket.destroy());
  const gone = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  let pending: Buffer = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 2) {
      const length = pending.readUInt16BE(0);
      if (pending.length < 2 + length) break;
      const payload = pending.subarray(2, 2 + length);
      pending = pending.subarray(2 + length);
      const reply = answer(card, payload);
      if (reply !== undefined) socket.write(frame(reply));
    }
  });
  return {
    host,
    port,
    gone,
    remove: async () => {
      socket.destroy();
      await gone;
    },
  };
}

/** What the card says to one vpcd message, or undefined when vpcd expects no reply. */
function answer(card: VirtualCard, payload: Uint8Array): Uint8Array | undefined {
  if (payload.length === 1) {
    switch (payload[0]) {
      case CONTROL_POWER_OFF:
        card.powerOff?.();
        return undefined;
      case CONTROL_POWER_ON:
        card.powerOn?.();
        return undefined;
      case CONTROL_RESET:
        card.reset?.();
        return undefined;
      case CONTROL_GET_ATR:
        return card.atr;
      default:
        return undefined; // vpcd defines no other control message
    }
  }
  if (payload.length === 0) return undefined;
  try {
    // A copy: the payload is a view into the socket's receive buffer.
    const response = card.transmit(Uint8Array.from(payload));
    // The length prefix has 16 bits; no short or extended response comes near that.
    return response.length <= 0xffff ? response : SW_NO_PRECISE_DIAGNOSIS;
  } catch {
    // A real card answers something even when its firmware fails; so does the emulated one.
    return SW_NO_PRECISE_DIAGNOSIS;
  }
}

function frame(payload: Uint8Array): Buffer {
  const framed = Buffer.alloc(2 + payload.length);
  framed.writeUInt16BE(payload.length, 0);
  framed.set(payload, 2);
  return framed;
}
