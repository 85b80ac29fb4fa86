/**
 * SHA-1, SHA-256 and SHA-512 (FIPS 180-4) on the WASM core. Every call copies its input into WASM
 * memory, returns a fresh copy of the digest, and zeroes the WASM buffers on the way out.
 */
import { abytes, aoneOf } from "../lib/checks.js";
import { type AlgorithmSpec, type HashAlgorithm, HASH_ALGORITHMS, SPECS, callCore, hashCore } from "./_hash-core.js";

export { type HashAlgorithm, HASH_ALGORITHMS } from "./_hash-core.js";

/** Largest input accepted, so every length and offset stays far inside wasm32 memory. */
export const MAX_HASH_INPUT = 1 << 30;

/** Digest length in bytes: 20, 32 or 64. @throws RangeError for an unknown algorithm. */
export function digestLength(algorithm: HashAlgorithm): number {
  aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
  return SPECS[algorithm].digestBytes;
}

/**
 * Hashes `data` with the given algorithm.
 * @returns a new array of {@link digestLength} bytes.
 * @throws RangeError if the algorithm is unknown or `data` is over {@link MAX_HASH_INPUT} bytes.
 * @throws TypeError if `data` is not a Uint8Array.
 * @example hash("SHA256", new TextEncoder().encode("abc"))
 */
export function hash(algorithm: HashAlgorithm, data: Uint8Array): Uint8Array {
  aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
  abytes(data, "data", { max: MAX_HASH_INPUT });
  return digestUnchecked(SPECS[algorithm], data);
}

/** SHA-1 of `data` (20 bytes). @throws TypeError / RangeError as {@link hash}. @example sha1(bytes) */
export function sha1(data: Uint8Array): Uint8Array {
  return hash("SHA1", data);
}

/** SHA-256 of `data` (32 bytes). @throws TypeError / RangeError as {@link hash}. @example sha256(bytes) */
export function sha256(data: Uint8Array): Uint8Array {
  return hash("SHA256", data);
}

/** SHA-512 of `data` (64 bytes). @throws TypeError / RangeError as {@link hash}. @example sha512(bytes) */
export function sha512(data: Uint8Array): Uint8Array {
  return hash("SHA512", data);
}

/** Internal: hashes already-validated input. The input may be a key, so its WASM copy is zeroed on release. */
export function digestUnchecked(spec: AlgorithmSpec, data: Uint8Array): Uint8Array {
  const core = hashCore();
  return core.scoped([data.length, spec.digestBytes], (input, out) => {
    core.write(input!, data);
    callCore(core, (e) => e[spec.hash](input!, data.length, out!));
    return core.read(out!, spec.digestBytes);
  });
}
