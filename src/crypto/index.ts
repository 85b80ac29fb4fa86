// Public crypto API. A plain list of re-exports: each area adds its own lines.
export { type HashAlgorithm, HASH_ALGORITHMS, MAX_HASH_INPUT, digestLength, hash, sha1, sha256, sha512 } from "./hash.js";
export { hmac } from "./hmac.js";
export {
  type Counters, type TotpOptions, type WindowMatch, MAX_BATCH_KEYS, MAX_DIGITS, MAX_WINDOW, MIN_DIGITS,
  formatCode, hotp, hotpBatch, hotpBatchInto, searchWindow, totp, totpCounter,
} from "./otp.js";
export { ResidentKeySet } from "./key-set.js";
