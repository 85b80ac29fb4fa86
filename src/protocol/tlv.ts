/**
 * TLV as the Token2 devices use it (docs/PROTOCOL.md §1.7): BER-style lengths, but every tag is ONE byte.
 * `1F` is a plain tag here (display timeout), not BER's "tag number follows" marker, so a generic
 * BER decoder would misread these bodies. Lengths: short form (0..7F), and long forms `81 xx` and
 * `82 xx xx`, which the devices never emit but which cost nothing to read correctly.
 */
import { abytes, aint } from "../lib/checks.js";
import { malformed, hexByte, type WireSide } from "./_errors.js";

/** One TLV element. */
export interface Tlv {
  tag: number;
  value: Uint8Array;
}

/** The tags of §1.7, with the vendor's names in the comments. */
export const TAG = {
  /** TLV_TAG_SYS_CONFG: configuration container. */
  SYS_CONFIG: 0x81,
  /** TLV_TAG_SYSCLOSE_TIMEOUT: display-off timeout code 00..03. */
  DISPLAY_TIMEOUT: 0x1f,
  /** TLV_TAG_UTC_TIME: u32 Unix time; setting it sets the device clock. */
  UTC_TIME: 0x0f,
  /** TLV_TAG_TOTP_PARAM: TOTP-parameter container. */
  TOTP_PARAM: 0x86,
  /** TLV_TAG_TOTP_HMAC: 01 SHA-1, 02 SHA-256. */
  TOTP_HMAC: 0x0a,
  /** TLV_TAG_OCRA_TRUNC_LEN: digits (Molto2 only). */
  DIGITS: 0x0b,
  /** TLV_TAG_TOTP_TIME_STEP: step in seconds. */
  TIME_STEP: 0x0d,
  /** TLV_TAG_PUBLIC_DATA: container of the Molto2 public read. */
  PUBLIC_DATA: 0x95,
  /** TLV_TAG_SEED_INFO: Molto2 per-profile public block. */
  SEED_INFO: 0x70,
} as const;

/**
 * Encodes one element, choosing the shortest length form.
 * @throws RangeError (INVALID_INPUT) on a tag outside 0..255 or a value over 65535 bytes.
 * @example encodeTlv(0x1f, Uint8Array.of(1)) // 1F 01 01
 */
export function encodeTlv(tag: number, value: Uint8Array): Uint8Array {
  aint(tag, "tag", 0, 255);
  abytes(value, "value", { max: 0xffff });
  const n = value.length;
  const len = n < 0x80 ? [n] : n <= 0xff ? [0x81, n] : [0x82, n >>> 8, n & 0xff];
  const out = new Uint8Array(1 + len.length + n);
  out[0] = tag;
  out.set(len, 1);
  out.set(value, 1 + len.length);
  return out;
}

/** Concatenates encoded elements (a container's value, or a whole body). */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Decodes a sequence of elements that must fill `bytes` exactly.
 * @param side whose bytes these are, which selects MALFORMED_RESPONSE or MALFORMED_COMMAND.
 * @throws OtpbridgeError naming the element index and the field (tag, length, value) that ran short.
 */
export function decodeTlvs(bytes: Uint8Array, side: WireSide = "response"): Tlv[] {
  abytes(bytes, "bytes");
  const out: Tlv[] = [];
  let i = 0;
  while (i < bytes.length) {
    const at = `TLV element ${out.length} at offset ${i}`;
    const tag = bytes[i++]!;
    if (i >= bytes.length) throw malformed(side, `${at} (tag ${hexByte(tag)}) length`, "a length byte", "end of data");
    let n = bytes[i++]!;
    if (n === 0x81 || n === 0x82) {
      const extra = n - 0x80;
      if (i + extra > bytes.length) throw malformed(side, `${at} length`, `${extra} more length bytes`, bytes.length - i);
      n = extra === 1 ? bytes[i]! : (bytes[i]! << 8) | bytes[i + 1]!;
      i += extra;
    } else if (n >= 0x80) {
      throw malformed(side, `${at} length`, "00..7F, 81 xx or 82 xx xx", hexByte(n));
    }
    if (i + n > bytes.length) throw malformed(side, `${at} (tag ${hexByte(tag)}) value`, `${n} bytes`, bytes.length - i);
    out.push({ tag, value: bytes.slice(i, i + n) });
    i += n;
  }
  return out;
}

/**
 * Decodes `bytes` as exactly one element with the expected tag (and, if given, value length).
 * @throws OtpbridgeError if the bytes are not one element, the tag differs or the length differs.
 */
export function decodeSingleTlv(bytes: Uint8Array, tag: number, length?: number, side: WireSide = "response"): Uint8Array {
  const items = decodeTlvs(bytes, side);
  if (items.length !== 1) throw malformed(side, `TLV ${hexByte(tag)}`, "exactly one element", items.length);
  const item = items[0]!;
  if (item.tag !== tag) throw malformed(side, "TLV tag", hexByte(tag), hexByte(item.tag));
  if (length !== undefined && item.value.length !== length) {
    throw malformed(side, `TLV ${hexByte(tag)} length`, `${length} bytes`, item.value.length);
  }
  return item.value;
}
