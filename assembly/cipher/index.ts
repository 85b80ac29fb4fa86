// Cipher half of the WASM core: SM4 (ECB, CBC-MAC, Token2 secure frames) and AES-256-CBC.
// Only the entry points the facade calls are exported; src/crypto/cipher-exports.ts types them.
//
// Timing, in one place:
// - Constant time (no branch or memory address depends on a key, a seed or a plaintext byte): the
//   S-boxes (swizzles of 16-byte tables, sbox.ts), the SM4 and AES rounds and key schedules, the
//   MAC, and the AES PKCS#7 check (it folds all 16 last bytes into a mask).
// - Not constant time, on purpose: loops and branches on lengths and counts (public: a frame's
//   length is on the wire), and the final valid/invalid answer of the PKCS#7 check (the caller
//   learns it anyway from the error).
// - Assumed, not controlled: that the engine lowers swizzle to a data-independent instruction
//   (x64: paddusb + pshufb; arm64: tbl). Values V8 spills to its native stack (round keys, state)
//   are outside linear memory, so the facade cannot zero them; they are overwritten by later calls.
export { sm4ScratchSize, sm4Ecb, sm4CbcMac } from "./sm4";
export { token2SecureFrames } from "./token2";
export { aesScratchSize, aes256CbcEncrypt, aes256CbcDecrypt } from "./aes";
