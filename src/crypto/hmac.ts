/**
 * HMAC (RFC 2104) over SHA-1, SHA-256 and SHA-512 on the WASM core, for keys of any length: a key longer
 * than the hash block (64 bytes; 128 for SHA-512) is hashed first, as RFC 2104 §2 requires.
 */
import { abytes, aoneOf } from "../lib/checks.js";
import { type AlgorithmSpec, type HashAlgorithm, HASH_ALGORITHMS, SPECS, callCore, hashCore } from "./_hash-core.js";
import { MAX_HASH_INPUT } from "./hash.js";

/**
 * The HMAC of `message` under `key`.
 * @returns a new array as long as the digest (20, 32 or 64 bytes).
 * @throws RangeError if the algorithm is unknown or an input is over 2^30 bytes.
 * @throws TypeError if `key` or `message` is not a Uint8Array.
 * @example hmac("SHA256", key, new TextEncoder().encode("what do ya want for nothing?"))
 */
export function hmac(algorithm: HashAlgorithm, key: Uint8Array, message: Uint8Array): Uint8Array {
  aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
  abytes(key, "key", { max: MAX_HASH_INPUT });
  abytes(message, "message", { max: MAX_HASH_INPUT });
  return hmacUnchecked(SPECS[algorithm], key, message);
}

/** Internal: HMAC of validated inputs. WASM copies of the key and message are zeroed on release. */
export function hmacUnchecked(spec: AlgorithmSpec, key: Uint8Array, message: Uint8Array): Uint8Array {
  const core = hashCore();
  return core.scoped([key.length, message.length, spec.digestBytes], (k, m, out) => {
    core.write(k!, key);
    core.write(m!, message);
    callCore(core, (e) => e[spec.hmac](k!, key.length, m!, message.length, out!));
    return core.read(out!, spec.digestBytes);
  });
}
