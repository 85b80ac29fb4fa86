// HOTP over SHA-512, scalar on i64 (the issue allows SHA-512 without SIMD), one key at a time.
// Buffer layouts are described in hotp.ts; per key, the states are the inner then the outer 8 u64 words.
import { W, WI, ST } from "./scratch";
import { sha512Expand, sha512Rounds } from "./sha512";
import { SHA512, IPAD, OPAD, initState, loadBlock, compress } from "./md";
import { record } from "./record";
import { truncate64 } from "./truncate";

/** Inner and outer HMAC states (RFC 2104 §2) of the keys in `n` 128-byte slots. */
export function keyStates512(slots: usize, n: u32, states: usize): void {
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

/** Codes with one counter per key (counters laid out per group of 4, as for the 4-lane code). */
export function codes512(states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
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

/** Codes with one counter for every key: the inner schedule is expanded once per call. */
export function codesShared512(states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
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

/** Matches of `target` for counters hi:lo + [0, steps); steps outside so each schedule is expanded once. */
export function search512(
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
