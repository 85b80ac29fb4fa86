// SHA-1 compression (FIPS 180-4 §6.1.2), scalar and 4-lane.
//
// The scalar block reads the 16 message words from W[0..15] (the caller loads them) and expands the
// schedule in place; the 4-lane code expands a schedule wherever the caller keeps it. Rounds run in 5-round cycles: renaming the working variables each round instead of shifting them
// leaves them in their starting roles after 5 rounds, so a loop over cycles needs no moves at all.
import { W } from "./scratch";

export const SHA1_IV = memory.data<u32>([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);

// The round constants, also splatted to 4 lanes: the 4-lane rounds load them from memory once per
// 20 rounds, because a v128 constant inlined into every round costs V8 several instructions each time.
const K4 = memory.data<u32>([
  0x5a827999, 0x5a827999, 0x5a827999, 0x5a827999, 0x6ed9eba1, 0x6ed9eba1, 0x6ed9eba1, 0x6ed9eba1,
  0x8f1bbcdc, 0x8f1bbcdc, 0x8f1bbcdc, 0x8f1bbcdc, 0xca62c1d6, 0xca62c1d6, 0xca62c1d6, 0xca62c1d6,
], 16);
const K0: u32 = 0x5a827999;
const K1: u32 = 0x6ed9eba1;
const K2: u32 = 0x8f1bbcdc;
const K3: u32 = 0xca62c1d6;

// ---- scalar: state = 5 u32 at st, W word t at W + 4t ----

@inline function ch(b: u32, c: u32, d: u32): u32 {
  return d ^ (b & (c ^ d));
}
@inline function parity(b: u32, c: u32, d: u32): u32 {
  return b ^ c ^ d;
}
@inline function maj(b: u32, c: u32, d: u32): u32 {
  return (b & c) | (d & (b | c));
}
/** One round's new value of the fifth variable: e + rotl5(a) + f + K + W[t]. */
// The previous round's result `a` enters last, so the dependency chain per round is a rotate and one add.
@inline function step(a: u32, e: u32, f: u32, kw: u32): u32 {
  return rotl<u32>(a, 5) + (f + (e + kw));
}

/** Compresses the block in W[0..15] into the scalar state at `st`. */
export function sha1Block(st: usize): void {
  for (let p = W; p < W + 64 * 4; p += 4) {
    store<u32>(p, rotl<u32>(load<u32>(p, 52) ^ load<u32>(p, 32) ^ load<u32>(p, 8) ^ load<u32>(p), 1), 64);
  }
  let a = load<u32>(st, 0), b = load<u32>(st, 4), c = load<u32>(st, 8), d = load<u32>(st, 12), e = load<u32>(st, 16);
  let p = W;
  for (const end = W + 20 * 4; p < end; p += 20) {
    e = step(a, e, ch(b, c, d), K0 + load<u32>(p, 0)); b = rotl<u32>(b, 30);
    d = step(e, d, ch(a, b, c), K0 + load<u32>(p, 4)); a = rotl<u32>(a, 30);
    c = step(d, c, ch(e, a, b), K0 + load<u32>(p, 8)); e = rotl<u32>(e, 30);
    b = step(c, b, ch(d, e, a), K0 + load<u32>(p, 12)); d = rotl<u32>(d, 30);
    a = step(b, a, ch(c, d, e), K0 + load<u32>(p, 16)); c = rotl<u32>(c, 30);
  }
  for (const end = W + 40 * 4; p < end; p += 20) {
    e = step(a, e, parity(b, c, d), K1 + load<u32>(p, 0)); b = rotl<u32>(b, 30);
    d = step(e, d, parity(a, b, c), K1 + load<u32>(p, 4)); a = rotl<u32>(a, 30);
    c = step(d, c, parity(e, a, b), K1 + load<u32>(p, 8)); e = rotl<u32>(e, 30);
    b = step(c, b, parity(d, e, a), K1 + load<u32>(p, 12)); d = rotl<u32>(d, 30);
    a = step(b, a, parity(c, d, e), K1 + load<u32>(p, 16)); c = rotl<u32>(c, 30);
  }
  for (const end = W + 60 * 4; p < end; p += 20) {
    e = step(a, e, maj(b, c, d), K2 + load<u32>(p, 0)); b = rotl<u32>(b, 30);
    d = step(e, d, maj(a, b, c), K2 + load<u32>(p, 4)); a = rotl<u32>(a, 30);
    c = step(d, c, maj(e, a, b), K2 + load<u32>(p, 8)); e = rotl<u32>(e, 30);
    b = step(c, b, maj(d, e, a), K2 + load<u32>(p, 12)); d = rotl<u32>(d, 30);
    a = step(b, a, maj(c, d, e), K2 + load<u32>(p, 16)); c = rotl<u32>(c, 30);
  }
  for (const end = W + 80 * 4; p < end; p += 20) {
    e = step(a, e, parity(b, c, d), K3 + load<u32>(p, 0)); b = rotl<u32>(b, 30);
    d = step(e, d, parity(a, b, c), K3 + load<u32>(p, 4)); a = rotl<u32>(a, 30);
    c = step(d, c, parity(e, a, b), K3 + load<u32>(p, 8)); e = rotl<u32>(e, 30);
    b = step(c, b, parity(d, e, a), K3 + load<u32>(p, 12)); d = rotl<u32>(d, 30);
    a = step(b, a, parity(c, d, e), K3 + load<u32>(p, 16)); c = rotl<u32>(c, 30);
  }
  store<u32>(st, load<u32>(st, 0) + a, 0);
  store<u32>(st, load<u32>(st, 4) + b, 4);
  store<u32>(st, load<u32>(st, 8) + c, 8);
  store<u32>(st, load<u32>(st, 12) + d, 12);
  store<u32>(st, load<u32>(st, 16) + e, 16);
}

// ---- 4 lanes: state word i at st + 16i, W word t at W + 16t, lane j = message j ----

// WebAssembly SIMD has no lane rotate: two shifts and an or.
@inline function rotl4(x: v128, n: i32): v128 {
  return v128.or(i32x4.shl(x, n), i32x4.shr_u(x, 32 - n));
}
@inline function ch4(b: v128, c: v128, d: v128): v128 {
  return v128.bitselect(c, d, b);
}
@inline function parity4(b: v128, c: v128, d: v128): v128 {
  return v128.xor(v128.xor(b, c), d);
}
// Majority: where b and c agree it is their value, elsewhere d decides.
@inline function maj4(b: v128, c: v128, d: v128): v128 {
  return v128.bitselect(d, b, v128.xor(b, c));
}
// As in the scalar step: `a` last, to keep the round's dependency chain short.
@inline function step4(a: v128, e: v128, f: v128, kw: v128): v128 {
  return i32x4.add(rotl4(a, 5), i32x4.add(f, i32x4.add(e, kw)));
}
/** K + W[t], or W[t] alone when the schedule already holds K (see sha1AddK4). */
@inline function kw4(k: v128, w: v128, withK: bool): v128 {
  return withK ? i32x4.add(k, w) : w;
}

/** Expands the 4-lane schedule at `w` from its first 16 words to 80. */
export function sha1Expand4(w: usize): void {
  for (let p = w; p < w + 64 * 16; p += 16) {
    const x = v128.xor(v128.xor(v128.load(p, 208), v128.load(p, 128)), v128.xor(v128.load(p, 32), v128.load(p)));
    v128.store(p, rotl4(x, 1), 256);
  }
}

/**
 * Expands two 4-lane schedules at once. Each word depends on one written 3 steps earlier, through
 * memory: one schedule alone waits on that chain, so two are interleaved.
 */
export function sha1Expand8(w: usize, w2: usize): void {
  expand8(w, w2, 16, 80);
}

/** Words `from`..`to` - 1 of two 4-lane schedules, interleaved. */
@inline function expand8(w: usize, w2: usize, from: usize, to: usize): void {
  for (let p = w + (from - 16) * 16, q = w2 + (from - 16) * 16; p < w + (to - 16) * 16; p += 16, q += 16) {
    const x = v128.xor(v128.xor(v128.load(p, 208), v128.load(p, 128)), v128.xor(v128.load(p, 32), v128.load(p)));
    const y = v128.xor(v128.xor(v128.load(q, 208), v128.load(q, 128)), v128.xor(v128.load(q, 32), v128.load(q)));
    v128.store(p, rotl4(x, 1), 256);
    v128.store(q, rotl4(y, 1), 256);
  }
}

/**
 * The rounds of two interleaved groups, from the states at `st`, `st2` into `out`, `out2` (which may be
 * the same). `withK` false when the schedule already holds K. A 5-round loop body, kept small:
 * V8 compiles bigger bodies worse (the variants measured slower are in docs/BENCHMARKS.md).
 */
@inline function rounds8(
  st: usize, st2: usize, w: usize, w2: usize, out: usize, out2: usize, withK: bool,
): void {
  let a = v128.load(st, 0), b = v128.load(st, 16), c = v128.load(st, 32), d = v128.load(st, 48), e = v128.load(st, 64);
  let a2 = v128.load(st2, 0), b2 = v128.load(st2, 16), c2 = v128.load(st2, 32), d2 = v128.load(st2, 48), e2 = v128.load(st2, 64);
  let p = w, q = w2;
  let k = v128.load(K4, 0);
  for (const end = w + 20 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, ch4(b, c, d), kw4(k, v128.load(p, 0), withK)); b = rotl4(b, 30);
    e2 = step4(a2, e2, ch4(b2, c2, d2), kw4(k, v128.load(q, 0), withK)); b2 = rotl4(b2, 30);
    d = step4(e, d, ch4(a, b, c), kw4(k, v128.load(p, 16), withK)); a = rotl4(a, 30);
    d2 = step4(e2, d2, ch4(a2, b2, c2), kw4(k, v128.load(q, 16), withK)); a2 = rotl4(a2, 30);
    c = step4(d, c, ch4(e, a, b), kw4(k, v128.load(p, 32), withK)); e = rotl4(e, 30);
    c2 = step4(d2, c2, ch4(e2, a2, b2), kw4(k, v128.load(q, 32), withK)); e2 = rotl4(e2, 30);
    b = step4(c, b, ch4(d, e, a), kw4(k, v128.load(p, 48), withK)); d = rotl4(d, 30);
    b2 = step4(c2, b2, ch4(d2, e2, a2), kw4(k, v128.load(q, 48), withK)); d2 = rotl4(d2, 30);
    a = step4(b, a, ch4(c, d, e), kw4(k, v128.load(p, 64), withK)); c = rotl4(c, 30);
    a2 = step4(b2, a2, ch4(c2, d2, e2), kw4(k, v128.load(q, 64), withK)); c2 = rotl4(c2, 30);
  }
  k = v128.load(K4, 16);
  for (const end = w + 40 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, parity4(b, c, d), kw4(k, v128.load(p, 0), withK)); b = rotl4(b, 30);
    e2 = step4(a2, e2, parity4(b2, c2, d2), kw4(k, v128.load(q, 0), withK)); b2 = rotl4(b2, 30);
    d = step4(e, d, parity4(a, b, c), kw4(k, v128.load(p, 16), withK)); a = rotl4(a, 30);
    d2 = step4(e2, d2, parity4(a2, b2, c2), kw4(k, v128.load(q, 16), withK)); a2 = rotl4(a2, 30);
    c = step4(d, c, parity4(e, a, b), kw4(k, v128.load(p, 32), withK)); e = rotl4(e, 30);
    c2 = step4(d2, c2, parity4(e2, a2, b2), kw4(k, v128.load(q, 32), withK)); e2 = rotl4(e2, 30);
    b = step4(c, b, parity4(d, e, a), kw4(k, v128.load(p, 48), withK)); d = rotl4(d, 30);
    b2 = step4(c2, b2, parity4(d2, e2, a2), kw4(k, v128.load(q, 48), withK)); d2 = rotl4(d2, 30);
    a = step4(b, a, parity4(c, d, e), kw4(k, v128.load(p, 64), withK)); c = rotl4(c, 30);
    a2 = step4(b2, a2, parity4(c2, d2, e2), kw4(k, v128.load(q, 64), withK)); c2 = rotl4(c2, 30);
  }
  k = v128.load(K4, 32);
  for (const end = w + 60 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, maj4(b, c, d), kw4(k, v128.load(p, 0), withK)); b = rotl4(b, 30);
    e2 = step4(a2, e2, maj4(b2, c2, d2), kw4(k, v128.load(q, 0), withK)); b2 = rotl4(b2, 30);
    d = step4(e, d, maj4(a, b, c), kw4(k, v128.load(p, 16), withK)); a = rotl4(a, 30);
    d2 = step4(e2, d2, maj4(a2, b2, c2), kw4(k, v128.load(q, 16), withK)); a2 = rotl4(a2, 30);
    c = step4(d, c, maj4(e, a, b), kw4(k, v128.load(p, 32), withK)); e = rotl4(e, 30);
    c2 = step4(d2, c2, maj4(e2, a2, b2), kw4(k, v128.load(q, 32), withK)); e2 = rotl4(e2, 30);
    b = step4(c, b, maj4(d, e, a), kw4(k, v128.load(p, 48), withK)); d = rotl4(d, 30);
    b2 = step4(c2, b2, maj4(d2, e2, a2), kw4(k, v128.load(q, 48), withK)); d2 = rotl4(d2, 30);
    a = step4(b, a, maj4(c, d, e), kw4(k, v128.load(p, 64), withK)); c = rotl4(c, 30);
    a2 = step4(b2, a2, maj4(c2, d2, e2), kw4(k, v128.load(q, 64), withK)); c2 = rotl4(c2, 30);
  }
  k = v128.load(K4, 48);
  for (const end = w + 80 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, parity4(b, c, d), kw4(k, v128.load(p, 0), withK)); b = rotl4(b, 30);
    e2 = step4(a2, e2, parity4(b2, c2, d2), kw4(k, v128.load(q, 0), withK)); b2 = rotl4(b2, 30);
    d = step4(e, d, parity4(a, b, c), kw4(k, v128.load(p, 16), withK)); a = rotl4(a, 30);
    d2 = step4(e2, d2, parity4(a2, b2, c2), kw4(k, v128.load(q, 16), withK)); a2 = rotl4(a2, 30);
    c = step4(d, c, parity4(e, a, b), kw4(k, v128.load(p, 32), withK)); e = rotl4(e, 30);
    c2 = step4(d2, c2, parity4(e2, a2, b2), kw4(k, v128.load(q, 32), withK)); e2 = rotl4(e2, 30);
    b = step4(c, b, parity4(d, e, a), kw4(k, v128.load(p, 48), withK)); d = rotl4(d, 30);
    b2 = step4(c2, b2, parity4(d2, e2, a2), kw4(k, v128.load(q, 48), withK)); d2 = rotl4(d2, 30);
    a = step4(b, a, parity4(c, d, e), kw4(k, v128.load(p, 64), withK)); c = rotl4(c, 30);
    a2 = step4(b2, a2, parity4(c2, d2, e2), kw4(k, v128.load(q, 64), withK)); c2 = rotl4(c2, 30);
  }
  v128.store(out, i32x4.add(v128.load(st, 0), a), 0);
  v128.store(out, i32x4.add(v128.load(st, 16), b), 16);
  v128.store(out, i32x4.add(v128.load(st, 32), c), 32);
  v128.store(out, i32x4.add(v128.load(st, 48), d), 48);
  v128.store(out, i32x4.add(v128.load(st, 64), e), 64);
  v128.store(out2, i32x4.add(v128.load(st2, 0), a2), 0);
  v128.store(out2, i32x4.add(v128.load(st2, 16), b2), 16);
  v128.store(out2, i32x4.add(v128.load(st2, 32), c2), 32);
  v128.store(out2, i32x4.add(v128.load(st2, 48), d2), 48);
  v128.store(out2, i32x4.add(v128.load(st2, 64), e2), 64);
}

/**
 * Runs the 80 rounds for two independent 4-lane groups at once: state `st` over the expanded schedule
 * at `w` into `out`, state `st2` over `w2` into `out2` (the states are read only; `out` may be `st`,
 * or the schedule's first words, which the rounds have finished reading). One group alone is bound by the latency of the round's dependency
 * chain; a second interleaved group fills those waits, while a third runs out of the 16 xmm
 * registers V8 allocates from. An odd last group runs with a copy of itself: it costs about the same.
 */
export function sha1Rounds8(st: usize, st2: usize, w: usize, w2: usize, out: usize, out2: usize): void {
  rounds8(st, st2, w, w2, out, out2, true);
}

/**
 * Adds the round constants into an expanded 4-lane schedule that many groups share (one counter for
 * all keys), so that {@link sha1RoundsWK8} saves an add in every round of every group.
 */
export function sha1AddK4(w: usize): void {
  for (let t: usize = 0; t < 80; t++) {
    v128.store(w + (t << 4), i32x4.add(v128.load(w + (t << 4)), v128.load(K4 + ((t / 20) << 4))));
  }
}

/**
 * As {@link sha1Rounds8}, both groups over one schedule that already holds W[t] + K (sha1AddK4), from
 * the states at `st`, `st2` (left unchanged) into `out`, `out2`.
 */
export function sha1RoundsWK8(st: usize, st2: usize, w: usize, out: usize, out2: usize): void {
  rounds8(st, st2, w, w, out, out2, false);
}

// The outer HMAC block (RFC 2104 §2) after a 20-byte inner digest: W0..W4 the digest, W5 = 0x80000000
// (padding, FIPS 180-4 §5.1.1), W6..W14 = 0, W15 = (64 + 20) * 8 bits.
const OUTER_W5: u32 = 0x80000000;
const OUTER_W15: u32 = (64 + 20) * 8;

/**
 * W5..W30 of an outer block whose digest words are at w..w+64: the constant words, then W16..W30, in
 * which 18 of the 45 XORs remain (W22 is rotl1(W19) alone).
 */
@inline function expandOuterHead(w: usize): void {
  const c5 = i32x4.splat(<i32>OUTER_W5), c15 = i32x4.splat(<i32>OUTER_W15);
  const d0 = v128.load(w, 0), d1 = v128.load(w, 16), d2 = v128.load(w, 32), d3 = v128.load(w, 48), d4 = v128.load(w, 64);
  const w16 = rotl4(v128.xor(d2, d0), 1);
  const w17 = rotl4(v128.xor(d3, d1), 1);
  const w18 = rotl4(v128.xor(v128.xor(d4, d2), c15), 1);
  const w19 = rotl4(v128.xor(v128.xor(w16, d3), c5), 1);
  const w20 = rotl4(v128.xor(w17, d4), 1);
  const w21 = rotl4(v128.xor(w18, c5), 1);
  const w22 = rotl4(w19, 1);
  const w23 = rotl4(v128.xor(w20, c15), 1);
  const w24 = rotl4(v128.xor(w21, w16), 1);
  const w25 = rotl4(v128.xor(w22, w17), 1);
  const w26 = rotl4(v128.xor(w23, w18), 1);
  const w27 = rotl4(v128.xor(w24, w19), 1);
  const w28 = rotl4(v128.xor(w25, w20), 1);
  const w29 = rotl4(v128.xor(v128.xor(w26, w21), c15), 1);
  const w30 = rotl4(v128.xor(v128.xor(w27, w22), w16), 1);
  v128.store(w, c5, 5 * 16);
  for (let t: usize = 6; t < 15; t++) v128.store(w + t * 16, i32x4.splat(0));
  v128.store(w, c15, 15 * 16);
  v128.store(w, w16, 16 * 16); v128.store(w, w17, 17 * 16); v128.store(w, w18, 18 * 16);
  v128.store(w, w19, 19 * 16); v128.store(w, w20, 20 * 16); v128.store(w, w21, 21 * 16);
  v128.store(w, w22, 22 * 16); v128.store(w, w23, 23 * 16); v128.store(w, w24, 24 * 16);
  v128.store(w, w25, 25 * 16); v128.store(w, w26, 26 * 16); v128.store(w, w27, 27 * 16);
  v128.store(w, w28, 28 * 16); v128.store(w, w29, 29 * 16); v128.store(w, w30, 30 * 16);
}

/** Round of the outer block from which each round expands its own schedule word (outerRounds8). */
const FUSED_FROM: usize = 35;

/**
 * W[t] of a 4-lane schedule (FIPS 180-4 §6.1.2 step 1) whose W[t-16] is at `r`, also stored at W[t]
 * for the words after it.
 */
@inline function next4(r: usize): v128 {
  const x = rotl4(v128.xor(v128.xor(v128.load(r, 208), v128.load(r, 128)), v128.xor(v128.load(r, 32), v128.load(r))), 1);
  v128.store(r, x, 256);
  return x;
}

/**
 * The rounds of two outer blocks whose schedules at `w`, `w2` hold W0..W{FUSED_FROM - 1}: from round
 * FUSED_FROM on, each round expands its own W[t] (next4) instead of loading it from a separate
 * expansion pass. That saves the pass's loop and a load a word, and the stores keep V8 from hoisting
 * a whole cycle's loads to the top of the loop and spilling them (figures in docs/BENCHMARKS.md).
 */
@inline function outerRounds8(st: usize, st2: usize, w: usize, w2: usize, out: usize, out2: usize): void {
  let a = v128.load(st, 0), b = v128.load(st, 16), c = v128.load(st, 32), d = v128.load(st, 48), e = v128.load(st, 64);
  let a2 = v128.load(st2, 0), b2 = v128.load(st2, 16), c2 = v128.load(st2, 32), d2 = v128.load(st2, 48), e2 = v128.load(st2, 64);
  let p = w, q = w2;
  let k = v128.load(K4, 0);
  for (const end = w + 20 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, ch4(b, c, d), i32x4.add(k, v128.load(p, 0))); b = rotl4(b, 30);
    e2 = step4(a2, e2, ch4(b2, c2, d2), i32x4.add(k, v128.load(q, 0))); b2 = rotl4(b2, 30);
    d = step4(e, d, ch4(a, b, c), i32x4.add(k, v128.load(p, 16))); a = rotl4(a, 30);
    d2 = step4(e2, d2, ch4(a2, b2, c2), i32x4.add(k, v128.load(q, 16))); a2 = rotl4(a2, 30);
    c = step4(d, c, ch4(e, a, b), i32x4.add(k, v128.load(p, 32))); e = rotl4(e, 30);
    c2 = step4(d2, c2, ch4(e2, a2, b2), i32x4.add(k, v128.load(q, 32))); e2 = rotl4(e2, 30);
    b = step4(c, b, ch4(d, e, a), i32x4.add(k, v128.load(p, 48))); d = rotl4(d, 30);
    b2 = step4(c2, b2, ch4(d2, e2, a2), i32x4.add(k, v128.load(q, 48))); d2 = rotl4(d2, 30);
    a = step4(b, a, ch4(c, d, e), i32x4.add(k, v128.load(p, 64))); c = rotl4(c, 30);
    a2 = step4(b2, a2, ch4(c2, d2, e2), i32x4.add(k, v128.load(q, 64))); c2 = rotl4(c2, 30);
  }
  k = v128.load(K4, 16);
  for (const end = w + FUSED_FROM * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, parity4(b, c, d), i32x4.add(k, v128.load(p, 0))); b = rotl4(b, 30);
    e2 = step4(a2, e2, parity4(b2, c2, d2), i32x4.add(k, v128.load(q, 0))); b2 = rotl4(b2, 30);
    d = step4(e, d, parity4(a, b, c), i32x4.add(k, v128.load(p, 16))); a = rotl4(a, 30);
    d2 = step4(e2, d2, parity4(a2, b2, c2), i32x4.add(k, v128.load(q, 16))); a2 = rotl4(a2, 30);
    c = step4(d, c, parity4(e, a, b), i32x4.add(k, v128.load(p, 32))); e = rotl4(e, 30);
    c2 = step4(d2, c2, parity4(e2, a2, b2), i32x4.add(k, v128.load(q, 32))); e2 = rotl4(e2, 30);
    b = step4(c, b, parity4(d, e, a), i32x4.add(k, v128.load(p, 48))); d = rotl4(d, 30);
    b2 = step4(c2, b2, parity4(d2, e2, a2), i32x4.add(k, v128.load(q, 48))); d2 = rotl4(d2, 30);
    a = step4(b, a, parity4(c, d, e), i32x4.add(k, v128.load(p, 64))); c = rotl4(c, 30);
    a2 = step4(b2, a2, parity4(c2, d2, e2), i32x4.add(k, v128.load(q, 64))); c2 = rotl4(c2, 30);
  }
  // From here p, q point at W[t - 16].
  p -= 256;
  q -= 256;
  // Rounds 35 to 39: the rest of the parity rounds, expanding their own words.
  {
    e = step4(a, e, parity4(b, c, d), i32x4.add(k, next4(p + 0))); b = rotl4(b, 30);
    e2 = step4(a2, e2, parity4(b2, c2, d2), i32x4.add(k, next4(q + 0))); b2 = rotl4(b2, 30);
    d = step4(e, d, parity4(a, b, c), i32x4.add(k, next4(p + 16))); a = rotl4(a, 30);
    d2 = step4(e2, d2, parity4(a2, b2, c2), i32x4.add(k, next4(q + 16))); a2 = rotl4(a2, 30);
    c = step4(d, c, parity4(e, a, b), i32x4.add(k, next4(p + 32))); e = rotl4(e, 30);
    c2 = step4(d2, c2, parity4(e2, a2, b2), i32x4.add(k, next4(q + 32))); e2 = rotl4(e2, 30);
    b = step4(c, b, parity4(d, e, a), i32x4.add(k, next4(p + 48))); d = rotl4(d, 30);
    b2 = step4(c2, b2, parity4(d2, e2, a2), i32x4.add(k, next4(q + 48))); d2 = rotl4(d2, 30);
    a = step4(b, a, parity4(c, d, e), i32x4.add(k, next4(p + 64))); c = rotl4(c, 30);
    a2 = step4(b2, a2, parity4(c2, d2, e2), i32x4.add(k, next4(q + 64))); c2 = rotl4(c2, 30);
  }
  p += 80;
  q += 80;
  k = v128.load(K4, 32);
  for (const end = w + 44 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, maj4(b, c, d), i32x4.add(k, next4(p + 0))); b = rotl4(b, 30);
    e2 = step4(a2, e2, maj4(b2, c2, d2), i32x4.add(k, next4(q + 0))); b2 = rotl4(b2, 30);
    d = step4(e, d, maj4(a, b, c), i32x4.add(k, next4(p + 16))); a = rotl4(a, 30);
    d2 = step4(e2, d2, maj4(a2, b2, c2), i32x4.add(k, next4(q + 16))); a2 = rotl4(a2, 30);
    c = step4(d, c, maj4(e, a, b), i32x4.add(k, next4(p + 32))); e = rotl4(e, 30);
    c2 = step4(d2, c2, maj4(e2, a2, b2), i32x4.add(k, next4(q + 32))); e2 = rotl4(e2, 30);
    b = step4(c, b, maj4(d, e, a), i32x4.add(k, next4(p + 48))); d = rotl4(d, 30);
    b2 = step4(c2, b2, maj4(d2, e2, a2), i32x4.add(k, next4(q + 48))); d2 = rotl4(d2, 30);
    a = step4(b, a, maj4(c, d, e), i32x4.add(k, next4(p + 64))); c = rotl4(c, 30);
    a2 = step4(b2, a2, maj4(c2, d2, e2), i32x4.add(k, next4(q + 64))); c2 = rotl4(c2, 30);
  }
  k = v128.load(K4, 48);
  for (const end = w + 64 * 16; p < end; p += 80, q += 80) {
    e = step4(a, e, parity4(b, c, d), i32x4.add(k, next4(p + 0))); b = rotl4(b, 30);
    e2 = step4(a2, e2, parity4(b2, c2, d2), i32x4.add(k, next4(q + 0))); b2 = rotl4(b2, 30);
    d = step4(e, d, parity4(a, b, c), i32x4.add(k, next4(p + 16))); a = rotl4(a, 30);
    d2 = step4(e2, d2, parity4(a2, b2, c2), i32x4.add(k, next4(q + 16))); a2 = rotl4(a2, 30);
    c = step4(d, c, parity4(e, a, b), i32x4.add(k, next4(p + 32))); e = rotl4(e, 30);
    c2 = step4(d2, c2, parity4(e2, a2, b2), i32x4.add(k, next4(q + 32))); e2 = rotl4(e2, 30);
    b = step4(c, b, parity4(d, e, a), i32x4.add(k, next4(p + 48))); d = rotl4(d, 30);
    b2 = step4(c2, b2, parity4(d2, e2, a2), i32x4.add(k, next4(q + 48))); d2 = rotl4(d2, 30);
    a = step4(b, a, parity4(c, d, e), i32x4.add(k, next4(p + 64))); c = rotl4(c, 30);
    a2 = step4(b2, a2, parity4(c2, d2, e2), i32x4.add(k, next4(q + 64))); c2 = rotl4(c2, 30);
  }
  v128.store(out, i32x4.add(v128.load(st, 0), a), 0);
  v128.store(out, i32x4.add(v128.load(st, 16), b), 16);
  v128.store(out, i32x4.add(v128.load(st, 32), c), 32);
  v128.store(out, i32x4.add(v128.load(st, 48), d), 48);
  v128.store(out, i32x4.add(v128.load(st, 64), e), 64);
  v128.store(out2, i32x4.add(v128.load(st2, 0), a2), 0);
  v128.store(out2, i32x4.add(v128.load(st2, 16), b2), 16);
  v128.store(out2, i32x4.add(v128.load(st2, 32), c2), 32);
  v128.store(out2, i32x4.add(v128.load(st2, 48), d2), 48);
  v128.store(out2, i32x4.add(v128.load(st2, 64), e2), 64);
}

/**
 * The outer HMAC compressions of two groups whose inner digests are in w[0..4], w2[0..4]: lays out and
 * expands both schedules, skipping the constant words' terms, then runs the rounds from the outer states
 * at `st`, `st2` (left unchanged) into `out`, `out2`.
 */
export function sha1Outer8(st: usize, st2: usize, w: usize, w2: usize, out: usize, out2: usize): void {
  expandOuterHead(w);
  expandOuterHead(w2);
  // W31 on: the general recurrence, up to where the rounds expand their own words.
  expand8(w, w2, 31, FUSED_FROM);
  outerRounds8(st, st2, w, w2, out, out2);
}
