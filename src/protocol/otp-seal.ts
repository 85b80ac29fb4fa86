/**
 * The OTP applet's seed seal (docs/PROTOCOL.md §4.4): ECDH on P-256 with a fresh ephemeral host key,
 * key = SHA-256(shared X), AES-256-CBC with a FIXED IV (IV-1 for entries, IV-2 for the HOTP slot),
 * PKCS#7. Blob = ephemeral public X ‖ Y (64 bytes, no 04) ‖ ciphertext. P-256 comes from node:crypto;
 * SHA-256 and AES from the crypto facade.
 */
import { createECDH } from "node:crypto";
import { abytes } from "../lib/checks.js";
import { reasonOf } from "../lib/errors.js";
import { aes256CbcDecrypt, aes256CbcEncrypt, sha256 } from "../crypto/index.js";
import { invalidInput, malformed, type WireSide } from "./_errors.js";

/** A P-256 key pair in the applet's wire form: 32-byte private scalar, 64-byte public X ‖ Y. */
export interface P256KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

const CURVE = "prime256v1";

/**
 * A P-256 key pair, fresh or from a given private scalar (deterministic tests, vector E1).
 * @throws RangeError (INVALID_INPUT) on a scalar that is not 32 bytes or not in [1, n-1].
 */
export function p256KeyPair(privateKey?: Uint8Array): P256KeyPair {
  const ecdh = createECDH(CURVE);
  if (privateKey === undefined) {
    ecdh.generateKeys();
  } else {
    abytes(privateKey, "privateKey", { length: 32 });
    try {
      ecdh.setPrivateKey(privateKey);
    } catch {
      throw invalidInput("privateKey must be a P-256 scalar in [1, n-1]");
    }
  }
  const pub = ecdh.getPublicKey();
  const priv = ecdh.getPrivateKey();
  const out = { privateKey: new Uint8Array(32), publicKey: new Uint8Array(pub.subarray(1)) };
  out.privateKey.set(priv, 32 - priv.length);
  priv.fill(0);
  return out;
}

/** SHA-256 of the ECDH X coordinate between `privateKey` and the peer's 64-byte public key. */
function sealKey(privateKey: Uint8Array, peerPublic: Uint8Array, side: WireSide): Uint8Array {
  const ecdh = createECDH(CURVE);
  ecdh.setPrivateKey(privateKey);
  const point = new Uint8Array(65);
  point[0] = 0x04;
  point.set(peerPublic, 1);
  let shared: Buffer;
  try {
    shared = ecdh.computeSecret(point);
  } catch {
    throw malformed(side, side === "response" ? "device public key" : "ephemeral public key", "a point on P-256");
  }
  try {
    return sha256(shared);
  } finally {
    shared.fill(0);
  }
}

/**
 * Host side: seals `cleartext` for the device key `devicePublic` (64 bytes from GET_ECDH_PUBKEY) with a
 * fresh ephemeral key, or with `ephemeralPrivate` when a test needs determinism (vector E1).
 * @throws RangeError (INVALID_INPUT) on wrong lengths; OtpbridgeError MALFORMED_RESPONSE if the
 *   device key is not a P-256 point.
 * @example sealedWriteApdu("entry", seal(devicePub, encodeEntryWrite(entry), IV_WRITE_SEED))
 */
export function seal(devicePublic: Uint8Array, cleartext: Uint8Array, iv: Uint8Array, ephemeralPrivate?: Uint8Array): Uint8Array {
  abytes(devicePublic, "devicePublic", { length: 64 });
  abytes(cleartext, "cleartext", { max: 4096 });
  abytes(iv, "iv", { length: 16 });
  const ephemeral = p256KeyPair(ephemeralPrivate);
  const key = sealKey(ephemeral.privateKey, devicePublic, "response");
  ephemeral.privateKey.fill(0);
  try {
    const ct = aes256CbcEncrypt(key, iv, cleartext);
    const blob = new Uint8Array(64 + ct.length);
    blob.set(ephemeral.publicKey, 0);
    blob.set(ct, 64);
    return blob;
  } finally {
    key.fill(0);
  }
}

/**
 * Device side: opens a blob with the device's private key.
 * @throws OtpbridgeError MALFORMED_COMMAND on a short or unaligned blob, a point off the curve, or bad padding.
 */
export function unseal(devicePrivate: Uint8Array, blob: Uint8Array, iv: Uint8Array): Uint8Array {
  abytes(devicePrivate, "devicePrivate", { length: 32 });
  abytes(blob, "blob");
  abytes(iv, "iv", { length: 16 });
  if (blob.length < 80 || (blob.length - 64) % 16 !== 0) {
    throw malformed("command", "sealed blob", "64 key bytes and whole AES blocks", blob.length);
  }
  const key = sealKey(devicePrivate, blob.subarray(0, 64), "command");
  try {
    return aes256CbcDecrypt(key, iv, blob.subarray(64));
  } catch (error) {
    // DECRYPTION_FAILED is the facade's one answer to bad padding; anything else is a bug, not input.
    if (reasonOf(error) !== "DECRYPTION_FAILED") throw error;
    throw malformed("command", "sealed blob", "a ciphertext with valid PKCS#7 padding under the shared key");
  } finally {
    key.fill(0);
  }
}
