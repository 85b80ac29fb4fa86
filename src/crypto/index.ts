// The crypto facade's public surface: one `export ... from` line per module.
export { sm4DecryptEcb, sm4EncryptEcb } from "./sm4.js";
export {
  authResponse,
  buildSecureApdu,
  buildSeedFrames,
  padIso9797M2,
  token2Mac,
  unpadIso9797M2,
  type SeedFrameRequest,
} from "./token2-frame.js";
export { type HashAlgorithm, HASH_ALGORITHMS, MAX_HASH_INPUT, digestLength, hash, sha1, sha256, sha512 } from "./hash.js";
export { hmac } from "./hmac.js";
export {
  type Counters,
  type TotpOptions,
  type WindowMatch,
  MAX_BATCH_KEYS,
  MAX_DIGITS,
  MAX_WINDOW,
  MIN_DIGITS,
  formatCode,
  hotp,
  hotpBatch,
  hotpBatchInto,
  searchWindow,
  totp,
  totpCounter,
} from "./otp.js";
export { type PutKey, ResidentKeySet } from "./key-set.js";
export { aes256CbcDecrypt, aes256CbcEncrypt } from "./aes.js";
