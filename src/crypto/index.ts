// Public crypto API. A plain list of re-exports: each area adds its own lines.
export { type HashAlgorithm, HASH_ALGORITHMS, MAX_HASH_INPUT, digestLength, hash, sha1, sha256, sha512 } from "./hash.js";
export { hmac } from "./hmac.js";
export { type TotpOptions, MIN_DIGITS, MAX_DIGITS, formatCode, hotp, totp, totpCounter } from "./otp.js";
