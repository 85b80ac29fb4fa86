// HOTP (RFC 4226) over many keys: HMAC key states computed once, codes for one counter per key, and
// window searches. SHA-1 and SHA-256 run 4 keys at a time in the lanes of v128; SHA-512 runs scalar.
//
// Buffers (allocated and filled by src/crypto/_batch.ts; n is rounded up to a multiple of 4 for sizes):
// - slots: one key per block-sized slot (64 bytes; 128 for SHA-512), zero-padded; keys longer than a
//   block were hashed by the facade first (RFC 2104 §2);
// - states, SHA-1/SHA-256: per group of 4 keys, the inner state words then the outer ones, word i of
//   lane j at +16i + 4j (2 x 5 x 16 or 2 x 8 x 16 bytes a group); SHA-512: per key, inner 8 u64 then
//   outer 8 u64 (128 bytes);
// - counters: per group of 4, the 4 high halves then the 4 low halves, u32 each (32 bytes a group);
//   (the *CodesAt functions and searches take one counter for all keys as two u32 arguments instead);
// - out: one u32 code per key; search: (key, step) u32 pairs.
import { W, W2, WI, ST, ST2, KT, wipeScratch } from "./scratch";
import { SHA1_IV, sha1Expand4, sha1Rounds8 } from "./sha1";
import { SHA256_IV, sha256Expand4, sha256Rounds4 } from "./sha256";
import { sha512Expand, sha512Rounds } from "./sha512";
import { SHA1, SHA256, SHA512, IPAD, OPAD, initState, loadBlock, compress } from "./md";
import { truncate32, truncate64 } from "./truncate";

/** SHA-1 state: 5 words; SHA-256: 8. */
@inline function words(alg: i32): usize {
  return alg == SHA1 ? 5 : 8;
}

/** Copies `n` v128 words. A loop of loads and stores: memory.copy is a runtime call in V8. */
@inline function copy4(dst: usize, src: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) v128.store(dst + (i << 4), v128.load(src + (i << 4)));
}

@inline function zero4(dst: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) v128.store(dst + (i << 4), i32x4.splat(0));
}

// ---- 4 lanes, two groups (8 keys) at a time: SHA-1, SHA-256 ----
//
// Groups go in pairs (g, g2). With an odd number of groups the last pair is (g, g) and `dup` is set:
// the second copy's results are never stored. SHA-1 interleaves the two groups' rounds, which doubles
// throughput; SHA-256 has 16 state vectors, more than V8 keeps in registers for two groups, so it runs
// them one after the other and skips a duplicate.

@inline function expand4(alg: i32, w: usize): void {
  if (alg == SHA1) sha1Expand4(w);
  else sha256Expand4(w);
}

/** Rounds of the pair: ST over schedule `w`, ST2 over `w2`. */
@inline function rounds2(alg: i32, w: usize, w2: usize, dup: bool): void {
  if (alg == SHA1) {
    sha1Rounds8(ST, w, ST2, w2);
  } else {
    sha256Rounds4(ST, w);
    if (!dup) sha256Rounds4(ST2, w2);
  }
}

@inline function bswap4(x: v128): v128 {
  return v128.shuffle<u8>(x, x, 3, 2, 1, 0, 7, 6, 5, 4, 11, 10, 9, 8, 15, 14, 13, 12);
}

/**
 * Transposes the 4 keys in the 64-byte slots at `slot` into `dst` as 16 interleaved big-endian words:
 * word t of key j goes to lane j of word t. Per 4 words: 4 loads, a 4x4 transpose, 4 byte swaps.
 */
@inline function transposeKeys4(slot: usize, dst: usize): void {
  for (let q: usize = 0; q < 64; q += 16) {
    const r0 = v128.load(slot + q), r1 = v128.load(slot + 64 + q);
    const r2 = v128.load(slot + 128 + q), r3 = v128.load(slot + 192 + q);
    const t0 = v128.shuffle<i32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<i32>(r2, r3, 0, 4, 1, 5);
    const t2 = v128.shuffle<i32>(r0, r1, 2, 6, 3, 7), t3 = v128.shuffle<i32>(r2, r3, 2, 6, 3, 7);
    const out = dst + (q << 2);
    v128.store(out, bswap4(v128.shuffle<i32>(t0, t1, 0, 1, 4, 5)), 0);
    v128.store(out, bswap4(v128.shuffle<i32>(t0, t1, 2, 3, 6, 7)), 16);
    v128.store(out, bswap4(v128.shuffle<i32>(t2, t3, 0, 1, 4, 5)), 32);
    v128.store(out, bswap4(v128.shuffle<i32>(t2, t3, 2, 3, 6, 7)), 48);
  }
}

/** Inner and outer HMAC states (RFC 2104 §2) of the keys in `n` 64-byte slots. */
@inline function keyStates4(alg: i32, slots: usize, n: u32, states: usize): void {
  const w = words(alg);
  const iv = alg == SHA1 ? SHA1_IV : SHA256_IV;
  const groups = (n + 3) >> 2;
  for (let g: u32 = 0; g < groups; g += 2) {
    const dup = g + 1 >= groups;
    const g2 = dup ? g : g + 1;
    transposeKeys4(slots + (<usize>g << 8), KT);
    transposeKeys4(slots + (<usize>g2 << 8), KT + 256);
    for (let half: usize = 0; half < 2; half++) {
      const pad = i32x4.splat(half == 0 ? <i32>IPAD : <i32>OPAD);
      for (let t: usize = 0; t < 256; t += 16) {
        v128.store(W + t, v128.xor(v128.load(KT + t), pad));
        v128.store(W2 + t, v128.xor(v128.load(KT + 256 + t), pad));
      }
      for (let i: usize = 0; i < w; i++) {
        v128.store(ST + (i << 4), v128.load32_splat(iv + (i << 2)));
        v128.store(ST2 + (i << 4), v128.load32_splat(iv + (i << 2)));
      }
      expand4(alg, W);
      expand4(alg, W2);
      rounds2(alg, W, W2, dup);
      copy4(states + <usize>g * w * 32 + half * w * 16, ST, w);
      if (!dup) copy4(states + <usize>g2 * w * 32 + half * w * 16, ST2, w);
    }
  }
}

/** Completes the inner HMAC block (RFC 4226 §5.2, FIPS 180-4 §5.1.1) whose counter halves are in w[0], w[1]. */
@inline function innerBlock4(w: usize): void {
  // 8 counter bytes, 0x80, zeros, then the bit length of the ipad block plus the counter.
  v128.store(w, i32x4.splat(0x80000000), 32);
  zero4(w + 48, 12);
  v128.store(w, i32x4.splat((64 + 8) * 8), 240);
}

/** Lays out the outer HMAC block at `w` from the inner digest in `st`, and expands it. */
@inline function outerBlock4(alg: i32, w: usize, st: usize): void {
  const n = words(alg);
  // The inner digest's state words already are the big-endian message words; then 0x80 and the length.
  copy4(w, st, n);
  v128.store(w + (n << 4), i32x4.splat(0x80000000));
  zero4(w + ((n + 1) << 4), 14 - n);
  v128.store(w, i32x4.splat(<i32>(64 + (n << 2)) * 8), 240);
  expand4(alg, w);
}

/** Outer compressions of the pair whose states are at `s` and `s2`, from the inner digests in ST, ST2. */
@inline function outer2(alg: i32, s: usize, s2: usize, dup: bool): void {
  const w = words(alg);
  outerBlock4(alg, W, ST);
  outerBlock4(alg, W2, ST2);
  copy4(ST, s + w * 16, w);
  copy4(ST2, s2 + w * 16, w);
  rounds2(alg, W, W2, dup);
}

/** Truncates the 4 digests in `st` into 4 codes at `out`. */
@inline function store4(alg: i32, st: usize, out: usize, digits: u32): void {
  const last = words(alg) - 1;
  store<u32>(out, truncate32(st, 16, last, digits), 0);
  store<u32>(out, truncate32(st + 4, 16, last, digits), 4);
  store<u32>(out, truncate32(st + 8, 16, last, digits), 8);
  store<u32>(out, truncate32(st + 12, 16, last, digits), 12);
}

/** Codes with one counter per key. */
@inline function codes4(alg: i32, states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  const w = words(alg);
  const groups = (n + 3) >> 2;
  for (let g: u32 = 0; g < groups; g += 2) {
    const dup = g + 1 >= groups;
    const g2 = dup ? g : g + 1;
    const s = states + <usize>g * w * 32, s2 = states + <usize>g2 * w * 32;
    const c = counters + (<usize>g << 5), c2 = counters + (<usize>g2 << 5);
    v128.store(W, v128.load(c));
    v128.store(W, v128.load(c, 16), 16);
    v128.store(W2, v128.load(c2));
    v128.store(W2, v128.load(c2, 16), 16);
    innerBlock4(W);
    innerBlock4(W2);
    expand4(alg, W);
    expand4(alg, W2);
    copy4(ST, s, w);
    copy4(ST2, s2, w);
    rounds2(alg, W, W2, dup);
    outer2(alg, s, s2, dup);
    store4(alg, ST, out + (<usize>g << 4), digits);
    if (!dup) store4(alg, ST2, out + (<usize>g2 << 4), digits);
  }
}

/** Lays out and expands, in WI, the inner block of one counter shared by every lane. */
@inline function sharedInner4(alg: i32, counter: u64): void {
  v128.store(WI, i32x4.splat(<i32>(counter >>> 32)));
  v128.store(WI, i32x4.splat(<i32>counter), 16);
  innerBlock4(WI);
  expand4(alg, WI);
}

/** Both HMAC compressions of a pair from the shared inner schedule in WI; digests left in ST, ST2. */
@inline function sharedPair4(alg: i32, s: usize, s2: usize, dup: bool): void {
  const w = words(alg);
  copy4(ST, s, w);
  copy4(ST2, s2, w);
  rounds2(alg, WI, WI, dup);
  outer2(alg, s, s2, dup);
}

/** Codes with one counter for every key (TOTP): the inner schedule is expanded once per call. */
@inline function codesShared4(alg: i32, states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
  const w = words(alg);
  const groups = (n + 3) >> 2;
  sharedInner4(alg, (<u64>hi << 32) | <u64>lo);
  for (let g: u32 = 0; g < groups; g += 2) {
    const dup = g + 1 >= groups;
    const g2 = dup ? g : g + 1;
    sharedPair4(alg, states + <usize>g * w * 32, states + <usize>g2 * w * 32, dup);
    store4(alg, ST, out + (<usize>g << 4), digits);
    if (!dup) store4(alg, ST2, out + (<usize>g2 << 4), digits);
  }
}

/** Appends (key, step) to `out` while under `cap` pairs; returns the new match count. */
@inline function record(out: usize, cap: u32, found: u32, key: u32, step: u32): u32 {
  if (found < cap) {
    store<u32>(out + (<usize>found << 3), key);
    store<u32>(out + (<usize>found << 3), step, 4);
  }
  return found + 1;
}

/** Records the lanes of group `g` (digests in `st`) whose code is `target`. */
@inline function match4(
  alg: i32, st: usize, g: u32, n: u32, step: u32, digits: u32, target: u32, out: usize, cap: u32, found: u32,
): u32 {
  for (let j: u32 = 0; j < 4; j++) {
    const key = (g << 2) + j;
    if (key < n && truncate32(st + (<usize>j << 2), 16, words(alg) - 1, digits) == target) {
      found = record(out, cap, found, key, step);
    }
  }
  return found;
}

@inline function search4(
  alg: i32, states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const w = words(alg);
  const groups = (n + 3) >> 2;
  const start = (<u64>hi << 32) | <u64>lo;
  let found: u32 = 0;
  // Steps outside, groups inside: every key shares the counter of a step, so its schedule is expanded once.
  for (let step: u32 = 0; step < steps; step++) {
    sharedInner4(alg, start + step);
    for (let g: u32 = 0; g < groups; g += 2) {
      const dup = g + 1 >= groups;
      const g2 = dup ? g : g + 1;
      sharedPair4(alg, states + <usize>g * w * 32, states + <usize>g2 * w * 32, dup);
      found = match4(alg, ST, g, n, step, digits, target, out, cap, found);
      if (!dup) found = match4(alg, ST2, g2, n, step, digits, target, out, cap, found);
    }
  }
  return found;
}

// ---- scalar: SHA-512 ----

function keyStates512(slots: usize, n: u32, states: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const slot = slots + (<usize>i << 7);
    const s = states + (<usize>i << 7);
    for (let half: usize = 0; half < 2; half++) {
      loadBlock(SHA512, slot, half == 0 ? IPAD : OPAD);
      initState(SHA512, ST);
      compress(SHA512, ST);
      for (let k: usize = 0; k < 64; k += 8) store<u64>(s + (half << 6) + k, load<u64>(ST + k));
    }
  }
}

/** Writes the inner block of one counter (u64 words) at `w`: counter, 0x80, zeros, 128-bit bit length. */
function innerBlock512(w: usize, counter: u64): void {
  store<u64>(w, counter);
  store<u64>(w, 0x8000000000000000, 8);
  for (let t: usize = 2; t < 15; t++) store<u64>(w + (t << 3), 0);
  store<u64>(w, (128 + 8) * 8, 120);
}

/** The outer compression of the key whose states are at `s`, from the inner digest in ST; result in ST. */
function outer512(s: usize): void {
  for (let k: usize = 0; k < 64; k += 8) store<u64>(W + k, load<u64>(ST + k));
  store<u64>(W, 0x8000000000000000, 64);
  for (let t: usize = 9; t < 15; t++) store<u64>(W + (t << 3), 0);
  store<u64>(W, (128 + 64) * 8, 120);
  for (let k: usize = 0; k < 64; k += 8) store<u64>(ST + k, load<u64>(s + 64 + k));
  compress(SHA512, ST);
}

@inline function innerState512(s: usize): void {
  for (let k: usize = 0; k < 64; k += 8) store<u64>(ST + k, load<u64>(s + k));
}

function codes512(states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const c = counters + (<usize>(i >> 2) << 5) + (<usize>(i & 3) << 2);
    const s = states + (<usize>i << 7);
    innerBlock512(W, (<u64>load<u32>(c) << 32) | <u64>load<u32>(c, 16));
    innerState512(s);
    compress(SHA512, ST);
    outer512(s);
    store<u32>(out + (<usize>i << 2), truncate64(ST, digits));
  }
}

function codesShared512(states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
  innerBlock512(WI, (<u64>hi << 32) | <u64>lo);
  sha512Expand(WI);
  for (let i: u32 = 0; i < n; i++) {
    const s = states + (<usize>i << 7);
    innerState512(s);
    sha512Rounds(ST, WI);
    outer512(s);
    store<u32>(out + (<usize>i << 2), truncate64(ST, digits));
  }
}

function search512(
  states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const start = (<u64>hi << 32) | <u64>lo;
  let found: u32 = 0;
  for (let step: u32 = 0; step < steps; step++) {
    innerBlock512(WI, start + step);
    sha512Expand(WI);
    for (let i: u32 = 0; i < n; i++) {
      const s = states + (<usize>i << 7);
      innerState512(s);
      sha512Rounds(ST, WI);
      outer512(s);
      if (truncate64(ST, digits) == target) found = record(out, cap, found, i, step);
    }
  }
  return found;
}

// ---- exports: every one wipes the scratch, which held key states ----

export function sha1KeyStates(slots: usize, n: u32, states: usize): void {
  keyStates4(SHA1, slots, n, states);
  wipeScratch();
}
export function sha256KeyStates(slots: usize, n: u32, states: usize): void {
  keyStates4(SHA256, slots, n, states);
  wipeScratch();
}
export function sha512KeyStates(slots: usize, n: u32, states: usize): void {
  keyStates512(slots, n, states);
  wipeScratch();
}

export function sha1Codes(states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  codes4(SHA1, states, n, counters, digits, out);
  wipeScratch();
}
export function sha256Codes(states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  codes4(SHA256, states, n, counters, digits, out);
  wipeScratch();
}
export function sha512Codes(states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  codes512(states, n, counters, digits, out);
  wipeScratch();
}

/** Codes of every key at the one counter hi:lo. */
export function sha1CodesAt(states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
  codesShared4(SHA1, states, n, hi, lo, digits, out);
  wipeScratch();
}
export function sha256CodesAt(states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
  codesShared4(SHA256, states, n, hi, lo, digits, out);
  wipeScratch();
}
export function sha512CodesAt(states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
  codesShared512(states, n, hi, lo, digits, out);
  wipeScratch();
}

/** Matches of `target` for counters hi:lo + [0, steps); returns the match count, stores up to `cap`. */
export function sha1Search(
  states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const found = search4(SHA1, states, n, hi, lo, steps, digits, target, out, cap);
  wipeScratch();
  return found;
}
export function sha256Search(
  states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const found = search4(SHA256, states, n, hi, lo, steps, digits, target, out, cap);
  wipeScratch();
  return found;
}
export function sha512Search(
  states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const found = search512(states, n, hi, lo, steps, digits, target, out, cap);
  wipeScratch();
  return found;
}
