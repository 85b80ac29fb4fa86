/**
 * SM4 block cipher (GB/T 32907-2016, docs/PROTOCOL.md §1.2) in ECB mode, without padding, through the WASM
 * core. The S-box runs as a constant-time SIMD lookup (assembly/cipher/sbox.ts); the key schedule
 * and every scratch byte are zeroed after each call.
 */
import { abytes } from "../lib/checks.js";
import { cipherCore } from "./cipher-exports.js";

/**
 * Encrypts whole blocks with SM4-ECB: `E_K(x)` of docs/PROTOCOL.md §0.2.
 * @param key 16-byte key.
 * @param data Plaintext, a multiple of 16 bytes (0 allowed); not modified.
 * @returns A new array with the ciphertext.
 * @throws TypeError (reason INVALID_INPUT) if an argument is not a Uint8Array.
 * @throws RangeError (reason INVALID_INPUT) if the key is not 16 bytes or data is not whole blocks.
 * @example sm4EncryptEcb(key, padIso9797M2(seed))
 */
export function sm4EncryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  return sm4Ecb(key, data, 0);
}

/**
 * Decrypts whole blocks with SM4-ECB: `D_K(x)` of docs/PROTOCOL.md §0.2 (emulators, tests).
 * @param key 16-byte key.
 * @param data Ciphertext, a multiple of 16 bytes (0 allowed); not modified.
 * @returns A new array with the plaintext; the caller zeroes it when it holds a secret.
 * @throws TypeError (reason INVALID_INPUT) if an argument is not a Uint8Array.
 * @throws RangeError (reason INVALID_INPUT) if the key is not 16 bytes or data is not whole blocks.
 * @example unpadIso9797M2(sm4DecryptEcb(key, body))
 */
export function sm4DecryptEcb(key: Uint8Array, data: Uint8Array): Uint8Array {
  return sm4Ecb(key, data, 1);
}

function sm4Ecb(key: unknown, data: unknown, decrypt: 0 | 1): Uint8Array {
  abytes(key, "key", { length: 16 });
  abytes(data, "data", { multipleOf: 16 });
  if (data.length === 0) return new Uint8Array(0);
  const core = cipherCore();
  const { exports } = core;
  return core.scoped([16, data.length, exports.sm4ScratchSize()], (keyPtr, dataPtr, scratch) => {
    core.write(keyPtr!, key);
    core.write(dataPtr!, data);
    exports.sm4Ecb(keyPtr!, dataPtr!, data.length, decrypt, scratch!);
    return core.read(dataPtr!, data.length);
  });
}
