/**
 * GET INFO response of families A and B (docs/PROTOCOL.md §2.4, §3.4): 3 header bytes, N at offset 3,
 * N ASCII serial bytes, 2 separator bytes, the device clock as u32 BE. Header and separator are
 * not checked: the open firmware core emits zeros, real devices probably SIMPLE-TLV tags [INF].
 */
import { abytes, aint } from "../lib/checks.js";
import { invalidInput, malformed } from "./_errors.js";

/** What GET INFO tells: the serial and the token's own current clock. */
export interface TokenInfo {
  /** ASCII serial as sent (not trimmed); may be empty, which means "not a programmable token" (§2.10). */
  serial: string;
  /** Device clock, Unix seconds. */
  clock: number;
}

/** Header/separator style a device side emits: the core's zeros [FW], or the probable TLV form [INF]. */
export type InfoForm = "zeros" | "tlv";

/**
 * Parses GET INFO data (without the SW). Bytes after N + 10 are ignored, as §2.4 asks drivers to.
 * @throws OtpbridgeError MALFORMED_RESPONSE if shorter than N + 10 bytes or if the serial is not printable ASCII.
 * @example parseTokenInfo(hex("0000000E3836...6553F100")) // { serial: "86596220000001", clock: 1700000000 }
 */
export function parseTokenInfo(data: Uint8Array): TokenInfo {
  abytes(data, "data");
  if (data.length < 10) throw malformed("response", "GET INFO data", "at least 10 bytes", data.length);
  const n = data[3]!;
  if (data.length < n + 10) throw malformed("response", "GET INFO data", `${n + 10} bytes for a ${n}-byte serial`, data.length);
  let serial = "";
  for (let i = 4; i < 4 + n; i++) {
    const c = data[i]!;
    if (c < 0x20 || c > 0x7e) throw malformed("response", `serial byte ${i - 4}`, "printable ASCII");
    serial += String.fromCharCode(c);
  }
  const t = 6 + n;
  const clock = ((data[t]! << 24) | (data[t + 1]! << 16) | (data[t + 2]! << 8) | data[t + 3]!) >>> 0;
  return { serial, clock };
}

/**
 * Device side: GET INFO data for `serial` and `clock` (without the SW).
 * @throws RangeError (INVALID_INPUT) on a serial over 16 characters or not printable ASCII, or a clock outside u32.
 */
export function encodeTokenInfo(serial: string, clock: number, form: InfoForm = "zeros"): Uint8Array {
  if (!/^[\x20-\x7e]{0,16}$/.test(serial)) {
    throw invalidInput("serial must be 0..16 printable ASCII characters");
  }
  aint(clock, "clock", 0, 0xffffffff);
  const n = serial.length;
  const out = new Uint8Array(n + 10);
  if (form === "tlv") out.set([0x95, n + 8, 0x02], 0);
  out[3] = n;
  for (let i = 0; i < n; i++) out[4 + i] = serial.charCodeAt(i);
  if (form === "tlv") out.set([0x11, 0x04], 4 + n);
  new DataView(out.buffer).setUint32(6 + n, clock);
  return out;
}
