/**
 * PC/SC return codes (pcsc-lite `pcsclite.h`, the same values as Windows' winscard) and what they
 * mean to a caller. The pcsclite binding reports a failure only as an Error whose message ends in
 * "(0x8010xxxx)", so the code is recovered from the message text.
 */
import type { Reason } from "../lib/errors.js";

export const SCARD_E_SHARING_VIOLATION = 0x8010000b;
export const SCARD_E_NO_SMARTCARD = 0x8010000c;
export const SCARD_E_UNKNOWN_READER = 0x80100009;
export const SCARD_E_NOT_TRANSACTED = 0x80100016;
export const SCARD_E_READER_UNAVAILABLE = 0x80100017;
export const SCARD_E_NO_SERVICE = 0x8010001d;
export const SCARD_E_SERVICE_STOPPED = 0x8010001e;
export const SCARD_E_NO_READERS_AVAILABLE = 0x8010002e;
export const SCARD_W_UNRESPONSIVE_CARD = 0x80100066;
export const SCARD_W_UNPOWERED_CARD = 0x80100067;
export const SCARD_W_RESET_CARD = 0x80100068;
export const SCARD_W_REMOVED_CARD = 0x80100069;

/**
 * Codes whose meaning does not depend on context. Others are ambiguous: for example a card that
 * leaves vpcd in the middle of an exchange gives SCARD_E_NOT_TRANSACTED ("Transaction failed"),
 * as does a card that answers garbage, and a daemon that just died gives SCARD_F_COMM_ERROR.
 * Those are explained by what the reader and the service do next (see PcscManager).
 */
const DEFINITE: ReadonlyMap<number, Reason> = new Map<number, Reason>([
  [SCARD_E_SHARING_VIOLATION, "DEVICE_BUSY"],
  [SCARD_E_NO_SMARTCARD, "CARD_REMOVED"],
  [SCARD_W_REMOVED_CARD, "CARD_REMOVED"],
  // Nobody else can reset a card we hold exclusively: a reset means it left and came back.
  [SCARD_W_RESET_CARD, "CARD_REMOVED"],
  [SCARD_W_UNPOWERED_CARD, "CARD_REMOVED"],
  [SCARD_W_UNRESPONSIVE_CARD, "CARD_REMOVED"],
  [SCARD_E_UNKNOWN_READER, "READER_GONE"],
  [SCARD_E_READER_UNAVAILABLE, "READER_GONE"],
  [SCARD_E_NO_READERS_AVAILABLE, "READER_GONE"],
  [SCARD_E_NO_SERVICE, "PCSC_UNAVAILABLE"],
  [SCARD_E_SERVICE_STOPPED, "PCSC_UNAVAILABLE"],
]);

/** The PC/SC code carried by a binding error ("SCardTransmit error: ...(0x80100016)"), if any. */
export function pcscCode(error: unknown): number | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const match = /\(0x([0-9a-f]{8})\)\s*$/i.exec(message);
  return match ? Number.parseInt(match[1]!, 16) : undefined;
}

/** The reason a PC/SC code stands for by itself, or undefined when the context must decide. */
export function definiteReason(code: number | undefined): Reason | undefined {
  return code === undefined ? undefined : DEFINITE.get(code);
}

/** `0x80100016` style, for error details. */
export function hexCode(code: number | undefined): string | undefined {
  return code === undefined ? undefined : `0x${code.toString(16).padStart(8, "0")}`;
}
