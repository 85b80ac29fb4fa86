// SM4 (GB/T 32907-2016), four blocks at a time in the four i32 lanes of a v128, or eight as two
// interleaved groups of four.
//
// Layout ("lane layout"): state word j of the block in lane i is lane i of X_j, as a native integer
// (SM4 words are big-endian; the byte swap is folded into the transposes below). Each lane can hold
// a different block under a different key: the round keys are v128 too, one key per lane. With one
// key, every lane holds the same round key and the four lanes carry four blocks of one message.
//
// Constant time: the S-box (tau) goes through sm4Sbox16 (SIMD swizzles of 16-entry tables, no
// secret-dependent address or branch); L, L' and the round structure are fixed sequences of xor,
// shift and shuffle. Branches and addresses depend only on lengths and counts, which are public
// (a frame's length is visible on the wire anyway).
//
// Why two groups: one SM4 round is a chain of ~25 dependent instructions (S-box, L, xor), so a
// single group leaves the CPU waiting on latency; two independent groups in one loop overlap
// (docs/BENCHMARKS.md).
//
// Secrets live only in the facade-owned scratch (round keys, state) and in the caller's buffers;
// the facade zeroes all of them after every call. Nothing is kept in globals.
import { sm4Sbox16 } from "./sbox";

/** Scratch layout, offsets from the facade's scratch pointer (all 16-aligned). */
export const SM4_RK: usize = 0; //       group A: 32 round keys, one v128 each (4 lanes)
export const SM4_RK_B: usize = 512; //   group B: the same
export const SM4_STATE: usize = 1024; // group A: X0..X3 in lane layout
export const SM4_STATE_B: usize = 1088; // group B
export const SM4_DUMMY: usize = 1152; // a block that idle lanes read and write
export const SM4_MACOUT: usize = 1168; // 8 blocks: each lane's last CBC block
export const SM4_LANES: usize = 1296; // 8 x (record pointer u32, block count u32), for token2.ts
const SCRATCH_SIZE: i32 = 1360;

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
  const b = sm4Sbox16(x);
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
  const b = sm4Sbox16(x);
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

/** One key-schedule step (§7.3): rk_i = K_i ^ T'(K_i+1 ^ K_i+2 ^ K_i+3 ^ CK_i), which becomes K_i+4. */
// @ts-ignore: decorator
@inline
function keyStep(k0: v128, k1: v128, k2: v128, k3: v128, i: i32): v128 {
  return v128.xor(k0, sm4Tk(v128.xor(v128.xor(k1, k2), v128.xor(k3, ck(i)))));
}

/** One round (§7.1): X_i+4 = X_i ^ T(X_i+1 ^ X_i+2 ^ X_i+3 ^ rk_i). */
// @ts-ignore: decorator
@inline
function round(x0: v128, x1: v128, x2: v128, x3: v128, rk: usize): v128 {
  return v128.xor(x0, sm4T(v128.xor(v128.xor(x1, x2), v128.xor(x3, v128.load(rk)))));
}

/**
 * Expands the keys held in lane layout at `st` (loadLanes of one key per lane; the same pointer
 * four times for one key) into the 32 lane-layout round keys at `rk` (§7.3). Clobbers `st`.
 */
export function sm4ExpandKeys(rk: usize, st: usize): void {
  let a = v128.xor(v128.load(st, 0), i32x4.splat(FK0));
  let b = v128.xor(v128.load(st, 16), i32x4.splat(FK1));
  let c = v128.xor(v128.load(st, 32), i32x4.splat(FK2));
  let d = v128.xor(v128.load(st, 48), i32x4.splat(FK3));
  for (let i = 0; i < 32; i += 4) {
    a = keyStep(a, b, c, d, i);
    v128.store(rk, a, 0);
    b = keyStep(b, c, d, a, i + 1);
    v128.store(rk, b, 16);
    c = keyStep(c, d, a, b, i + 2);
    v128.store(rk, c, 32);
    d = keyStep(d, a, b, c, i + 3);
    v128.store(rk, d, 48);
    rk += 64;
  }
}

/** sm4ExpandKeys for two groups of four keys, interleaved (see the top of this file). */
export function sm4ExpandKeys2(rkA: usize, stA: usize, rkB: usize, stB: usize): void {
  let a = v128.xor(v128.load(stA, 0), i32x4.splat(FK0));
  let b = v128.xor(v128.load(stA, 16), i32x4.splat(FK1));
  let c = v128.xor(v128.load(stA, 32), i32x4.splat(FK2));
  let d = v128.xor(v128.load(stA, 48), i32x4.splat(FK3));
  let e = v128.xor(v128.load(stB, 0), i32x4.splat(FK0));
  let f = v128.xor(v128.load(stB, 16), i32x4.splat(FK1));
  let g = v128.xor(v128.load(stB, 32), i32x4.splat(FK2));
  let h = v128.xor(v128.load(stB, 48), i32x4.splat(FK3));
  for (let i = 0; i < 32; i += 4) {
    a = keyStep(a, b, c, d, i);
    e = keyStep(e, f, g, h, i);
    v128.store(rkA, a, 0);
    v128.store(rkB, e, 0);
    b = keyStep(b, c, d, a, i + 1);
    f = keyStep(f, g, h, e, i + 1);
    v128.store(rkA, b, 16);
    v128.store(rkB, f, 16);
    c = keyStep(c, d, a, b, i + 2);
    g = keyStep(g, h, e, f, i + 2);
    v128.store(rkA, c, 32);
    v128.store(rkB, g, 32);
    d = keyStep(d, a, b, c, i + 3);
    h = keyStep(h, e, f, g, i + 3);
    v128.store(rkA, d, 48);
    v128.store(rkB, h, 48);
    rkA += 64;
    rkB += 64;
  }
}

/**
 * The 32 rounds on the lane-layout state at `st`, in place, ending with the reverse transform R
 * (§7.1). Decryption is the same with the round keys in reverse order (§7.2).
 */
export function sm4Rounds(rk: usize, st: usize, decrypt: bool): void {
  let x0 = v128.load(st, 0);
  let x1 = v128.load(st, 16);
  let x2 = v128.load(st, 32);
  let x3 = v128.load(st, 48);
  const step: isize = decrypt ? -16 : 16;
  if (decrypt) rk += 31 * 16;
  for (let i = 0; i < 8; i++) {
    x0 = round(x0, x1, x2, x3, rk);
    x1 = round(x1, x2, x3, x0, rk + step);
    x2 = round(x2, x3, x0, x1, rk + 2 * step);
    x3 = round(x3, x0, x1, x2, rk + 3 * step);
    rk += 4 * step;
  }
  v128.store(st, x3, 0);
  v128.store(st, x2, 16);
  v128.store(st, x1, 32);
  v128.store(st, x0, 48);
}

/** Encryption rounds for two groups at once, interleaved: group A (rkA, stA) and group B (rkB, stB). */
export function sm4Rounds2(rkA: usize, stA: usize, rkB: usize, stB: usize): void {
  let a0 = v128.load(stA, 0);
  let a1 = v128.load(stA, 16);
  let a2 = v128.load(stA, 32);
  let a3 = v128.load(stA, 48);
  let b0 = v128.load(stB, 0);
  let b1 = v128.load(stB, 16);
  let b2 = v128.load(stB, 32);
  let b3 = v128.load(stB, 48);
  for (let i = 0; i < 8; i++) {
    a0 = round(a0, a1, a2, a3, rkA);
    b0 = round(b0, b1, b2, b3, rkB);
    a1 = round(a1, a2, a3, a0, rkA + 16);
    b1 = round(b1, b2, b3, b0, rkB + 16);
    a2 = round(a2, a3, a0, a1, rkA + 32);
    b2 = round(b2, b3, b0, b1, rkB + 32);
    a3 = round(a3, a0, a1, a2, rkA + 48);
    b3 = round(b3, b0, b1, b2, rkB + 48);
    rkA += 64;
    rkB += 64;
  }
  v128.store(stA, a3, 0);
  v128.store(stA, a2, 16);
  v128.store(stA, a1, 32);
  v128.store(stA, a0, 48);
  v128.store(stB, b3, 0);
  v128.store(stB, b2, 16);
  v128.store(stB, b1, 32);
  v128.store(stB, b0, 48);
}

/**
 * SM4-ECB over `len` bytes at `data` (a multiple of 16), in place, under the 16-byte key at `key`.
 * Four blocks per pass; in the last pass the missing lanes repeat the last block.
 */
export function sm4Ecb(key: usize, data: usize, len: i32, decrypt: i32, scratch: usize): void {
  const rk = scratch + SM4_RK;
  const st = scratch + SM4_STATE;
  loadLanes(st, key, key, key, key, false);
  sm4ExpandKeys(rk, st);
  const last = data + <usize>len - 16;
  for (let p = data; p <= last; p += 64) {
    const p1 = min(p + 16, last);
    const p2 = min(p + 32, last);
    const p3 = min(p + 48, last);
    loadLanes(st, p, p1, p2, p3, false);
    sm4Rounds(rk, st, decrypt != 0);
    storeLanes(st, p, p1, p2, p3);
  }
}

/**
 * SM4-CBC with IV = 0 over `len` bytes at `msg` (a non-zero multiple of 16; the caller pads), writing
 * the last ciphertext block to `out` (16 bytes). CBC is sequential, so all four lanes carry the same
 * chain; a single MAC is short, and batches of MACs go through token2SecureFrames instead.
 */
export function sm4CbcMac(key: usize, msg: usize, len: i32, out: usize, scratch: usize): void {
  const rk = scratch + SM4_RK;
  const st = scratch + SM4_STATE;
  loadLanes(st, key, key, key, key, false);
  sm4ExpandKeys(rk, st);
  v128.store(st, i32x4.splat(0), 0);
  v128.store(st, i32x4.splat(0), 16);
  v128.store(st, i32x4.splat(0), 32);
  v128.store(st, i32x4.splat(0), 48);
  const end = msg + <usize>len;
  for (let p = msg; p < end; p += 16) {
    loadLanes(st, p, p, p, p, true);
    sm4Rounds(rk, st, false);
  }
  const dummy = scratch + SM4_DUMMY;
  storeLanes(st, out, dummy, dummy, dummy);
}
