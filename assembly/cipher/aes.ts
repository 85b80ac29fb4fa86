// AES-256 (FIPS 197) in CBC mode with PKCS#7 padding, for the seal of the FIDO-key OTP applet
// (docs/PROTOCOL.md §4.4: key = SHA-256(ECDH x), fixed IVs).
//
// The state is one v128 holding the 16 bytes in FIPS 197 order (column c, row r at byte 4c + r).
// Constant time: SubBytes and the key schedule's SubWord go through sbox16 (SIMD swizzle over all
// 16 slices); ShiftRows is a fixed shuffle; MixColumns multiplies by x with an add and a sign mask
// (no table, no branch); the PKCS#7 check reads all 16 last bytes and folds mismatches into a mask.
// Only the lengths decide branches and addresses. Table-based AES (T-tables) would be faster and
// is exactly what this avoids.
//
// The round keys live in the facade's scratch (AES_SCRATCH bytes), which it zeroes after each call.
import { AES_INV_SBOX, AES_SBOX, sbox16 } from "./sbox";

const ROUNDS: usize = 14;
const AES_SCRATCH: i32 = 16 * (<i32>ROUNDS + 1);

/** Bytes of scratch the facade must allocate (and wipe) for an AES call: the 15 round keys. */
export function aesScratchSize(): i32 {
  return AES_SCRATCH;
}

/** SubWord of the key schedule: the same constant-time lookup, on one word. */
// @ts-ignore: decorator
@inline
function subWord(w: u32): u32 {
  return i32x4.extract_lane(sbox16(AES_SBOX, i32x4.splat(w)), 0);
}

/** FIPS 197 §5.2 for Nk = 8: 60 words from the 32-byte key at `key` into `rk`. */
function expandKey(key: usize, rk: usize): void {
  for (let i: usize = 0; i < 8; i++) store<u32>(rk + 4 * i, load<u32>(key + 4 * i));
  let rcon: u32 = 1;
  for (let i: usize = 8; i < 60; i++) {
    let t = load<u32>(rk + 4 * (i - 1));
    if (i % 8 == 0) {
      // Words are little-endian loads, so RotWord is a right rotation and Rcon hits the low byte.
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      rcon <<= 1; // never exceeds 0x40 for AES-256: no reduction needed
    } else if (i % 8 == 4) {
      t = subWord(t);
    }
    store<u32>(rk + 4 * i, load<u32>(rk + 4 * (i - 8)) ^ t);
  }
}

/** Multiplication by x in GF(2^8) on every byte: 2a, reduced by 1B where the top bit was set. */
// @ts-ignore: decorator
@inline
function xtime(a: v128): v128 {
  return v128.xor(i8x16.add(a, a), v128.and(i8x16.lt_s(a, i8x16.splat(0)), i8x16.splat(0x1b)));
}

/** MixColumns (§5.1.3): b_r = a_r ^ t ^ xtime(a_r ^ a_r+1), t = a_0 ^ a_1 ^ a_2 ^ a_3 per column. */
// @ts-ignore: decorator
@inline
function mixColumns(a: v128): v128 {
  const u = v128.xor(a, i8x16.shuffle(a, a, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12));
  const t = v128.xor(u, i8x16.shuffle(u, u, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  return v128.xor(v128.xor(a, t), xtime(u));
}

/** InvMixColumns as MixColumns after multiplying each column by 04x^2 + 05 (The Design of Rijndael §4.1.3). */
// @ts-ignore: decorator
@inline
function invMixColumns(a: v128): v128 {
  const w = v128.xor(a, i8x16.shuffle(a, a, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13));
  return mixColumns(v128.xor(a, xtime(xtime(w))));
}

function encryptBlock(s: v128, rk: usize): v128 {
  s = v128.xor(s, v128.load(rk));
  for (let r: usize = 1; r < ROUNDS; r++) {
    const b = sbox16(AES_SBOX, s);
    const shifted = i8x16.shuffle(b, b, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11);
    s = v128.xor(mixColumns(shifted), v128.load(rk + 16 * r));
  }
  const b = sbox16(AES_SBOX, s);
  return v128.xor(i8x16.shuffle(b, b, 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11), v128.load(rk, 16 * ROUNDS));
}

function decryptBlock(s: v128, rk: usize): v128 {
  s = v128.xor(s, v128.load(rk, 16 * ROUNDS));
  for (let r: usize = ROUNDS - 1; r > 0; r--) {
    const shifted = i8x16.shuffle(s, s, 0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3);
    s = invMixColumns(v128.xor(sbox16(AES_INV_SBOX, shifted), v128.load(rk + 16 * r)));
  }
  const shifted = i8x16.shuffle(s, s, 0, 13, 10, 7, 4, 1, 14, 11, 8, 5, 2, 15, 12, 9, 6, 3);
  return v128.xor(sbox16(AES_INV_SBOX, shifted), v128.load(rk));
}

/**
 * AES-256-CBC encryption in place of `len` bytes at `data`, after appending PKCS#7 padding there;
 * the buffer must hold the padded length, which is returned (len rounded up to the next whole block).
 */
export function aes256CbcEncrypt(key: usize, iv: usize, data: usize, len: i32, scratch: usize): i32 {
  const pad = 16 - (len & 15);
  for (let i = 0; i < pad; i++) store<u8>(data + <usize>(len + i), <u8>pad);
  const total = len + pad;
  expandKey(key, scratch);
  let chain = v128.load(iv);
  for (let p = data; p < data + <usize>total; p += 16) {
    chain = encryptBlock(v128.xor(v128.load(p), chain), scratch);
    v128.store(p, chain);
  }
  return total;
}

/**
 * AES-256-CBC decryption in place of `len` bytes at `data` (a non-zero multiple of 16). Returns the
 * length without the PKCS#7 padding, or -1 if the padding is invalid; the check runs over the last
 * 16 bytes whatever their values.
 */
export function aes256CbcDecrypt(key: usize, iv: usize, data: usize, len: i32, scratch: usize): i32 {
  expandKey(key, scratch);
  let chain = v128.load(iv);
  for (let p = data; p < data + <usize>len; p += 16) {
    const c = v128.load(p);
    v128.store(p, v128.xor(decryptBlock(c, scratch), chain));
    chain = c;
  }
  const last = data + <usize>len - 1;
  const pad = <i32>load<u8>(last);
  let bad = ((pad - 1) | (16 - pad)) >> 31; // -1 unless 1 <= pad <= 16
  for (let i = 0; i < 16; i++) {
    const inPad = (i - pad) >> 31; // -1 for the pad bytes
    bad |= inPad & (<i32>load<u8>(last - <usize>i) ^ pad);
  }
  return bad != 0 ? -1 : len - pad;
}
