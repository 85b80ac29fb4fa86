// SM4 (GB/T 32907-2016), four blocks at a time in the four i32 lanes of a v128.
//
// Layout ("lane layout"): state word j of the block in lane i is lane i of X_j, as a native integer
// (SM4 words are big-endian; the byte swap is folded into the transposes below). Each lane can hold
// a different block under a different key: the round keys are v128 too, one key per lane. With one
// key, every lane holds the same round key and the four lanes carry four blocks of one message.
//
// Constant time: the S-box (tau) goes through sbox16 (SIMD swizzle over all 16 slices, no
// secret-dependent address or branch); L, L' and the round structure are fixed sequences of xor,
// shift and shuffle. Branches and addresses depend only on lengths and counts, which are public
// (a frame's length is visible on the wire anyway).
//
// Secrets live only in the facade-owned scratch (round keys, state) and in the caller's buffers;
// the facade zeroes all of them after every call. Nothing is kept in globals.
import { SM4_SBOX, sbox16 } from "./sbox";

/** Scratch layout, offsets from the facade's scratch pointer (all 16-aligned). */
export const SM4_RK: usize = 0; //       32 round keys, one v128 each (4 lanes)
export const SM4_STATE: usize = 512; //  X0..X3 in lane layout
export const SM4_DUMMY: usize = 576; //  a block that idle lanes read and write
export const SM4_MACOUT: usize = 592; // 4 blocks: each lane's last CBC block
const SCRATCH_SIZE: i32 = 656;

// FK, GB/T 32907-2016 §7.3.
const FK0: i32 = <i32>0xa3b1bac6;
const FK1: i32 = <i32>0x56aa3350;
const FK2: i32 = <i32>0x677d9197;
const FK3: i32 = <i32>0xb27022dc;

/** Bytes of scratch the facade must allocate (and wipe) for any SM4 or Token2 frame call. */
export function sm4ScratchSize(): i32 {
  return SCRATCH_SIZE;
}

// @ts-ignore: decorator
@inline
function rotl(x: v128, n: i32): v128 {
  return v128.or(i32x4.shl(x, n), i32x4.shr_u(x, 32 - n));
}

/** T = L(tau(x)); L(B) = B ^ B<<<2 ^ B<<<10 ^ B<<<18 ^ B<<<24 (§6.2), with the byte rotations as shuffles. */
// @ts-ignore: decorator
@inline
function sm4T(x: v128): v128 {
  const b = sbox16(SM4_SBOX, x);
  // t = B ^ B<<<8 ^ B<<<16, so t<<<2 = B<<<2 ^ B<<<10 ^ B<<<18: one bit rotation instead of three.
  const r8 = i8x16.shuffle(b, b, 3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
  const r16 = i8x16.shuffle(b, b, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  const r24 = i8x16.shuffle(b, b, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
  const t = v128.xor(v128.xor(b, r8), r16);
  return v128.xor(v128.xor(b, r24), rotl(t, 2));
}

/** T' = L'(tau(x)); L'(B) = B ^ B<<<13 ^ B<<<23 (key schedule, §7.3). */
// @ts-ignore: decorator
@inline
function sm4Tk(x: v128): v128 {
  const b = sbox16(SM4_SBOX, x);
  return v128.xor(v128.xor(b, rotl(b, 13)), rotl(b, 23));
}

/** CK_i: byte j is (4i + j) * 7 mod 256 (§7.3). */
// @ts-ignore: decorator
@inline
function ck(i: i32): v128 {
  const b = i * 28;
  return i32x4.splat(((b & 255) << 24) | (((b + 7) & 255) << 16) | (((b + 14) & 255) << 8) | ((b + 21) & 255));
}

/**
 * Loads the 16-byte blocks at p0..p3 (any alignment) into lane layout at `st`; with `xorIn`, xors
 * them into the state already there (CBC chaining).
 */
// @ts-ignore: decorator
@inline
export function loadLanes(st: usize, p0: usize, p1: usize, p2: usize, p3: usize, xorIn: bool): void {
  const b0 = v128.load(p0);
  const b1 = v128.load(p1);
  const b2 = v128.load(p2);
  const b3 = v128.load(p3);
  // 4x4 transpose of 32-bit words; the first stage also byte-swaps each word (big-endian words).
  const t0 = i8x16.shuffle(b0, b1, 3, 2, 1, 0, 19, 18, 17, 16, 7, 6, 5, 4, 23, 22, 21, 20);
  const t1 = i8x16.shuffle(b0, b1, 11, 10, 9, 8, 27, 26, 25, 24, 15, 14, 13, 12, 31, 30, 29, 28);
  const t2 = i8x16.shuffle(b2, b3, 3, 2, 1, 0, 19, 18, 17, 16, 7, 6, 5, 4, 23, 22, 21, 20);
  const t3 = i8x16.shuffle(b2, b3, 11, 10, 9, 8, 27, 26, 25, 24, 15, 14, 13, 12, 31, 30, 29, 28);
  let x0 = i32x4.shuffle(t0, t2, 0, 1, 4, 5);
  let x1 = i32x4.shuffle(t0, t2, 2, 3, 6, 7);
  let x2 = i32x4.shuffle(t1, t3, 0, 1, 4, 5);
  let x3 = i32x4.shuffle(t1, t3, 2, 3, 6, 7);
  if (xorIn) {
    x0 = v128.xor(x0, v128.load(st, 0));
    x1 = v128.xor(x1, v128.load(st, 16));
    x2 = v128.xor(x2, v128.load(st, 32));
    x3 = v128.xor(x3, v128.load(st, 48));
  }
  v128.store(st, x0, 0);
  v128.store(st, x1, 16);
  v128.store(st, x2, 32);
  v128.store(st, x3, 48);
}

/** Stores the lane-layout state at `st` as four 16-byte blocks at p0..p3 (the inverse of loadLanes). */
// @ts-ignore: decorator
@inline
export function storeLanes(st: usize, p0: usize, p1: usize, p2: usize, p3: usize): void {
  const y0 = v128.load(st, 0);
  const y1 = v128.load(st, 16);
  const y2 = v128.load(st, 32);
  const y3 = v128.load(st, 48);
  const u0 = i32x4.shuffle(y0, y1, 0, 4, 1, 5);
  const u1 = i32x4.shuffle(y0, y1, 2, 6, 3, 7);
  const u2 = i32x4.shuffle(y2, y3, 0, 4, 1, 5);
  const u3 = i32x4.shuffle(y2, y3, 2, 6, 3, 7);
  // Second stage of the transpose, byte-swapping each word back to big-endian.
  const o0 = i8x16.shuffle(u0, u2, 3, 2, 1, 0, 7, 6, 5, 4, 19, 18, 17, 16, 23, 22, 21, 20);
  const o1 = i8x16.shuffle(u0, u2, 11, 10, 9, 8, 15, 14, 13, 12, 27, 26, 25, 24, 31, 30, 29, 28);
  const o2 = i8x16.shuffle(u1, u3, 3, 2, 1, 0, 7, 6, 5, 4, 19, 18, 17, 16, 23, 22, 21, 20);
  const o3 = i8x16.shuffle(u1, u3, 11, 10, 9, 8, 15, 14, 13, 12, 27, 26, 25, 24, 31, 30, 29, 28);
  // Stored in lane order: when idle lanes share one dummy block, or a tail lane repeats the last
  // real block, the stores write equal values or garbage that nobody reads.
  v128.store(p0, o0);
  v128.store(p1, o1);
  v128.store(p2, o2);
  v128.store(p3, o3);
}

/**
 * Expands the keys at k0..k3 (one per lane; pass the same pointer four times for one key) into the
 * 32 lane-layout round keys at scratch + SM4_RK (§7.3). Uses scratch + SM4_STATE as a temporary.
 */
export function sm4ExpandKeys(scratch: usize, k0: usize, k1: usize, k2: usize, k3: usize): void {
  const st = scratch + SM4_STATE;
  loadLanes(st, k0, k1, k2, k3, false);
  let a = v128.xor(v128.load(st, 0), i32x4.splat(FK0));
  let b = v128.xor(v128.load(st, 16), i32x4.splat(FK1));
  let c = v128.xor(v128.load(st, 32), i32x4.splat(FK2));
  let d = v128.xor(v128.load(st, 48), i32x4.splat(FK3));
  let rk = scratch + SM4_RK;
  for (let i = 0; i < 32; i += 4) {
    a = v128.xor(a, sm4Tk(v128.xor(v128.xor(b, c), v128.xor(d, ck(i)))));
    v128.store(rk, a, 0);
    b = v128.xor(b, sm4Tk(v128.xor(v128.xor(c, d), v128.xor(a, ck(i + 1)))));
    v128.store(rk, b, 16);
    c = v128.xor(c, sm4Tk(v128.xor(v128.xor(d, a), v128.xor(b, ck(i + 2)))));
    v128.store(rk, c, 32);
    d = v128.xor(d, sm4Tk(v128.xor(v128.xor(a, b), v128.xor(c, ck(i + 3)))));
    v128.store(rk, d, 48);
    rk += 64;
  }
}

/**
 * The 32 rounds on the lane-layout state at scratch + SM4_STATE, in place, ending with the reverse
 * transform R (§7.1). Decryption is the same with the round keys in reverse order (§7.2).
 */
export function sm4Rounds(scratch: usize, decrypt: bool): void {
  const st = scratch + SM4_STATE;
  let x0 = v128.load(st, 0);
  let x1 = v128.load(st, 16);
  let x2 = v128.load(st, 32);
  let x3 = v128.load(st, 48);
  let rk = scratch + SM4_RK + (decrypt ? 31 * 16 : 0);
  const step: isize = decrypt ? -16 : 16;
  for (let i = 0; i < 8; i++) {
    x0 = v128.xor(x0, sm4T(v128.xor(v128.xor(x1, x2), v128.xor(x3, v128.load(rk)))));
    rk += step;
    x1 = v128.xor(x1, sm4T(v128.xor(v128.xor(x2, x3), v128.xor(x0, v128.load(rk)))));
    rk += step;
    x2 = v128.xor(x2, sm4T(v128.xor(v128.xor(x3, x0), v128.xor(x1, v128.load(rk)))));
    rk += step;
    x3 = v128.xor(x3, sm4T(v128.xor(v128.xor(x0, x1), v128.xor(x2, v128.load(rk)))));
    rk += step;
  }
  v128.store(st, x3, 0);
  v128.store(st, x2, 16);
  v128.store(st, x1, 32);
  v128.store(st, x0, 48);
}

/**
 * SM4-ECB over `len` bytes at `data` (a multiple of 16), in place, under the 16-byte key at `key`.
 * Four blocks per pass; in the last pass the missing lanes repeat the last block.
 */
export function sm4Ecb(key: usize, data: usize, len: i32, decrypt: i32, scratch: usize): void {
  sm4ExpandKeys(scratch, key, key, key, key);
  const st = scratch + SM4_STATE;
  const last = data + <usize>len - 16;
  for (let p = data; p <= last; p += 64) {
    const p1 = min(p + 16, last);
    const p2 = min(p + 32, last);
    const p3 = min(p + 48, last);
    loadLanes(st, p, p1, p2, p3, false);
    sm4Rounds(scratch, decrypt != 0);
    storeLanes(st, p, p1, p2, p3);
  }
}

/**
 * SM4-CBC with IV = 0 over `len` bytes at `msg` (a non-zero multiple of 16; the caller pads), writing
 * the last ciphertext block to `out` (16 bytes). CBC is sequential, so all four lanes carry the same
 * chain; a single MAC is short, and batches of MACs go through token2SecureFrames instead.
 */
export function sm4CbcMac(key: usize, msg: usize, len: i32, out: usize, scratch: usize): void {
  sm4ExpandKeys(scratch, key, key, key, key);
  const st = scratch + SM4_STATE;
  v128.store(st, i32x4.splat(0), 0);
  v128.store(st, i32x4.splat(0), 16);
  v128.store(st, i32x4.splat(0), 32);
  v128.store(st, i32x4.splat(0), 48);
  const end = msg + <usize>len;
  for (let p = msg; p < end; p += 16) {
    loadLanes(st, p, p, p, p, true);
    sm4Rounds(scratch, false);
  }
  const dummy = scratch + SM4_DUMMY;
  storeLanes(st, out, dummy, dummy, dummy);
}
