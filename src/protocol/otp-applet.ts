/**
 * Host-side APDUs of the OTP applet of Token2 FIDO keys (docs/PROTOCOL.md §4.1-§4.8), device-info block
 * and serial parsing. Entry payloads are in otp-entries.ts, the ECDH seal in otp-seal.ts, the HID
 * framing in hid-frame.ts. Hosts send the short Lc form (§4.2).
 */
import { abytes, aint } from "../lib/checks.js";
import { encodeCommandApdu } from "./apdu.js";
import { invalidInput, malformed } from "./_errors.js";

/** OTP applet AID: `F0 00 00 01` ‖ "Otp" ‖ `01` (§4.1). */
export const OTP_AID: Uint8Array = Uint8Array.of(0xf0, 0x00, 0x00, 0x01, 0x4f, 0x74, 0x70, 0x01);
/** FIDO applet AID (§4.8, §2.10). */
export const FIDO_AID: Uint8Array = Uint8Array.of(0xa0, 0x00, 0x00, 0x06, 0x47, 0x2f, 0x00, 0x01);
/** IV of WRITE_SEED seals (IV-1, §4.4): a fixed constant; a random IV breaks decryption on the device. */
export const IV_WRITE_SEED: Uint8Array = Uint8Array.of(0x9d, 0xd8, 0x91, 0x8e, 0x34, 0xf3, 0xcc, 0xab, 0x08, 0xcb, 0x75, 0x18, 0xf7, 0x19, 0x38, 0xf1);
/** IV of WRITE_HOTP_SEED seals (IV-2, §4.4). */
export const IV_HOTP_SEED: Uint8Array = new Uint8Array(16);

/** CLA and INS of every OTP-applet command except GET SERIAL (§4.2). */
export const OTP_CLA = 0x80;
export const OTP_INS = 0xc5;
/** P1 P2 of each command (§4.3), as one 16-bit value. */
export const OTP_CMD = {
  WRITE_HOTP_SEED: 0x0000,
  GET_ECDH_PUBKEY: 0x0100,
  READ_CONFIG: 0x0200,
  SET_DEVICE_TYPE: 0x0201,
  CFG_HOTP_ENTER: 0x0202,
  CFG_HOTP_TOUCH: 0x0204,
  ENABLE_TOTP: 0x0205,
  CFG_HOTP_KBD_TYPE: 0x0206,
  ENUM_CODES: 0x0500,
  ENUM_CODES_CONTINUE: 0x0501,
  WRITE_SEED: 0x0502,
} as const;
/** ENUM_CODES sub-commands (§4.5). */
export const ENUM_READ_ONE = 0x01;
export const ENUM_READ_ALL = 0x03;
/** GET SERIAL on the FIDO applet (§4.8). */
export const INS_GET_SERIAL = 0x33;
export const TAG_SERIAL = 0xd1;

/** SET_DEVICE_TYPE disable-mask bits (§4.6). */
export const DISABLE_FIDO = 0x01;
export const DISABLE_KEYBOARD = 0x02;
export const DISABLE_CCID = 0x04;

function otp(cmd: number, data?: Uint8Array, le?: number): Uint8Array {
  const base = { cla: OTP_CLA, ins: OTP_INS, p1: cmd >>> 8, p2: cmd & 0xff };
  return encodeCommandApdu({ ...base, ...(data ? { data } : {}), ...(le !== undefined ? { le } : {}) });
}

function u64be(timestamp: number): Uint8Array {
  aint(timestamp, "timestamp", 0, Number.MAX_SAFE_INTEGER);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(timestamp));
  return out;
}

/**
 * `00 A4 04 00 Lc ‖ AID`, no Le (vector O1).
 * @throws RangeError (INVALID_INPUT) on an AID outside 5..16 bytes.
 */
export function selectApdu(aid: Uint8Array): Uint8Array {
  abytes(aid, "aid", { min: 5, max: 16 });
  return encodeCommandApdu({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x00, data: aid });
}

/** `80 C5 01 00 00`: the Le is required, or the device answers a stub (§4.2). */
export function getEcdhPubkeyApdu(): Uint8Array {
  return otp(OTP_CMD.GET_ECDH_PUBKEY, undefined, 256);
}

/**
 * `80 C5 02 00 nn` (§4.2).
 * @throws RangeError (INVALID_INPUT) unless 1 ≤ length ≤ 64.
 */
export function readConfigApdu(length = 64): Uint8Array {
  aint(length, "length", 1, 64);
  return otp(OTP_CMD.READ_CONFIG, undefined, length);
}

/**
 * SET_DEVICE_TYPE with a disable mask (§4.6). A mask disabling FIDO, keyboard and CCID together
 * bricks the key, so it is refused here rather than left to each caller.
 * @throws RangeError (INVALID_INPUT) on a mask outside 0..7 or with all three bits set.
 */
export function setDeviceTypeApdu(disableMask: number): Uint8Array {
  aint(disableMask, "disableMask", 0, 7);
  if (disableMask === 7) {
    throw invalidInput("disableMask must leave at least one interface enabled (7 bricks the key)");
  }
  return otp(OTP_CMD.SET_DEVICE_TYPE, Uint8Array.of(disableMask));
}

/** One-byte device option commands (§4.3); `cmd` is one of the CFG_* / ENABLE_TOTP values. */
export type OptionCommand = typeof OTP_CMD.CFG_HOTP_ENTER | typeof OTP_CMD.CFG_HOTP_TOUCH | typeof OTP_CMD.ENABLE_TOTP | typeof OTP_CMD.CFG_HOTP_KBD_TYPE;

/**
 * `80 C5 02 0x 01 b` for the option commands.
 * @throws RangeError (INVALID_INPUT) on a value other than 0 or 1.
 */
export function optionApdu(cmd: OptionCommand, value: 0 | 1): Uint8Array {
  aint(value, "value", 0, 1);
  return otp(cmd, Uint8Array.of(value));
}

/**
 * WRITE_SEED (`80 C5 05 02`) or WRITE_HOTP_SEED (`80 C5 00 00`) with a sealed blob (§4.4). Short Lc
 * when the blob fits (keyroost: T=0 readers reject the extended form); an entry with long names and
 * a long seed seals to more than 255 bytes and then goes in the extended form of the vendor reference.
 * @throws RangeError (INVALID_INPUT) if the blob is not 64 + 16n bytes (n ≥ 1) or exceeds 4160 bytes.
 */
export function sealedWriteApdu(kind: "entry" | "hotp", blob: Uint8Array): Uint8Array {
  abytes(blob, "blob", { min: 80, max: 4160 });
  if ((blob.length - 64) % 16 !== 0) throw invalidInput("blob must be a 64-byte key and whole AES blocks");
  const cmd = kind === "entry" ? OTP_CMD.WRITE_SEED : OTP_CMD.WRITE_HOTP_SEED;
  return encodeCommandApdu({ cla: OTP_CLA, ins: OTP_INS, p1: cmd >>> 8, p2: cmd & 0xff, data: blob }, { extended: blob.length > 255 });
}

/** ERASE ALL: the bare header `80 C5 05 02` (§4.3). */
export function eraseAllApdu(): Uint8Array {
  return otp(OTP_CMD.WRITE_SEED);
}

/**
 * READ_ALL `80 C5 05 00 09 03 ‖ u64 timestamp` (§4.5, vector O1).
 * @throws RangeError (INVALID_INPUT) on a timestamp that is not a safe non-negative integer.
 */
export function readAllApdu(timestamp: number): Uint8Array {
  const body = new Uint8Array(9);
  body[0] = ENUM_READ_ALL;
  body.set(u64be(timestamp), 1);
  return otp(OTP_CMD.ENUM_CODES, body);
}

/**
 * ENUM_CODES_CONTINUE `80 C5 05 01 08 ‖ u64 timestamp`, same timestamp as READ_ALL (§4.5).
 * @throws RangeError (INVALID_INPUT) on a timestamp that is not a safe non-negative integer.
 */
export function continueApdu(timestamp: number): Uint8Array {
  return otp(OTP_CMD.ENUM_CODES_CONTINUE, u64be(timestamp));
}

/**
 * READ_ONE `80 C5 05 00 Lc 01 ‖ u64 ‖ appLen app ‖ acctLen acct` (§4.5).
 * @throws RangeError (INVALID_INPUT) on a name that is not ASCII or too long (app 0..64, account 1..64).
 */
export function readOneApdu(timestamp: number, app: string, account: string): Uint8Array {
  const a = asciiName(app, "app", 0);
  const b = asciiName(account, "account", 1);
  const body = new Uint8Array(9 + 1 + a.length + 1 + b.length);
  body[0] = ENUM_READ_ONE;
  body.set(u64be(timestamp), 1);
  body[9] = a.length;
  body.set(a, 10);
  body[10 + a.length] = b.length;
  body.set(b, 11 + a.length);
  return otp(OTP_CMD.ENUM_CODES, body);
}

/** GET SERIAL `80 33 00 00 12 D1 10 00×16` on the FIDO applet (§4.8, vector O1). */
export function readSerialApdu(): Uint8Array {
  const body = new Uint8Array(18);
  body[0] = TAG_SERIAL;
  body[1] = 0x10;
  return encodeCommandApdu({ cla: 0x80, ins: INS_GET_SERIAL, p1: 0, p2: 0, data: body });
}

/**
 * ASCII bytes of an entry name, 0/1..64 characters (§4.5).
 * @throws RangeError (INVALID_INPUT) otherwise.
 */
export function asciiName(name: string, field: string, min: number): Uint8Array {
  if (typeof name !== "string" || !/^[\x20-\x7e]*$/.test(name) || name.length < min || name.length > 64) {
    throw invalidInput(`${field} must be ${min}..64 printable ASCII characters`);
  }
  return Uint8Array.from(name, (c) => c.charCodeAt(0));
}

/** The READ_CONFIG device-info block (§4.7). Fields beyond byte 0 are null when the device sent only byte 0. */
export interface OtpDeviceConfig {
  /** Disable mask (byte 0). */
  disabled: { fido: boolean; keyboard: boolean; ccid: boolean };
  /** Byte 1 flags, or null if absent (unknown, not false). */
  flags: {
    hotpNoEnter: boolean;
    fidoPinSet: boolean;
    hotpSupported: boolean;
    fingerprint: boolean;
    nfc: boolean;
    hotpLongPress: boolean;
    pinLocked: boolean;
    hotpSlotOccupied: boolean;
  } | null;
  /** Bytes 2..5, opaque. */
  appearance: Uint8Array | null;
  /** Bytes 6..8. */
  fidoVersion: Uint8Array | null;
  /** Byte 9 flags, or null if absent. */
  extension: { totp: boolean; fido21: boolean; hotpNumericKeypad: boolean; ccid: boolean; buttonHotpUnsupported: boolean } | null;
}

/**
 * Parses READ_CONFIG data: 1 byte (some CCID/NFC firmware) or at least 10 bytes.
 * @throws OtpbridgeError MALFORMED_RESPONSE on an empty block or one of 2..9 bytes.
 */
export function parseDeviceConfig(data: Uint8Array): OtpDeviceConfig {
  abytes(data, "data");
  if (data.length !== 1 && data.length < 10) throw malformed("response", "READ_CONFIG data", "1 byte or at least 10 bytes", data.length);
  const b0 = data[0]!;
  const disabled = { fido: (b0 & 1) !== 0, keyboard: (b0 & 2) !== 0, ccid: (b0 & 4) !== 0 };
  if (data.length === 1) return { disabled, flags: null, appearance: null, fidoVersion: null, extension: null };
  const b1 = data[1]!;
  const b9 = data[9]!;
  return {
    disabled,
    flags: {
      hotpNoEnter: (b1 & 0x01) !== 0,
      fidoPinSet: (b1 & 0x02) !== 0,
      hotpSupported: (b1 & 0x04) !== 0,
      fingerprint: (b1 & 0x08) !== 0,
      nfc: (b1 & 0x10) !== 0,
      hotpLongPress: (b1 & 0x20) !== 0,
      pinLocked: (b1 & 0x40) !== 0,
      hotpSlotOccupied: (b1 & 0x80) !== 0,
    },
    appearance: data.slice(2, 6),
    fidoVersion: data.slice(6, 9),
    extension: {
      totp: (b9 & 0x01) !== 0,
      fido21: (b9 & 0x02) !== 0,
      hotpNumericKeypad: (b9 & 0x08) !== 0,
      ccid: (b9 & 0x10) !== 0,
      buttonHotpUnsupported: (b9 & 0x20) !== 0,
    },
  };
}

/**
 * Parses the GET SERIAL answer `D1 len ‖ ASCII hex` and decodes it twice (§4.8, vector O5).
 * @throws OtpbridgeError MALFORMED_RESPONSE on a wrong tag, length, or a non-hex / odd-length text.
 */
export function parseSerialResponse(data: Uint8Array): { hex: string; bytes: Uint8Array } {
  abytes(data, "data");
  if (data.length < 2) throw malformed("response", "serial", "a D1 tag and a length", data.length);
  if (data[0] !== TAG_SERIAL) throw malformed("response", "serial tag", "D1", data[0]!.toString(16));
  const n = data[1]!;
  if (data.length !== 2 + n) throw malformed("response", "serial length", `${n + 2} bytes`, data.length);
  const text = String.fromCharCode(...data.subarray(2));
  if (n === 0 || n % 2 !== 0 || !/^[0-9A-Fa-f]+$/.test(text)) throw malformed("response", "serial text", "an even number of hex digits");
  const bytes = Uint8Array.from({ length: n / 2 }, (_, i) => parseInt(text.slice(2 * i, 2 * i + 2), 16));
  return { hex: text.toUpperCase(), bytes };
}
