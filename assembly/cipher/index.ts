// Cipher half of the WASM core: SM4 (ECB, CBC-MAC, Token2 secure frames) and AES-256-CBC.
// Only the entry points the facade calls are exported; src/crypto/cipher-exports.ts types them.
export { sm4ScratchSize, sm4Ecb, sm4CbcMac } from "./sm4";
export { token2SecureFrames } from "./token2";
export { aesScratchSize, aes256CbcEncrypt, aes256CbcDecrypt } from "./aes";
