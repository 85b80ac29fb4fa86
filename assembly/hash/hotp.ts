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
// - out: one u32 code per key; search: (key, step) u32 pairs.
import { W, ST, wipeScratch } from "./scratch";
import { SHA1_IV, sha1Block4 } from "./sha1";
import { SHA256_IV, sha256Block4 } from "./sha256";
import { SHA1, SHA256, SHA512, IPAD, OPAD, initState, loadBlock, compress } from "./md";
import { truncate32, truncate64 } from "./truncate";

/** SHA-1 state: 5 words; SHA-256: 8. */
@inline function words(alg: i32): usize {
  return alg == SHA1 ? 5 : 8;
}

@inline function block4(alg: i32, st: usize): void {
  if (alg == SHA1) sha1Block4(st);
  else sha256Block4(st);
}

/** Copies `n` v128 words. A loop of loads and stores: memory.copy is a runtime call in V8. */
@inline function copy4(dst: usize, src: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) v128.store(dst + (i << 4), v128.load(src + (i << 4)));
}

@inline function zero4(dst: usize, n: usize): void {
  for (let i: usize = 0; i < n; i++) v128.store(dst + (i << 4), i32x4.splat(0));
}

// ---- 4 lanes: SHA-1, SHA-256 ----

/** Inner and outer HMAC states (RFC 2104 §2) of the keys in `n` 64-byte slots. */
@inline function keyStates4(alg: i32, slots: usize, n: u32, states: usize): void {
  const w = words(alg);
  const iv = alg == SHA1 ? SHA1_IV : SHA256_IV;
  for (let g: u32 = 0; g < (n + 3) >> 2; g++) {
    const slot = slots + (<usize>g << 8);
    const s = states + <usize>g * w * 32;
    for (let half: usize = 0; half < 2; half++) {
      const pad = half == 0 ? <u32>IPAD : <u32>OPAD;
      // Transpose: word t of key j goes to lane j of W[t].
      for (let t: usize = 0; t < 16; t++) {
        for (let j: usize = 0; j < 4; j++) {
          store<u32>(W + (t << 4) + (j << 2), bswap<u32>(load<u32>(slot + (j << 6) + (t << 2))) ^ pad);
        }
      }
      for (let i: usize = 0; i < w; i++) v128.store(ST + (i << 4), v128.load32_splat(iv + (i << 2)));
      block4(alg, ST);
      copy4(s + half * w * 16, ST, w);
    }
  }
}

/**
 * HMAC of the 8-byte counters whose halves are already in W[0] (high) and W[1] (low) under the group's
 * states at `s`; leaves the 4 outer digests, as big-endian words, in ST.
 */
@inline function hotp4(alg: i32, s: usize): void {
  const w = words(alg);
  // Inner block (RFC 4226 §5.2, FIPS 180-4 §5.1.1): counter, 0x80, zeros, bit length of ipad block + 8.
  v128.store(W, i32x4.splat(0x80000000), 32);
  zero4(W + 48, 12);
  v128.store(W, i32x4.splat((64 + 8) * 8), 240);
  copy4(ST, s, w);
  block4(alg, ST);
  // Outer block: the inner digest (its state words are already the big-endian message words), 0x80, length.
  copy4(W, ST, w);
  v128.store(W + (w << 4), i32x4.splat(0x80000000));
  zero4(W + ((w + 1) << 4), 14 - w);
  v128.store(W, i32x4.splat(<i32>(64 + (w << 2)) * 8), 240);
  copy4(ST, s + w * 16, w);
  block4(alg, ST);
}

@inline function codes4(alg: i32, states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  const w = words(alg);
  for (let g: u32 = 0; g < (n + 3) >> 2; g++) {
    const c = counters + (<usize>g << 5);
    v128.store(W, v128.load(c));
    v128.store(W, v128.load(c, 16), 16);
    hotp4(alg, states + <usize>g * w * 32);
    const o = out + (<usize>g << 4);
    store<u32>(o, truncate32(ST, 16, w - 1, digits), 0);
    store<u32>(o, truncate32(ST + 4, 16, w - 1, digits), 4);
    store<u32>(o, truncate32(ST + 8, 16, w - 1, digits), 8);
    store<u32>(o, truncate32(ST + 12, 16, w - 1, digits), 12);
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

@inline function search4(
  alg: i32, states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const w = words(alg);
  const start = (<u64>hi << 32) | <u64>lo;
  let found: u32 = 0;
  for (let g: u32 = 0; g < (n + 3) >> 2; g++) {
    for (let step: u32 = 0; step < steps; step++) {
      const counter = start + step;
      v128.store(W, i32x4.splat(<i32>(counter >>> 32)));
      v128.store(W, i32x4.splat(<i32>counter), 16);
      hotp4(alg, states + <usize>g * w * 32);
      for (let j: u32 = 0; j < 4; j++) {
        const key = (g << 2) + j;
        if (key < n && truncate32(ST + (<usize>j << 2), 16, w - 1, digits) == target) {
          found = record(out, cap, found, key, step);
        }
      }
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

/** HMAC-SHA-512 of one 8-byte counter under the states at `s`; leaves the digest words in ST. */
function hotp512(s: usize, counter: u64): void {
  // Inner block: counter, 0x80, zeros, the 128-bit bit length of ipad block + 8.
  store<u64>(W, counter);
  store<u64>(W, 0x8000000000000000, 8);
  for (let t: usize = 2; t < 15; t++) store<u64>(W + (t << 3), 0);
  store<u64>(W, (128 + 8) * 8, 120);
  for (let k: usize = 0; k < 64; k += 8) store<u64>(ST + k, load<u64>(s + k));
  compress(SHA512, ST);
  for (let k: usize = 0; k < 64; k += 8) store<u64>(W + k, load<u64>(ST + k));
  store<u64>(W, 0x8000000000000000, 64);
  for (let t: usize = 9; t < 15; t++) store<u64>(W + (t << 3), 0);
  store<u64>(W, (128 + 64) * 8, 120);
  for (let k: usize = 0; k < 64; k += 8) store<u64>(ST + k, load<u64>(s + 64 + k));
  compress(SHA512, ST);
}

function codes512(states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
  for (let i: u32 = 0; i < n; i++) {
    const c = counters + (<usize>(i >> 2) << 5) + (<usize>(i & 3) << 2);
    hotp512(states + (<usize>i << 7), (<u64>load<u32>(c) << 32) | <u64>load<u32>(c, 16));
    store<u32>(out + (<usize>i << 2), truncate64(ST, digits));
  }
}

function search512(
  states: usize, n: u32, hi: u32, lo: u32, steps: u32, digits: u32, target: u32, out: usize, cap: u32,
): u32 {
  const start = (<u64>hi << 32) | <u64>lo;
  let found: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    for (let step: u32 = 0; step < steps; step++) {
      hotp512(states + (<usize>i << 7), start + step);
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
