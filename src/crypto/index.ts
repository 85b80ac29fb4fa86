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
export { aes256CbcDecrypt, aes256CbcEncrypt } from "./aes.js";
