/**
 * What every emulator shares: injectable clock and RNG, ATR construction, a constant-time compare,
 * and Family A's lax reading of a command (docs/PROTOCOL.md §2.9 steps 1-2), which the Molto2 model reuses
 * [EMU]. Every emulator has the VirtualCard shape of src/transports/types.ts, which the vpcd bridge
 * and the in-memory transport drive; it is declared there, by its consumer.
 */
import { randomBytes } from "node:crypto";
import { aint } from "../lib/checks.js";
import { nowSeconds } from "../lib/time.js";

/** Unix seconds. */
export type Clock = () => number;
/** n random bytes. */
export type Rng = (n: number) => Uint8Array;

/** The host's clock, in whole Unix seconds. */
export const systemClock: Clock = nowSeconds;

/**
 * A clock that never moves, like the firmware core's mock HAL (Appendix B).
 * @throws RangeError (INVALID_INPUT) on a time outside u32.
 */
export function pinnedClock(time: number): Clock {
  aint(time, "time", 0, 0xffffffff);
  return () => time;
}

/** Random bytes from node:crypto (the default RNG). */
export const systemRng: Rng = (n) => new Uint8Array(randomBytes(n));

/**
 * An RNG that repeats `pattern` from its start on every call, like the firmware core's mock RNG,
 * which always returns `11 22 … 88` (Appendix B).
 */
export function repeatingRng(pattern: Uint8Array): Rng {
  const copy = pattern.slice();
  return (n) => Uint8Array.from({ length: n }, (_, i) => copy[i % copy.length]!);
}

/**
 * An ISO 7816-3 ATR `3B 8n 80 01 ‖ historical ‖ TCK`: T=1 only, the form PC/SC part 3 builds for
 * ISO 14443-4 cards (with the ATS historical bytes). No public source gives the real Token2 ATRs [EMU].
 */
export function buildAtr(historical: Uint8Array): Uint8Array {
  const atr = new Uint8Array(5 + historical.length);
  atr.set([0x3b, 0x80 | historical.length, 0x80, 0x01], 0);
  atr.set(historical, 4);
  let tck = 0;
  for (let i = 1; i < atr.length - 1; i++) tck ^= atr[i]!;
  atr[atr.length - 1] = tck;
  return atr;
}

/** Constant-time equality of two byte arrays (the lengths are not secret). */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** A command as Family A's firmware reads it: Lc = a[4] when present, extra bytes ignored. */
export interface LaxCommand {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  lc: number;
  data: Uint8Array;
  /** Bytes after `5 + Lc` (an Le, usually); the firmware ignores them. */
  trailing: number;
}

/**
 * §2.9 steps 1-2: null means "answer 6700" (shorter than 4 bytes, or Lc beyond the data present).
 * An extended-length `00 hi lo` therefore reads as Lc = 0 with trailing bytes.
 */
export function readLax(apdu: Uint8Array): LaxCommand | null {
  const n = apdu.length;
  if (n < 4) return null;
  const lc = n >= 5 ? apdu[4]! : 0;
  if (n >= 5 && n < 5 + lc) return null;
  return {
    cla: apdu[0]!,
    ins: apdu[1]!,
    p1: apdu[2]!,
    p2: apdu[3]!,
    lc,
    data: apdu.slice(5, 5 + lc),
    trailing: Math.max(0, n - 5 - lc),
  };
}

/** The 4-byte-from-the-end split of a CLA 84 body into `body ‖ mac` (§1.5). */
export function splitMac(data: Uint8Array): { body: Uint8Array; mac: Uint8Array } {
  return { body: data.subarray(0, data.length - 4), mac: data.subarray(data.length - 4) };
}

/** `80 INS P1 P2 L' body`: the MAC input of §1.4, with class 80 although the command came as 84. */
export function macInput(ins: number, p1: number, p2: number, body: Uint8Array): Uint8Array {
  const m = new Uint8Array(5 + body.length);
  m.set([0x80, ins, p1, p2, body.length], 0);
  m.set(body, 5);
  return m;
}
