/**
 * AES-256-CBC with PKCS#7 padding through the WASM core: the seal of the FIDO-key OTP applet
 * (docs/PROTOCOL.md §4.4). Constant-time S-box (SIMD swizzle, assembly/cipher/aes.ts); round keys, the
 * key and the plaintext are zeroed in WASM memory after every call.
 */
import { abytes } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import { cipherCore } from "./cipher-exports.js";

/** Largest input accepted: far above any seal (a few hundred bytes), bounds the memory sized up front. */
const MAX_LENGTH = 1 << 24;

/**
 * Encrypts with AES-256-CBC after PKCS#7 padding (always at least one pad byte).
 * @param key 32-byte key (for a seal: SHA-256 of the ECDH x coordinate, §4.4 step 4).
 * @param iv 16-byte IV (for a seal: the fixed IV-1 or IV-2 of §4.4 step 5).
 * @param plaintext 0..16 MiB; not modified.
 * @returns The ciphertext, `16 * (floor(len / 16) + 1)` bytes.
 * @throws TypeError (reason INVALID_INPUT) if an argument is not a Uint8Array.
 * @throws RangeError (reason INVALID_INPUT) on a wrong key or IV length, or too long a plaintext.
 * @example aes256CbcEncrypt(sha256(sharedX), new Uint8Array(16), cleartext) // vector E1.ct
 */
export function aes256CbcEncrypt(key: Uint8Array, iv: Uint8Array, plaintext: Uint8Array): Uint8Array {
  abytes(key, "key", { length: 32 });
  abytes(iv, "iv", { length: 16 });
  abytes(plaintext, "plaintext", { max: MAX_LENGTH });
  const core = cipherCore();
  const { exports } = core;
  const total = (Math.floor(plaintext.length / 16) + 1) * 16;
  return core.scoped([32, 16, total, exports.aesScratchSize()], (keyPtr, ivPtr, dataPtr, scratch) => {
    core.write(keyPtr!, key);
    core.write(ivPtr!, iv);
    core.write(dataPtr!, plaintext);
    const length = exports.aes256CbcEncrypt(keyPtr!, ivPtr!, dataPtr!, plaintext.length, scratch!);
    return core.read(dataPtr!, length);
  });
}

/**
 * Decrypts AES-256-CBC and removes the PKCS#7 padding (emulators opening a seal, tests).
 * @param key 32-byte key.
 * @param iv 16-byte IV.
 * @param ciphertext A non-zero multiple of 16 bytes, at most 16 MiB; not modified.
 * @returns The plaintext; the caller zeroes it when it holds a secret.
 * @throws TypeError (reason INVALID_INPUT) if an argument is not a Uint8Array.
 * @throws RangeError (reason INVALID_INPUT) on a wrong key or IV length, or a ciphertext that is not whole blocks.
 * @throws OtpbridgeError (reason DECRYPTION_FAILED) if the padding is invalid: wrong key, wrong IV
 *   or corrupted data. The error says nothing more, so that it cannot serve as a padding oracle.
 * @example aes256CbcDecrypt(aesKey, IV_1, sealed.subarray(64))
 */
export function aes256CbcDecrypt(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array {
  abytes(key, "key", { length: 32 });
  abytes(iv, "iv", { length: 16 });
  abytes(ciphertext, "ciphertext", { min: 16, max: MAX_LENGTH, multipleOf: 16 });
  const core = cipherCore();
  const { exports } = core;
  const plaintext = core.scoped([32, 16, ciphertext.length, exports.aesScratchSize()], (keyPtr, ivPtr, dataPtr, scratch) => {
    core.write(keyPtr!, key);
    core.write(ivPtr!, iv);
    core.write(dataPtr!, ciphertext);
    const length = exports.aes256CbcDecrypt(keyPtr!, ivPtr!, dataPtr!, ciphertext.length, scratch!);
    return length < 0 ? null : core.read(dataPtr!, length);
  });
  if (plaintext === null) throw otpbError("DECRYPTION_FAILED", "AES-256-CBC decryption failed");
  return plaintext;
}
