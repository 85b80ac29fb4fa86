// SHA-256 compression (FIPS 180-4 §6.2.2), scalar and 4-lane.
//
// The scalar block reads the 16 message words from W[0..15] (the caller loads them) and expands the
// schedule in place; the 4-lane code expands a schedule wherever the caller keeps it. Rounds run in 8-round cycles with the working variables renamed each round, so a cycle ends with every
// variable back in its starting role and the loop needs no moves.
import { W } from "./scratch";

// FIPS 180-4 §5.3.3 and §4.2.2 (square and cube roots of the first primes).
export const SHA256_IV = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
const K = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

// ---- scalar: state = 8 u32 at st, W word t at W + 4t ----

@inline function sigma0(x: u32): u32 {
  return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
}
@inline function sigma1(x: u32): u32 {
  return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >>> 10);
}
/** T1 of a round (h + Σ1(e) + Ch(e,f,g) + K[t] + W[t]), `kw` = K[t] + W[t]. */
@inline function t1(e: u32, f: u32, g: u32, h: u32, kw: u32): u32 {
  // Terms that do not depend on the previous round come first: a shorter dependency chain.
  return (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25)) + ((g ^ (e & (f ^ g))) + (h + kw));
}
/** T2 of a round: Σ0(a) + Maj(a,b,c). */
@inline function t2(a: u32, b: u32, c: u32): u32 {
  return (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22)) + ((a & b) | (c & (a | b)));
}

/** Compresses the block in W[0..15] into the scalar state at `st`. */
export function sha256Block(st: usize): void {
  for (let p = W; p < W + 48 * 4; p += 4) {
    store<u32>(p, sigma1(load<u32>(p, 56)) + load<u32>(p, 36) + sigma0(load<u32>(p, 4)) + load<u32>(p), 64);
  }
  let a = load<u32>(st, 0), b = load<u32>(st, 4), c = load<u32>(st, 8), d = load<u32>(st, 12);
  let e = load<u32>(st, 16), f = load<u32>(st, 20), g = load<u32>(st, 24), h = load<u32>(st, 28);
  for (let p = W, k = K; p < W + 64 * 4; p += 32, k += 32) {
    h = t1(e, f, g, h, load<u32>(k, 0) + load<u32>(p, 0)); d += h; h += t2(a, b, c);
    g = t1(d, e, f, g, load<u32>(k, 4) + load<u32>(p, 4)); c += g; g += t2(h, a, b);
    f = t1(c, d, e, f, load<u32>(k, 8) + load<u32>(p, 8)); b += f; f += t2(g, h, a);
    e = t1(b, c, d, e, load<u32>(k, 12) + load<u32>(p, 12)); a += e; e += t2(f, g, h);
    d = t1(a, b, c, d, load<u32>(k, 16) + load<u32>(p, 16)); h += d; d += t2(e, f, g);
    c = t1(h, a, b, c, load<u32>(k, 20) + load<u32>(p, 20)); g += c; c += t2(d, e, f);
    b = t1(g, h, a, b, load<u32>(k, 24) + load<u32>(p, 24)); f += b; b += t2(c, d, e);
    a = t1(f, g, h, a, load<u32>(k, 28) + load<u32>(p, 28)); e += a; a += t2(b, c, d);
  }
  store<u32>(st, load<u32>(st, 0) + a, 0);
  store<u32>(st, load<u32>(st, 4) + b, 4);
  store<u32>(st, load<u32>(st, 8) + c, 8);
  store<u32>(st, load<u32>(st, 12) + d, 12);
  store<u32>(st, load<u32>(st, 16) + e, 16);
  store<u32>(st, load<u32>(st, 20) + f, 20);
  store<u32>(st, load<u32>(st, 24) + g, 24);
  store<u32>(st, load<u32>(st, 28) + h, 28);
}

// ---- 4 lanes: state word i at st + 16i, W word t at W + 16t, lane j = message j ----

// WebAssembly SIMD has no lane rotate: two shifts and an or.
@inline function rotr4(x: v128, n: i32): v128 {
  return v128.or(i32x4.shr_u(x, n), i32x4.shl(x, 32 - n));
}
@inline function sigma04(x: v128): v128 {
  return v128.xor(v128.xor(rotr4(x, 7), rotr4(x, 18)), i32x4.shr_u(x, 3));
}
@inline function sigma14(x: v128): v128 {
  return v128.xor(v128.xor(rotr4(x, 17), rotr4(x, 19)), i32x4.shr_u(x, 10));
}
@inline function t14(e: v128, f: v128, g: v128, h: v128, kw: v128): v128 {
  const s1 = v128.xor(v128.xor(rotr4(e, 6), rotr4(e, 11)), rotr4(e, 25));
  // Σ1(e) last: it is the longest path from the previous round.
  return i32x4.add(s1, i32x4.add(v128.bitselect(f, g, e), i32x4.add(h, kw)));
}
// Majority: where a and b agree it is their value, elsewhere c decides.
@inline function t24(a: v128, b: v128, c: v128): v128 {
  const s0 = v128.xor(v128.xor(rotr4(a, 2), rotr4(a, 13)), rotr4(a, 22));
  return i32x4.add(s0, v128.bitselect(c, a, v128.xor(a, b)));
}

/** Expands the 4-lane schedule at `w` from its first 16 words to 64. */
export function sha256Expand4(w: usize): void {
  for (let p = w; p < w + 48 * 16; p += 16) {
    const x = i32x4.add(i32x4.add(sigma14(v128.load(p, 224)), v128.load(p, 144)), i32x4.add(sigma04(v128.load(p, 16)), v128.load(p)));
    v128.store(p, x, 256);
  }
}

/** Expands two 4-lane schedules at once, interleaved for the same reason as sha1Expand8. */
export function sha256Expand8(w: usize, w2: usize): void {
  expand8From(w, w2, 16);
}

/** Words `from`..63 of two 4-lane schedules, interleaved. */
@inline function expand8From(w: usize, w2: usize, from: usize): void {
  for (let p = w + (from - 16) * 16, q = w2 + (from - 16) * 16; p < w + 48 * 16; p += 16, q += 16) {
    const x = i32x4.add(i32x4.add(sigma14(v128.load(p, 224)), v128.load(p, 144)), i32x4.add(sigma04(v128.load(p, 16)), v128.load(p)));
    const y = i32x4.add(i32x4.add(sigma14(v128.load(q, 224)), v128.load(q, 144)), i32x4.add(sigma04(v128.load(q, 16)), v128.load(q)));
    v128.store(p, x, 256);
    v128.store(q, y, 256);
  }
}

// The outer HMAC block (RFC 2104 §2) after a 32-byte inner digest: W0..W7 the digest, W8 = 0x80000000
// (padding, FIPS 180-4 §5.1.1), W9..W14 = 0, W15 = (64 + 32) * 8 bits. Terms of the schedule recurrence
// on them are constants: σ1(W15) = 0x01e00000, σ0(W8) = 0x11002000, σ0(W15) = 0x00c00066.
const OUTER_W8: u32 = 0x80000000;
const OUTER_W15: u32 = (64 + 32) * 8;
const SIGMA1_W15: u32 = 0x01e00000;
const SIGMA0_W8: u32 = 0x11002000;
const SIGMA0_W15: u32 = 0x00c00066;

/**
 * W8..W30 of an outer block whose digest words are at w..w+112: W8..W15 stored as constants, and
 * W16..W30 without the terms on zero words (σ0 of W9..W14 vanishes from W24..W29 on).
 */
@inline function expandOuterHead(w: usize): void {
  const d0 = v128.load(w, 0), d1 = v128.load(w, 16), d2 = v128.load(w, 32), d3 = v128.load(w, 48);
  const d4 = v128.load(w, 64), d5 = v128.load(w, 80), d6 = v128.load(w, 96), d7 = v128.load(w, 112);
  const c15 = i32x4.splat(<i32>OUTER_W15), zero = i32x4.splat(0);
  v128.store(w, i32x4.splat(<i32>OUTER_W8), 8 * 16);
  v128.store(w, zero, 9 * 16); v128.store(w, zero, 10 * 16); v128.store(w, zero, 11 * 16);
  v128.store(w, zero, 12 * 16); v128.store(w, zero, 13 * 16); v128.store(w, zero, 14 * 16);
  v128.store(w, c15, 15 * 16);
  const w16 = i32x4.add(sigma04(d1), d0);
  const w17 = i32x4.add(i32x4.add(sigma04(d2), d1), i32x4.splat(<i32>SIGMA1_W15));
  const w18 = i32x4.add(sigma14(w16), i32x4.add(sigma04(d3), d2));
  const w19 = i32x4.add(sigma14(w17), i32x4.add(sigma04(d4), d3));
  const w20 = i32x4.add(sigma14(w18), i32x4.add(sigma04(d5), d4));
  const w21 = i32x4.add(sigma14(w19), i32x4.add(sigma04(d6), d5));
  const w22 = i32x4.add(sigma14(w20), i32x4.add(i32x4.add(sigma04(d7), d6), c15));
  const w23 = i32x4.add(sigma14(w21), i32x4.add(i32x4.add(w16, d7), i32x4.splat(<i32>SIGMA0_W8)));
  const w24 = i32x4.add(sigma14(w22), i32x4.add(w17, i32x4.splat(<i32>OUTER_W8)));
  const w25 = i32x4.add(sigma14(w23), w18);
  const w26 = i32x4.add(sigma14(w24), w19);
  const w27 = i32x4.add(sigma14(w25), w20);
  const w28 = i32x4.add(sigma14(w26), w21);
  const w29 = i32x4.add(sigma14(w27), w22);
  const w30 = i32x4.add(sigma14(w28), i32x4.add(w23, i32x4.splat(<i32>SIGMA0_W15)));
  v128.store(w, w16, 16 * 16); v128.store(w, w17, 17 * 16); v128.store(w, w18, 18 * 16);
  v128.store(w, w19, 19 * 16); v128.store(w, w20, 20 * 16); v128.store(w, w21, 21 * 16);
  v128.store(w, w22, 22 * 16); v128.store(w, w23, 23 * 16); v128.store(w, w24, 24 * 16);
  v128.store(w, w25, 25 * 16); v128.store(w, w26, 26 * 16); v128.store(w, w27, 27 * 16);
  v128.store(w, w28, 28 * 16); v128.store(w, w29, 29 * 16); v128.store(w, w30, 30 * 16);
}

/**
 * Lays out and expands the outer HMAC blocks of two groups whose inner digests are in w[0..7],
 * w2[0..7]: the constant words' terms are skipped up to W30, the general recurrence runs from W31.
 */
export function sha256ExpandOuter8(w: usize, w2: usize): void {
  expandOuterHead(w);
  expandOuterHead(w2);
  expand8From(w, w2, 31);
}

/**
 * Runs the 64 rounds over the expanded 4-lane schedule at `w` from the 4-lane state at `st` into `out`
 * (which may be `st`). Split from the expansion so that a schedule shared by every lane group (one
 * counter for all keys) is expanded once.
 */
export function sha256Rounds4(st: usize, w: usize, out: usize): void {
  let a = v128.load(st, 0), b = v128.load(st, 16), c = v128.load(st, 32), d = v128.load(st, 48);
  let e = v128.load(st, 64), f = v128.load(st, 80), g = v128.load(st, 96), h = v128.load(st, 112);
  // v128.load32_splat broadcasts K[t] to the 4 lanes straight from the scalar table.
  for (let p = w, k = K; p < w + 64 * 16; p += 128, k += 32) {
    h = t14(e, f, g, h, i32x4.add(v128.load32_splat(k, 0), v128.load(p, 0))); d = i32x4.add(d, h); h = i32x4.add(h, t24(a, b, c));
    g = t14(d, e, f, g, i32x4.add(v128.load32_splat(k, 4), v128.load(p, 16))); c = i32x4.add(c, g); g = i32x4.add(g, t24(h, a, b));
    f = t14(c, d, e, f, i32x4.add(v128.load32_splat(k, 8), v128.load(p, 32))); b = i32x4.add(b, f); f = i32x4.add(f, t24(g, h, a));
    e = t14(b, c, d, e, i32x4.add(v128.load32_splat(k, 12), v128.load(p, 48))); a = i32x4.add(a, e); e = i32x4.add(e, t24(f, g, h));
    d = t14(a, b, c, d, i32x4.add(v128.load32_splat(k, 16), v128.load(p, 64))); h = i32x4.add(h, d); d = i32x4.add(d, t24(e, f, g));
    c = t14(h, a, b, c, i32x4.add(v128.load32_splat(k, 20), v128.load(p, 80))); g = i32x4.add(g, c); c = i32x4.add(c, t24(d, e, f));
    b = t14(g, h, a, b, i32x4.add(v128.load32_splat(k, 24), v128.load(p, 96))); f = i32x4.add(f, b); b = i32x4.add(b, t24(c, d, e));
    a = t14(f, g, h, a, i32x4.add(v128.load32_splat(k, 28), v128.load(p, 112))); e = i32x4.add(e, a); a = i32x4.add(a, t24(b, c, d));
  }
  v128.store(out, i32x4.add(v128.load(st, 0), a), 0);
  v128.store(out, i32x4.add(v128.load(st, 16), b), 16);
  v128.store(out, i32x4.add(v128.load(st, 32), c), 32);
  v128.store(out, i32x4.add(v128.load(st, 48), d), 48);
  v128.store(out, i32x4.add(v128.load(st, 64), e), 64);
  v128.store(out, i32x4.add(v128.load(st, 80), f), 80);
  v128.store(out, i32x4.add(v128.load(st, 96), g), 96);
  v128.store(out, i32x4.add(v128.load(st, 112), h), 112);
}

