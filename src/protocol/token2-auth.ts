/**
 * Pieces families A and B share (docs/PROTOCOL.md §1.4-§1.6): the challenge-response handshake and the
 * CLA 84 secure command (body encrypted with the always-pad rule, Token2 MAC over `80 INS P1 P2 L' body`).
 * There is no session key: the same K encrypts, MACs and answers the challenge (§1.5).
 */
import { abytes, aint } from "../lib/checks.js";
import { authResponse, buildSecureApdu } from "../crypto/index.js";
import { encodeCommandApdu } from "./apdu.js";
import { malformed } from "./_errors.js";

/** Plain class (and the class byte inside every MAC input, §1.4). */
export const CLA_PLAIN = 0x80;
/** Secure (MACed) class (§1.5). */
export const CLA_SECURE = 0x84;

export const INS_GET_INFO = 0x41;
export const INS_GET_CHALLENGE = 0x4b;
export const INS_AUTH_FINISH = 0xce;
export const INS_WRITE_SEED = 0xc5;
export const INS_WRITE_CONFIG = 0xd4;

/** Challenge length (§1.6). */
export const CHALLENGE_LENGTH = 8;
/** MAC length appended to a secure command (§1.4). */
export const MAC_LENGTH = 4;

/**
 * Reads the GET CHALLENGE data: exactly 8 bytes.
 * @throws OtpbridgeError MALFORMED_RESPONSE otherwise.
 */
export function parseChallenge(data: Uint8Array): Uint8Array {
  abytes(data, "data");
  if (data.length !== CHALLENGE_LENGTH) throw malformed("response", "challenge", "8 bytes", data.length);
  return data.slice();
}

/**
 * AUTH FINISH `80 CE 00 00 10 ‖ E_K(challenge ‖ 00×8)` (§1.6, vectors S1, M3).
 * @throws RangeError (INVALID_INPUT) on a key other than 16 bytes or a challenge other than 8.
 * @example authFinishApdu(SINGLE_PROFILE_KEY, hex("1122334455667788")) // S1.apdu
 */
export function authFinishApdu(key: Uint8Array, challenge: Uint8Array): Uint8Array {
  abytes(key, "key", { length: 16 });
  abytes(challenge, "challenge", { length: CHALLENGE_LENGTH });
  const answer = authResponse(key, challenge);
  try {
    return encodeCommandApdu({ cla: CLA_PLAIN, ins: INS_AUTH_FINISH, p1: 0, p2: 0, data: answer });
  } finally {
    answer.fill(0);
  }
}

/**
 * A CLA 84 command: `84 INS P1 P2 Lc body' ‖ MAC`, where body' is `E_K(P(body))` if `encrypt`
 * (always-pad, §1.3) or the plaintext body (config TLVs). Lc = len(body') + 4 must fit a short APDU.
 * @throws RangeError (INVALID_INPUT) on header bytes outside 0..255 or a body that would not fit.
 */
export function secureApdu(key: Uint8Array, ins: number, p1: number, p2: number, body: Uint8Array, encrypt: boolean): Uint8Array {
  abytes(key, "key", { length: 16 });
  aint(ins, "ins", 0, 255);
  aint(p1, "p1", 0, 255);
  aint(p2, "p2", 0, 255);
  abytes(body, "body", { max: encrypt ? 235 : 251 });
  return buildSecureApdu(key, ins, p1, p2, body, { encrypt });
}
