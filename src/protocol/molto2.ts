/**
 * Host codec of Family B, the Molto2 / Molto2v2 (docs/PROTOCOL.md §3): key derivation from the customer
 * key, info, public per-profile read, authentication with the tries counter, seed, title, config,
 * time sync, delete, customer-key change, factory reset, screen lock. The profile number is P2.
 */
import { abytes, aint, aoneOf } from "../lib/checks.js";
import { sha1, sm4DecryptEcb, sm4EncryptEcb } from "../crypto/index.js";
import { encodeCommandApdu } from "./apdu.js";
import { invalidInput, malformed, hexByte } from "./_errors.js";
import { ALGORITHM_BYTE, type DisplayTimeoutCode, type TokenAlgorithm } from "./single-profile.js";
import { concatBytes, encodeTlv, TAG } from "./tlv.js";
import { CLA_PLAIN, INS_GET_CHALLENGE, INS_GET_INFO, INS_WRITE_CONFIG, INS_WRITE_SEED, secureApdu } from "./token2-auth.js";

/** Factory customer key, the ASCII string "TOKEN2MOLTO1-KEY" (§3.2). */
export const MOLTO2_DEFAULT_CUSTOMER_KEY: Uint8Array = new TextEncoder().encode("TOKEN2MOLTO1-KEY");
/** Highest profile number any Molto2 host accepts (Molto2v2: 0..99; the 50-profile model stops at 49). */
export const MOLTO2_MAX_PROFILE = 99;
export const INS_WRITE_TITLE = 0xd5;
export const INS_DELETE_SEED = 0xe6;
export const INS_CHANGE_KEY = 0xd7;
export const INS_FACTORY_RESET = 0x56;
export const INS_SCREEN_LOCK = 0xd8;
/** Fixed key of the legacy "USB Config Tool 0.4" INI file (§3.2, vector M11). */
const K_INI = Uint8Array.of(0x61, 0x29, 0x22, 0xf3, 0x79, 0xd3, 0xe1, 0x4b, 0x29, 0x08, 0xbc, 0x6f, 0xe5, 0x98, 0x1f, 0x87);

/**
 * `K = SHA-1(customerKey)[0:16]` (§3.2, vector M1). Any non-empty key works: the device keeps only the digest.
 * @throws RangeError (INVALID_INPUT) on an empty key.
 */
export function molto2Key(customerKey: Uint8Array): Uint8Array {
  abytes(customerKey, "customerKey", { min: 1 });
  const digest = sha1(customerKey);
  try {
    return digest.slice(0, 16);
  } finally {
    digest.fill(0);
  }
}

function profileByte(profile: number): number {
  aint(profile, "profile", 0, MOLTO2_MAX_PROFILE);
  return profile;
}

/** Info `80 41 00 00 00` (§3.4); parse the data with parseTokenInfo. */
export function molto2InfoApdu(): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_GET_INFO, p1: 0, p2: 0, le: 256 });
}

/**
 * Public read `80 41 00 pp 01 70`, case 3 with NO Le: an Le gives 6FFB (§3.5, vector M10).
 * @throws RangeError (INVALID_INPUT) on a profile outside 0..99.
 */
export function publicReadApdu(profile: number): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_GET_INFO, p1: 0, p2: profileByte(profile), data: Uint8Array.of(TAG.SEED_INFO) });
}

/** A profile's public block (§3.5); readable by anyone with the token (§3.17). */
export interface Molto2PublicProfile {
  /** Flag byte (20 observed on written slots; meaning unknown). */
  flag: number;
  /** Title bytes without the zero fill. */
  titleBytes: Uint8Array;
  /** Title decoded as UTF-8 (invalid sequences become U+FFFD). */
  title: string;
  /** "RTC time" field (meaning unconfirmed). */
  timeA: number;
  /** "Time config" field (meaning unconfirmed). */
  timeB: number;
  /** 01/02 as SHA1/SHA256; null for any other byte (untouched slots read 00). */
  algorithm: TokenAlgorithm | null;
  /** Step byte in seconds (0 on untouched slots). */
  period: number;
  /** Digits byte (0 on untouched slots). */
  digits: number;
  /** Byte 28: the only reliable occupancy signal. */
  seedPresent: boolean;
}

/**
 * Strict parse of the public read data: `95 1F 70 1D` then exactly 29 bytes (§3.5, vector M9).
 * @throws OtpbridgeError MALFORMED_RESPONSE naming the tag, length or seed-present byte.
 */
export function parsePublicRead(data: Uint8Array): Molto2PublicProfile {
  abytes(data, "data");
  if (data.length !== 33) throw malformed("response", "public read", "33 bytes", data.length);
  const expectByte = (i: number, value: number, field: string): void => {
    if (data[i] !== value) throw malformed("response", field, hexByte(value), hexByte(data[i]!));
  };
  expectByte(0, TAG.PUBLIC_DATA, "public read outer tag");
  expectByte(1, 0x1f, "public read outer length");
  expectByte(2, TAG.SEED_INFO, "public read inner tag");
  expectByte(3, 0x1d, "public read inner length");
  const v = data.subarray(4);
  const present = v[28]!;
  if (present > 1) throw malformed("response", "seed-present byte", "00 or 01", hexByte(present));
  let end = 17;
  while (end > 1 && v[end - 1] === 0) end--;
  const titleBytes = v.slice(1, end);
  const view = new DataView(v.buffer, v.byteOffset, v.length);
  const alg = v[25]!;
  return {
    flag: v[0]!,
    titleBytes,
    title: new TextDecoder().decode(titleBytes),
    timeA: view.getUint32(17),
    timeB: view.getUint32(21),
    algorithm: alg === 1 ? "SHA1" : alg === 2 ? "SHA256" : null,
    period: v[26]!,
    digits: v[27]!,
    seedPresent: present === 1,
  };
}

/** GET CHALLENGE in the Molto2 form `80 4B 08 00 00` (§3.3, vector M10). */
export function molto2ChallengeApdu(): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_GET_CHALLENGE, p1: 0x08, p2: 0, le: 256 });
}

/**
 * The meaning of an AUTH FINISH status word (§3.6). Drivers MUST stop after one failure and report
 * the tries left, never retry on their own.
 * @throws RangeError (INVALID_INPUT) if sw is not a 16-bit value.
 */
export function molto2AuthResult(sw: number): { ok: true } | { ok: false; triesLeft: number | null } {
  aint(sw, "sw", 0, 0xffff);
  if (sw >>> 8 === 0x90) return { ok: true };
  return { ok: false, triesLeft: sw >>> 8 === 0x63 ? sw & 0xff : null };
}

/**
 * Write seed `84 C5 01 pp Lc ‖ E_K(P(seed)) ‖ MAC`, always padded (§3.7). Check the slot's
 * seed-present flag first: the official tools refuse to overwrite.
 * @throws RangeError (INVALID_INPUT) on a key other than 16 bytes, a seed outside 1..63 bytes or a bad profile.
 */
export function molto2WriteSeedApdu(key: Uint8Array, profile: number, seed: Uint8Array): Uint8Array {
  abytes(seed, "seed", { min: 1, max: 63 });
  return secureApdu(key, INS_WRITE_SEED, 0x01, profileByte(profile), seed, true);
}

/**
 * Write title `84 D5 00 pp 14 ‖ E_K(P(title)) ‖ MAC` (§3.8, vector M4); 1..12 UTF-8 bytes.
 * @throws RangeError (INVALID_INPUT) on a title outside 1..12 UTF-8 bytes.
 */
export function molto2WriteTitleApdu(key: Uint8Array, profile: number, title: string): Uint8Array {
  if (typeof title !== "string") throw invalidInput("title must be a string");
  const bytes = new TextEncoder().encode(title);
  if (bytes.length < 1 || bytes.length > 12) throw invalidInput(`title must be 1..12 UTF-8 bytes, got ${bytes.length}`);
  return secureApdu(key, INS_WRITE_TITLE, 0x00, profileByte(profile), bytes, true);
}

/** A profile's TOTP configuration (§3.9). */
export interface Molto2Config {
  display: DisplayTimeoutCode;
  /** Unix seconds, u32. */
  time: number;
  algorithm: TokenAlgorithm;
  digits: 4 | 6 | 8 | 10;
  period: 30 | 60;
}

function u32(time: number): Uint8Array {
  aint(time, "time", 0, 0xffffffff);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, time);
  return out;
}

/**
 * The 22-byte config TLV (§3.9, vector M8).
 * @throws TypeError/RangeError (INVALID_INPUT) on a field out of range.
 */
export function encodeMolto2Config(config: Molto2Config): Uint8Array {
  aint(config.display, "display", 0, 3);
  aoneOf(config.algorithm, "algorithm", ["SHA1", "SHA256"] as const);
  aoneOf(config.digits, "digits", [4, 6, 8, 10] as const);
  aoneOf(config.period, "period", [30, 60] as const);
  const params = concatBytes(
    encodeTlv(TAG.TOTP_HMAC, Uint8Array.of(ALGORITHM_BYTE[config.algorithm])),
    encodeTlv(TAG.DIGITS, Uint8Array.of(config.digits)),
    encodeTlv(TAG.TIME_STEP, Uint8Array.of(config.period)),
  );
  return encodeTlv(
    TAG.SYS_CONFIG,
    concatBytes(encodeTlv(TAG.DISPLAY_TIMEOUT, Uint8Array.of(config.display)), encodeTlv(TAG.UTC_TIME, u32(config.time)), encodeTlv(TAG.TOTP_PARAM, params)),
  );
}

/**
 * Write config `84 D4 01 pp 1A ‖ TLV ‖ MAC` (§3.9); does not erase the seed.
 * @throws TypeError/RangeError (INVALID_INPUT) on a field out of range.
 */
export function molto2WriteConfigApdu(key: Uint8Array, profile: number, config: Molto2Config): Uint8Array {
  return secureApdu(key, INS_WRITE_CONFIG, 0x01, profileByte(profile), encodeMolto2Config(config), false);
}

/**
 * Time sync only `84 D4 01 pp 0C ‖ 81 06 0F 04 t ‖ MAC` (§3.9, vector M5).
 * @throws RangeError (INVALID_INPUT) on a time outside u32 or a bad profile.
 */
export function molto2SyncTimeApdu(key: Uint8Array, profile: number, time: number): Uint8Array {
  const tlv = encodeTlv(TAG.SYS_CONFIG, encodeTlv(TAG.UTC_TIME, u32(time)));
  return secureApdu(key, INS_WRITE_CONFIG, 0x01, profileByte(profile), tlv, false);
}

/**
 * Delete seed `80 E6 00 pp 00`, no MAC; 6A83 if the slot was empty (§3.10). The title stays.
 * @throws RangeError (INVALID_INPUT) on a profile outside 0..99.
 */
export function molto2DeleteSeedApdu(profile: number): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_DELETE_SEED, p1: 0, p2: profileByte(profile), le: 256 });
}

/**
 * Change customer key `84 D7 00 00 24 ‖ E_K(00 ‖ K_new ‖ 80 ‖ 00×14) ‖ MAC`, under the CURRENT K
 * (§3.11). The device answers 9060 and applies the key only after a ▲ press.
 * @throws RangeError (INVALID_INPUT) on a current key other than 16 bytes or an empty new customer key.
 */
export function molto2ChangeKeyApdu(currentKey: Uint8Array, newCustomerKey: Uint8Array): Uint8Array {
  const next = molto2Key(newCustomerKey);
  const body = new Uint8Array(17);
  body.set(next, 1);
  try {
    // P(00 ‖ K_new) is exactly the 32-byte plaintext of §3.11.
    return secureApdu(currentKey, INS_CHANGE_KEY, 0, 0, body, true);
  } finally {
    body.fill(0);
    next.fill(0);
  }
}

/** Factory reset `80 56 00 00 00`, no key; 9060 then ▲ (§3.12). */
export function molto2FactoryResetApdu(): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_FACTORY_RESET, p1: 0, p2: 0, le: 256 });
}

/** Screen lock `80 D8 0C 02 00` / unlock `80 D8 0C 02 01 01` (firmware ≥ 2.1, §3.13). */
export function molto2ScreenLockApdu(locked: boolean): Uint8Array {
  return locked
    ? encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_SCREEN_LOCK, p1: 0x0c, p2: 0x02, le: 256 })
    : encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_SCREEN_LOCK, p1: 0x0c, p2: 0x02, data: Uint8Array.of(0x01) });
}

/**
 * Recovers a customer key from the legacy `Molto2Cfg.ini` value `E_{K_ini}(key)` (§3.2, vector M11).
 * @throws RangeError (INVALID_INPUT) unless the value is 16 bytes.
 */
export function decodeLegacyIniKey(iniValue: Uint8Array): Uint8Array {
  abytes(iniValue, "iniValue", { length: 16 });
  return sm4DecryptEcb(K_INI, iniValue);
}

/**
 * The legacy INI form of a 16-byte customer key.
 * @throws RangeError (INVALID_INPUT) unless the key is 16 bytes.
 */
export function encodeLegacyIniKey(customerKey: Uint8Array): Uint8Array {
  abytes(customerKey, "customerKey", { length: 16 });
  return sm4EncryptEcb(K_INI, customerKey);
}
