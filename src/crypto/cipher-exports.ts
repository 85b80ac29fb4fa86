import { wasmCore, type WasmBaseExports, type WasmCore } from "./wasm.js";

/**
 * The cipher entry points of the WASM core (assembly/cipher/index.ts). Internal to src/crypto:
 * pointers are blocks from {@link WasmCore.alloc}, lengths are already validated by the facade,
 * and every `scratch` block must be {@link CipherExports.sm4ScratchSize} or
 * {@link CipherExports.aesScratchSize} bytes, zeroed by the facade after the call (it holds key
 * schedules).
 */
export interface CipherExports extends WasmBaseExports {
  sm4ScratchSize(): number;
  /** SM4-ECB in place over `len` bytes (multiple of 16); `decrypt` is 0 or 1. */
  sm4Ecb(key: number, data: number, len: number, decrypt: number, scratch: number): void;
  /** SM4-CBC, IV = 0, over `len` bytes (non-zero multiple of 16); writes the last block (16 bytes) to `out`. */
  sm4CbcMac(key: number, msg: number, len: number, out: number, scratch: number): void;
  /** Builds `count` Token2 secure frames in place; record layout in assembly/cipher/token2.ts. */
  token2SecureFrames(records: number, count: number, stride: number, scratch: number): void;
  aesScratchSize(): number;
  /** Pads (PKCS#7) and encrypts in place; `data` must hold the padded length, which is returned. */
  aes256CbcEncrypt(key: number, iv: number, data: number, len: number, scratch: number): number;
  /** Decrypts in place (`len` a non-zero multiple of 16); returns the unpadded length, or -1 on bad padding. */
  aes256CbcDecrypt(key: number, iv: number, data: number, len: number, scratch: number): number;
}

/** The shared core, typed with the cipher exports. */
export function cipherCore(): WasmCore<CipherExports> {
  return wasmCore<CipherExports>();
}
