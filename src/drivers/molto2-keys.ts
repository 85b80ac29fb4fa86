/**
 * Customer-key hygiene for the Molto2 (docs/PROTOCOL.md §3.2, §3.11): the checks a new key passes before
 * it is sent, and the warnings a session gives about keys. The factory key TOKEN2MOLTO1-KEY is
 * public, so a token still using it can be rewritten by anyone who holds it.
 */
import { abytes } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import { MOLTO2_DEFAULT_CUSTOMER_KEY, molto2Key } from "../protocol/molto2.js";

/**
 * Something the operator should know that does not stop the operation: `default-key` when the
 * session authenticated with the public factory key (anyone holding the token can rewrite it),
 * `short-key` when a new customer key is shorter than the spec's 16 bytes (§3.2).
 */
export interface Molto2Warning {
  code: "default-key" | "short-key";
  message: string;
}

/** The spec's customer-key length (§3.2); shorter keys work but are easier to guess. */
const ADVISED_KEY_LENGTH = 16;

export const DEFAULT_KEY_WARNING: Readonly<Molto2Warning> = {
  code: "default-key",
  message:
    "this Molto2 still uses the public factory customer key TOKEN2MOLTO1-KEY: anyone holding it can rewrite its profiles; set your own with `otpbridge molto2 set-key`",
};

const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * True when `k` (the derived SM4 key) is the factory key's, vector M1. Both are public: nothing
 * here needs to be constant-time, and the factory K needs no wiping.
 */
export function isFactoryKey(k: Uint8Array): boolean {
  return bytesEqual(k, molto2Key(MOLTO2_DEFAULT_CUSTOMER_KEY));
}

/**
 * Checks a new customer key before anything is sent (§3.2, §3.11): non-empty, and not the public
 * factory key (setting it would leave the token as open as a new one). Any length works, since the
 * token keeps only SHA-1(key)[0:16]; a key under 16 bytes gives a `short-key` warning.
 * @returns the warnings (empty for a good key).
 * @throws RangeError/TypeError (INVALID_INPUT) on an empty key or a non-byte array; OtpbridgeError
 *   INVALID_INPUT for the factory key.
 * @example checkNewCustomerKey(new TextEncoder().encode("correct horse battery")) // []
 */
export function checkNewCustomerKey(key: Uint8Array): Molto2Warning[] {
  abytes(key, "newCustomerKey", { min: 1 });
  if (bytesEqual(key, MOLTO2_DEFAULT_CUSTOMER_KEY)) {
    throw otpbError(
      "INVALID_INPUT",
      "the new customer key is the public factory key TOKEN2MOLTO1-KEY; choose your own (a factory reset is how to go back to it)",
    );
  }
  if (key.length >= ADVISED_KEY_LENGTH) return [];
  return [
    {
      code: "short-key",
      message: `the new customer key is ${key.length} bytes; 16 or more are advised, as a short key is easier to guess (the token accepts any length)`,
    },
  ];
}
