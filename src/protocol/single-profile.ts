/**
 * Host codec of Family A, the single-profile "-i" NFC tokens (docs/PROTOCOL.md §2): GET INFO, GET CHALLENGE,
 * AUTH FINISH, WRITE CONFIG and WRITE SEED, under one fixed public device key. No SELECT exists (§2.2).
 */
import { abytes, aint, aoneOf } from "../lib/checks.js";
import { encodeCommandApdu } from "./apdu.js";
import { modelOfSerial, type SingleProfileModel } from "./models.js";
import { concatBytes, encodeTlv, TAG } from "./tlv.js";
import { parseTokenInfo, type TokenInfo } from "./token-info.js";
import { CLA_PLAIN, INS_GET_CHALLENGE, INS_GET_INFO, INS_WRITE_CONFIG, INS_WRITE_SEED, secureApdu } from "./token2-auth.js";

/** The device key K, identical on every device and public (§2.3). It is not a Molto2 key. */
export const SINGLE_PROFILE_KEY: Uint8Array = Uint8Array.of(0x8a, 0xd2, 0x06, 0x88, 0x3c, 0xa3, 0x69, 0x48, 0x2a, 0xb2, 0x71, 0x82, 0xb6, 0xe8, 0x32, 0x24);

/** Display-off timeout codes on the wire (§1.7): 15, 30, 60, 120 s. */
export const DISPLAY_TIMEOUT_CODES = { 15: 0, 30: 1, 60: 2, 120: 3 } as const;
export type DisplayTimeoutCode = 0 | 1 | 2 | 3;
export type TokenAlgorithm = "SHA1" | "SHA256";

/** What a WRITE CONFIG sets; everything at once, nothing can be read back (§2.6, §2.11). */
export interface SingleProfileConfig {
  /** Display timeout wire code 0..3 (the vendor CLI's 1..4 minus one). */
  display: DisplayTimeoutCode;
  /** Unix seconds to load into the clock (u32). */
  time: number;
  algorithm: TokenAlgorithm;
  /** Step in seconds: only 30 or 60 may be sent (§1.7). */
  period: 30 | 60;
}

/** The HMAC algorithm byte (tag 0A). */
export const ALGORITHM_BYTE: Record<TokenAlgorithm, number> = { SHA1: 0x01, SHA256: 0x02 };

/** GET INFO exactly as official hosts send it: `80 41 00 00 02 02 11` (§2.4). */
export function getInfoApdu(): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_GET_INFO, p1: 0, p2: 0, data: Uint8Array.of(0x02, 0x11) });
}

/**
 * GET INFO data with the model it identifies (null: unknown serial, do not authenticate; §2.1).
 * @throws OtpbridgeError MALFORMED_RESPONSE (see parseTokenInfo).
 */
export function parseSingleProfileInfo(data: Uint8Array): TokenInfo & { model: SingleProfileModel | null } {
  const info = parseTokenInfo(data);
  return { ...info, model: modelOfSerial(info.serial) };
}

/** GET CHALLENGE in the burner/keyroost form `80 4B 08 00 01 00` (§2.5). */
export function getChallengeApdu(): Uint8Array {
  return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_GET_CHALLENGE, p1: 0x08, p2: 0, data: Uint8Array.of(0) });
}

/**
 * The 19-byte config TLV `81 11 | 1F 01 dd | 0F 04 t | 86 06 | 0A 01 aa | 0D 01 ss` (§2.6, vector S2).
 * @throws TypeError/RangeError (INVALID_INPUT) on a field out of range.
 */
export function encodeSingleProfileConfig(config: SingleProfileConfig): Uint8Array {
  aint(config.display, "display", 0, 3);
  aint(config.time, "time", 0, 0xffffffff);
  aoneOf(config.algorithm, "algorithm", ["SHA1", "SHA256"] as const);
  aoneOf(config.period, "period", [30, 60] as const);
  const time = new Uint8Array(4);
  new DataView(time.buffer).setUint32(0, config.time);
  return encodeTlv(
    TAG.SYS_CONFIG,
    concatBytes(
      encodeTlv(TAG.DISPLAY_TIMEOUT, Uint8Array.of(config.display)),
      encodeTlv(TAG.UTC_TIME, time),
      encodeTlv(
        TAG.TOTP_PARAM,
        concatBytes(encodeTlv(TAG.TOTP_HMAC, Uint8Array.of(ALGORITHM_BYTE[config.algorithm])), encodeTlv(TAG.TIME_STEP, Uint8Array.of(config.period))),
      ),
    ),
  );
}

/**
 * WRITE CONFIG `84 D4 00 00 17 ‖ TLV ‖ MAC` (§2.6, vectors S2, S6). On restricted models the
 * device also erases its seed, so write the config before the seed (§2.10).
 * @throws TypeError/RangeError (INVALID_INPUT) on a field out of range.
 */
export function writeConfigApdu(config: SingleProfileConfig): Uint8Array {
  return secureApdu(SINGLE_PROFILE_KEY, INS_WRITE_CONFIG, 0, 0, encodeSingleProfileConfig(config), false);
}

/**
 * WRITE SEED `84 C5 01 00 Lc ‖ E_K(P(seed)) ‖ MAC` with the always-pad rule (§2.7, vectors S3-S5).
 * By default a seed shorter than 20 bytes is zero-extended to 20 first, as the vendor's Python
 * tool does (keyroost); this never changes the codes (HMAC zero-pads keys, vector R1 zero_ext_same),
 * only the frame. `zeroExtend: false` sends the seed as-is, as the Android burner does.
 * @throws RangeError (INVALID_INPUT) unless 1 ≤ seed length ≤ 63.
 */
export function writeSeedApdu(seed: Uint8Array, options: { zeroExtend?: boolean } = {}): Uint8Array {
  abytes(seed, "seed", { min: 1, max: 63 });
  if (options.zeroExtend === false || seed.length >= 20) {
    return secureApdu(SINGLE_PROFILE_KEY, INS_WRITE_SEED, 0x01, 0, seed, true);
  }
  const extended = new Uint8Array(20);
  extended.set(seed);
  try {
    return secureApdu(SINGLE_PROFILE_KEY, INS_WRITE_SEED, 0x01, 0, extended, true);
  } finally {
    extended.fill(0);
  }
}
