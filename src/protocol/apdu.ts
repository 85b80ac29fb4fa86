/**
 * ISO 7816-4 APDUs as the Token2 families use them (docs/PROTOCOL.md §1.1, §4.2): hosts build short APDUs
 * only; device sides also accept the extended-length form, which the OTP applet must take (§4.2).
 * Pure functions; T=0 continuations (61XX/6CXX) are handled by the transports, not here.
 */
import { abytes, aint } from "../lib/checks.js";
import { malformed } from "./_errors.js";
import { swBytes } from "./status-words.js";

/** A command APDU. `le` is Ne, the number of response bytes expected (1..256 short, 1..65536 extended). */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data; absent or empty means no Lc field. */
  data?: Uint8Array;
  /** Ne; absent means no Le field. */
  le?: number;
}

/** A decoded command as a device sees it. */
export interface DecodedCommand {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data: Uint8Array;
  /** Ne, or null if the command carried no Le field. */
  le: number | null;
  /** True if the command used the extended-length encoding (`00 hi lo`). */
  extended: boolean;
}

/** A response APDU split into its data and status word. */
export interface ResponseApdu {
  data: Uint8Array;
  sw: number;
}

/**
 * Encodes a command APDU. Short form by default (Lc ≤ 255, Ne ≤ 256 with `00` meaning 256);
 * `extended: true` gives the `00 hi lo` form that only the OTP applet accepts (§4.2).
 * @throws RangeError (INVALID_INPUT) on a header byte outside 0..255 or a length the form cannot carry.
 * @example encodeCommandApdu({ cla: 0x80, ins: 0x41, p1: 0, p2: 0, le: 256 }) // 80 41 00 00 00
 */
export function encodeCommandApdu(cmd: CommandApdu, options: { extended?: boolean } = {}): Uint8Array {
  aint(cmd.cla, "cla", 0, 255);
  aint(cmd.ins, "ins", 0, 255);
  aint(cmd.p1, "p1", 0, 255);
  aint(cmd.p2, "p2", 0, 255);
  const extended = options.extended === true;
  const data = cmd.data ?? new Uint8Array(0);
  abytes(data, "data", { max: extended ? 65535 : 255 });
  if (cmd.le !== undefined) aint(cmd.le, "le", 1, extended ? 65536 : 256);
  const out: number[] = [cmd.cla, cmd.ins, cmd.p1, cmd.p2];
  if (extended && (data.length > 0 || cmd.le !== undefined)) out.push(0x00);
  if (data.length > 0) {
    if (extended) out.push(data.length >>> 8, data.length & 0xff);
    else out.push(data.length);
  }
  const bytes = Uint8Array.from(out);
  const le = cmd.le === undefined ? [] : extended ? [(cmd.le >>> 8) & 0xff, cmd.le & 0xff] : [cmd.le & 0xff];
  const result = new Uint8Array(bytes.length + data.length + le.length);
  result.set(bytes, 0);
  result.set(data, bytes.length);
  result.set(le, bytes.length + data.length);
  return result;
}

/**
 * Decodes a command APDU strictly by the ISO 7816-4 cases (1, 2S, 3S, 4S, 2E, 3E, 4E).
 * Device sides use it; Family A's firmware has its own, laxer reading (§2.9 steps 1-2).
 * @throws OtpbridgeError MALFORMED_COMMAND naming the length field that does not fit.
 */
export function decodeCommandApdu(apdu: Uint8Array): DecodedCommand {
  abytes(apdu, "apdu");
  const n = apdu.length;
  if (n < 4) throw malformed("command", "header", "at least 4 bytes", n);
  const head = { cla: apdu[0]!, ins: apdu[1]!, p1: apdu[2]!, p2: apdu[3]! };
  const empty = new Uint8Array(0);
  if (n === 4) return { ...head, data: empty, le: null, extended: false };
  const b4 = apdu[4]!;
  if (n === 5) return { ...head, data: empty, le: b4 === 0 ? 256 : b4, extended: false };
  if (b4 !== 0) {
    const data = apdu.slice(5, 5 + b4);
    if (n === 5 + b4) return { ...head, data, le: null, extended: false };
    if (n === 6 + b4) {
      const le = apdu[5 + b4]!;
      return { ...head, data, le: le === 0 ? 256 : le, extended: false };
    }
    throw malformed("command", "Lc", `a body of ${b4} bytes and at most one Le byte`, `${n - 5} bytes after Lc`);
  }
  if (n < 7) throw malformed("command", "extended length", "3 length bytes (00 hi lo)", n - 4);
  const x = (apdu[5]! << 8) | apdu[6]!;
  if (n === 7) return { ...head, data: empty, le: x === 0 ? 65536 : x, extended: true };
  if (x === 0) throw malformed("command", "extended Lc", "1..65535", 0);
  const data = apdu.slice(7, 7 + x);
  if (n === 7 + x) return { ...head, data, le: null, extended: true };
  if (n === 9 + x) {
    const le = (apdu[7 + x]! << 8) | apdu[8 + x]!;
    return { ...head, data, le: le === 0 ? 65536 : le, extended: true };
  }
  throw malformed("command", "extended Lc", `a body of ${x} bytes and at most two Le bytes`, `${n - 7} bytes after Lc`);
}

/**
 * Splits a response APDU into data and SW.
 * @throws OtpbridgeError MALFORMED_RESPONSE if fewer than 2 bytes arrived.
 */
export function decodeResponseApdu(response: Uint8Array): ResponseApdu {
  abytes(response, "response");
  if (response.length < 2) throw malformed("response", "status word", "at least 2 bytes", response.length);
  const n = response.length;
  return { data: response.slice(0, n - 2), sw: (response[n - 2]! << 8) | response[n - 1]! };
}

/**
 * Builds `data ‖ SW1 SW2` (device side).
 * @throws RangeError (INVALID_INPUT) if sw is not a 16-bit value.
 */
export function encodeResponseApdu(data: Uint8Array, sw: number): Uint8Array {
  abytes(data, "data");
  aint(sw, "sw", 0, 0xffff);
  const out = new Uint8Array(data.length + 2);
  out.set(data, 0);
  out.set(swBytes(sw), data.length);
  return out;
}
