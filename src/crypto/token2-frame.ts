/**
 * Token2 secure-messaging building blocks shared by the single-profile tokens and the Molto2
 * (docs/PROTOCOL.md §1.3 to §1.6): payload padding, the command MAC, CLA 84 frames (one, or a batch with
 * one key per frame) and the challenge response. SM4 runs in the WASM core; keys, plaintext bodies
 * and key schedules are zeroed in WASM memory after every call (WasmCore.scoped releases zeroed).
 */
import { aarray, abool, abytes, aint } from "../lib/checks.js";
import { cipherCore } from "./cipher-exports.js";
import { sm4EncryptEcb } from "./sm4.js";

/** One seed frame of a batch: `84 INS P1 P2 Lc E_K(P(seed)) MAC` under its own key. */
export interface SeedFrameRequest {
  /** 16-byte SM4 key: the fixed single-profile key (§2.3) or a Molto2 `SHA-1(customer key)[0:16]` (§3.2). */
  key: Uint8Array;
  ins: number;
  p1: number;
  p2: number;
  /** 1..63 raw seed bytes (§2.7, §3.7). */
  seed: Uint8Array;
}

/** Largest encrypted body: 15 blocks, so that Lc = 16n + 4 still fits one byte (§1.1 short APDUs). */
const MAX_ENCRYPTED_BODY = 239;
/** Largest clear body: Lc = len + 4 <= 255. */
const MAX_CLEAR_BODY = 251;
/** Largest message token2Mac accepts; real MAC inputs are at most 5 + 255 bytes. */
const MAX_MAC_MESSAGE = 65536;
/** Largest batch per call: bounds the WASM memory sized up front (112 bytes per frame). */
const MAX_BATCH = 65536;

// Record layout of assembly/cipher/token2.ts.
const REC_LEN = 16;
const REC_SLOT = 32;
/** Seeds are at most 63 bytes: 4 body blocks, slot of 5 blocks. */
const SEED_STRIDE = REC_SLOT + 16 * 5;

/**
 * Pads with ISO/IEC 9797-1 method 2 as docs/PROTOCOL.md §1.3 uses it: `x ‖ 80 ‖ 00×k` up to a multiple
 * of 16, always, so a block-aligned input gains a whole block `80 00×15`.
 * @param data Any bytes (seed, title, key-change payload); not modified.
 * @returns A new array of `16 * (floor(len / 16) + 1)` bytes.
 * @throws TypeError (reason INVALID_INPUT) if data is not a Uint8Array.
 * @example padIso9797M2(seed20) // 32 bytes: seed ‖ 80 ‖ 00×11 (vector S3.padded)
 */
export function padIso9797M2(data: Uint8Array): Uint8Array {
  abytes(data, "data");
  const out = new Uint8Array((Math.floor(data.length / 16) + 1) * 16);
  out.set(data);
  out[data.length] = 0x80;
  return out;
}

/**
 * Removes the padding with the device-side rule of docs/PROTOCOL.md §1.3 [FW]: skip trailing `00` bytes;
 * the first non-zero byte met must be `80` and everything before it is the payload (possibly empty).
 * The scan always covers the whole buffer, without an early exit, since the buffer holds a
 * decrypted seed (JavaScript gives no stronger timing guarantee than that).
 * @param data A decrypted buffer; not modified.
 * @returns A new array with the payload, or null for an invalid frame (no `80` marker, or all zero).
 * @throws TypeError (reason INVALID_INPUT) if data is not a Uint8Array.
 * @example unpadIso9797M2(sm4DecryptEcb(key, body)) ?? reject6A80()
 */
export function unpadIso9797M2(data: Uint8Array): Uint8Array | null {
  abytes(data, "data");
  let marker = -1; // index of the last non-zero byte
  for (let i = 0; i < data.length; i++) {
    const nonZero = ((data[i]! | -data[i]!) >>> 31) & 1; // 1 if data[i] != 0, without a branch
    marker = nonZero * i + (1 - nonZero) * marker;
  }
  if (marker < 0 || data[marker] !== 0x80) return null;
  return data.slice(0, marker);
}

/**
 * The Token2 command MAC of docs/PROTOCOL.md §1.4: SM4-CBC with IV 0 over `M`, padded with P() only when
 * `len(M) mod 16 ≠ 0`; the MAC is the first 4 bytes of the last ciphertext block.
 * @param key 16-byte SM4 key.
 * @param message `M = 80 ‖ INS ‖ P1 ‖ P2 ‖ L' ‖ body` as built by the caller, 1..65536 bytes.
 * @returns The 4-byte MAC.
 * @throws TypeError (reason INVALID_INPUT) if an argument is not a Uint8Array.
 * @throws RangeError (reason INVALID_INPUT) if the key is not 16 bytes or the message is empty or too long.
 * @example token2Mac(molto2Key, new TextEncoder().encode("hello world test!!")) // vector M2: 2CF7C205
 */
export function token2Mac(key: Uint8Array, message: Uint8Array): Uint8Array {
  abytes(key, "key", { length: 16 });
  abytes(message, "message", { min: 1, max: MAX_MAC_MESSAGE });
  return macInWasm(key, (core, ptr) => core.write(ptr, message), message.length).slice(0, 4);
}

/**
 * Copies a MAC input into WASM memory through `fill`, applies the §1.4 padding rule and returns the
 * last CBC block (16 bytes; the MAC is its first 4).
 */
function macInWasm(key: Uint8Array, fill: (core: ReturnType<typeof cipherCore>, ptr: number) => void, length: number): Uint8Array {
  const core = cipherCore();
  const { exports } = core;
  const padded = length % 16 === 0 ? length : (Math.floor(length / 16) + 1) * 16;
  return core.scoped([16, padded, 16, exports.sm4ScratchSize()], (keyPtr, msgPtr, outPtr, scratch) => {
    core.write(keyPtr!, key);
    fill(core, msgPtr!);
    // The block is zeroed on allocation, so P(M) only needs its 80 marker.
    if (padded !== length) core.view()[msgPtr! + length] = 0x80;
    exports.sm4CbcMac(keyPtr!, msgPtr!, padded, outPtr!, scratch!);
    return core.read(outPtr!, 16);
  });
}

/**
 * Builds one secure (CLA 84) command, docs/PROTOCOL.md §1.5: `84 INS P1 P2 Lc ‖ body' ‖ MAC` with
 * `Lc = len(body') + 4` and the MAC over `80 INS P1 P2 len(body') ‖ body'` (§1.4).
 * @param key 16-byte SM4 key (the same key encrypts and MACs; there is no session key).
 * @param ins Instruction byte, 0..255.
 * @param p1 Parameter byte, 0..255.
 * @param p2 Parameter byte (the Molto2 profile), 0..255.
 * @param body The command body: 0..239 bytes when encrypted, 0..251 bytes when sent clear.
 * @param options `encrypt: true` sends `E_K(P(body))` (seed §2.7, title §3.8, key change §3.11);
 *   `encrypt: false` sends the body clear (WRITE CONFIG and sync time, §2.6, §3.9).
 * @returns The full APDU.
 * @throws TypeError (reason INVALID_INPUT) on a value of the wrong kind.
 * @throws RangeError (reason INVALID_INPUT) on a wrong key length, a header byte out of range or a body too long.
 * @example buildSecureApdu(key, 0xd4, 0x00, 0x00, configTlv, { encrypt: false }) // vector S2
 */
export function buildSecureApdu(key: Uint8Array, ins: number, p1: number, p2: number, body: Uint8Array, options: { encrypt: boolean }): Uint8Array {
  abytes(key, "key", { length: 16 });
  aint(ins, "ins", 0, 255);
  aint(p1, "p1", 0, 255);
  aint(p2, "p2", 0, 255);
  abool((options as { encrypt?: unknown } | undefined)?.encrypt, "options.encrypt");
  if (options.encrypt) {
    abytes(body, "body", { max: MAX_ENCRYPTED_BODY });
    const stride = REC_SLOT + 16 * (Math.floor(body.length / 16) + 2);
    return framesInWasm([{ key, ins, p1, p2, seed: body }], stride)[0]!;
  }
  abytes(body, "body", { max: MAX_CLEAR_BODY });
  const header = Uint8Array.of(0x80, ins, p1, p2, body.length);
  const last = macInWasm(
    key,
    (core, ptr) => {
      core.write(ptr, header);
      core.write(ptr + 5, body);
    },
    5 + body.length,
  );
  const apdu = new Uint8Array(9 + body.length);
  apdu.set(header);
  apdu[0] = 0x84;
  apdu[4] = body.length + 4;
  apdu.set(body, 5);
  apdu.set(last.subarray(0, 4), 5 + body.length);
  return apdu;
}

/**
 * Builds many seed frames, each under its own key: `84 INS P1 P2 Lc ‖ E_K(P(seed)) ‖ MAC`
 * (docs/PROTOCOL.md §1.5, §2.7, §3.7). The WASM core runs eight frames at a time, as two
 * interleaved groups of four SIMD lanes, each lane with its own key schedule.
 * Padding is always applied (§1.3), so aligned seeds gain a whole block.
 * @param requests 0..65536 requests; each key 16 bytes, each seed 1..63 bytes, header bytes 0..255.
 * @returns One new array per request, in order.
 * @throws TypeError (reason INVALID_INPUT) if requests is not an array or a field has the wrong kind.
 * @throws RangeError (reason INVALID_INPUT) on a wrong key or seed length, a header byte out of range, or too many requests.
 * @example buildSeedFrames([{ key, ins: 0xc5, p1: 0x01, p2: 0x07, seed }]) // Molto2 profile 7
 */
export function buildSeedFrames(requests: readonly SeedFrameRequest[]): Uint8Array[] {
  aarray(requests, "requests", MAX_BATCH);
  for (let i = 0; i < requests.length; i++) {
    if (!isValidRequest(requests[i])) checkRequest(requests[i], i);
  }
  return requests.length === 0 ? [] : framesInWasm(requests, SEED_STRIDE);
}

const isByte = (v: unknown): boolean => typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= 255;

/**
 * The fast path of the request checks: no field names are formatted for valid requests, which
 * measurably matters at 10,000 frames per call. Anything it refuses goes to {@link checkRequest}.
 */
function isValidRequest(r: SeedFrameRequest | undefined): boolean {
  return (
    r !== null &&
    typeof r === "object" &&
    r.key instanceof Uint8Array &&
    r.key.length === 16 &&
    r.seed instanceof Uint8Array &&
    r.seed.length >= 1 &&
    r.seed.length <= 63 &&
    isByte(r.ins) &&
    isByte(r.p1) &&
    isByte(r.p2)
  );
}

/** Throws the checks.ts error that names the first bad field of request `i`. */
function checkRequest(r: Partial<SeedFrameRequest> | undefined, i: number): void {
  abytes(r?.key, `requests[${i}].key`, { length: 16 });
  aint(r?.ins, `requests[${i}].ins`, 0, 255);
  aint(r?.p1, `requests[${i}].p1`, 0, 255);
  aint(r?.p2, `requests[${i}].p2`, 0, 255);
  abytes(r?.seed, `requests[${i}].seed`, { min: 1, max: 63 });
}

/** Lays the requests out as records, runs the batch builder, copies each frame out. */
function framesInWasm(requests: readonly SeedFrameRequest[], stride: number): Uint8Array[] {
  const core = cipherCore();
  const { exports } = core;
  const count = requests.length;
  return core.scoped([count * stride, exports.sm4ScratchSize()], (records, scratch) => {
    const mem = core.view();
    for (let i = 0; i < count; i++) {
      const { key, ins, p1, p2, seed } = requests[i]!;
      const rec = records! + i * stride;
      mem.set(key, rec);
      mem[rec + REC_LEN] = seed.length;
      mem[rec + REC_SLOT + 1] = ins;
      mem[rec + REC_SLOT + 2] = p1;
      mem[rec + REC_SLOT + 3] = p2;
      mem.set(seed, rec + REC_SLOT + 5);
    }
    exports.token2SecureFrames(records!, count, stride, scratch!);
    const frames = new Array<Uint8Array>(count);
    for (let i = 0; i < count; i++) {
      const start = records! + i * stride + REC_SLOT;
      frames[i] = mem.slice(start, start + 9 + 16 * (Math.floor(requests[i]!.seed.length / 16) + 1));
    }
    return frames;
  });
}

/**
 * The answer to a GET CHALLENGE, docs/PROTOCOL.md §1.6: `R = E_K(challenge ‖ 00×8)`, one block, sent as
 * `80 CE 00 00 10 ‖ R`.
 * @param key 16-byte SM4 key.
 * @param challenge The 8 bytes the device returned.
 * @returns The 16-byte R.
 * @throws TypeError (reason INVALID_INPUT) if an argument is not a Uint8Array.
 * @throws RangeError (reason INVALID_INPUT) if the key is not 16 bytes or the challenge not 8.
 * @example authResponse(deviceKey, Uint8Array.of(0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88)) // vector S1
 */
export function authResponse(key: Uint8Array, challenge: Uint8Array): Uint8Array {
  abytes(key, "key", { length: 16 });
  abytes(challenge, "challenge", { length: 8 });
  const block = new Uint8Array(16);
  block.set(challenge);
  return sm4EncryptEcb(key, block);
}
