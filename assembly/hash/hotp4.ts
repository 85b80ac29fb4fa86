// HOTP over SHA-1 and SHA-256 in 4 v128 lanes (one key per lane), two lane groups (8 keys) at a time.
// Buffer layouts are described in hotp.ts.
import { W, W2, WI, ST, ST2, KT } from "./scratch";
import { SHA1_IV, sha1AddK4, sha1Expand4, sha1Expand8, sha1Outer8, sha1Rounds8, sha1RoundsWK8 } from "./sha1";
import { SHA256_IV, sha256Expand4, sha256Expand8, sha256ExpandOuter8, sha256Rounds4 } from "./sha256";
import { SHA1, IPAD, OPAD } from "./md";
import { record } from "./record";
import { reduce } from "./truncate";

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

/** Expands the pair's two schedules, interleaved. */
@inline function expand2(alg: i32, w: usize, w2: usize): void {
  if (alg == SHA1) sha1Expand8(w, w2);
  else sha256Expand8(w, w2);
}

/** Rounds of the pair: ST over schedule `w`, ST2 over `w2`. */
@inline function rounds2(alg: i32, w: usize, w2: usize, dup: bool): void {
  if (alg == SHA1) {
    sha1Rounds8(ST, ST2, w, w2, ST, ST2);
  } else {
    sha256Rounds4(ST, w, ST);
    if (!dup) sha256Rounds4(ST2, w2, ST2);
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
@inline export function keyStates4(alg: i32, slots: usize, n: u32, states: usize): void {
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
      expand2(alg, W, W2);
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

/**
 * Inner compressions of a pair from the resident states at `s`, `s2` over the schedules `w`, `w2`
 * (`shared`: both are WI, which for SHA-1 holds K, see sharedInner4); the digests go straight into the
 * first words of W, W2, where the outer blocks begin.
 */
@inline function inner2(alg: i32, s: usize, s2: usize, w: usize, w2: usize, shared: bool, dup: bool): void {
  if (alg == SHA1) {
    if (shared) sha1RoundsWK8(s, s2, w, W, W2);
    else sha1Rounds8(s, s2, w, w2, W, W2);
  } else {
    sha256Rounds4(s, w, W);
    if (!dup) sha256Rounds4(s2, w2, W2);
  }
}

/**
 * Outer compressions of the pair whose resident states are at `s`, `s2`, from the inner digests in W, W2
 * (inner2): the outer blocks' constant words are never written, their terms skipped (sha1Outer8,
 * sha256ExpandOuter8). Digests left in ST, ST2.
 */
@inline function outer2(alg: i32, s: usize, s2: usize, dup: bool): void {
  const w = words(alg);
  if (alg == SHA1) {
    sha1Outer8(s + w * 16, s2 + w * 16, W, W2, ST, ST2);
  } else {
    sha256ExpandOuter8(W, W2);
    sha256Rounds4(s + w * 16, W, ST);
    if (!dup) sha256Rounds4(s2 + w * 16, W2, ST2);
  }
}

/**
 * The 31-bit dynamic-truncation values (RFC 4226 §5.3) of the 4 digests in `st`, in the lanes: the
 * words at the offset are picked with masks, not loaded from a digest-dependent address, so no memory
 * access depends on the digest. Offsets 0..15 read words 0..4 for SHA-1 and SHA-256 alike.
 */
@inline function bins4(alg: i32, st: usize): v128 {
  const off = v128.and(v128.load(st + (words(alg) - 1) * 16), i32x4.splat(15));
  const i = i32x4.shr_u(off, 2);
  const i1 = i32x4.eq(i, i32x4.splat(1)), i2 = i32x4.eq(i, i32x4.splat(2)), i3 = i32x4.eq(i, i32x4.splat(3));
  const d1 = v128.load(st, 16), d2 = v128.load(st, 32), d3 = v128.load(st, 48);
  // hi = word i, lo = word i + 1.
  const hi = v128.bitselect(d3, v128.bitselect(d2, v128.bitselect(d1, v128.load(st, 0), i1), i2), i3);
  const lo = v128.bitselect(v128.load(st, 64), v128.bitselect(d3, v128.bitselect(d2, d1, i1), i2), i3);
  // The 4 bytes start (offset & 3) bytes into word i.
  const b = v128.and(off, i32x4.splat(3));
  const b1 = i32x4.eq(b, i32x4.splat(1)), b2 = i32x4.eq(b, i32x4.splat(2)), b3 = i32x4.eq(b, i32x4.splat(3));
  let bin = v128.bitselect(v128.or(i32x4.shl(hi, 8), i32x4.shr_u(lo, 24)), hi, b1);
  bin = v128.bitselect(v128.or(i32x4.shl(hi, 16), i32x4.shr_u(lo, 16)), bin, b2);
  bin = v128.bitselect(v128.or(i32x4.shl(hi, 24), i32x4.shr_u(lo, 8)), bin, b3);
  return v128.and(bin, i32x4.splat(0x7fffffff));
}

/** Truncates the 4 digests in `st` into 4 codes at `out`. */
@inline function store4(alg: i32, st: usize, out: usize, digits: u32): void {
  const bin = bins4(alg, st);
  store<u32>(out, reduce(i32x4.extract_lane(bin, 0), digits), 0);
  store<u32>(out, reduce(i32x4.extract_lane(bin, 1), digits), 4);
  store<u32>(out, reduce(i32x4.extract_lane(bin, 2), digits), 8);
  store<u32>(out, reduce(i32x4.extract_lane(bin, 3), digits), 12);
}

/** Codes with one counter per key. */
@inline export function codes4(alg: i32, states: usize, n: u32, counters: usize, digits: u32, out: usize): void {
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
    expand2(alg, W, W2);
    inner2(alg, s, s2, W, W2, false, dup);
    outer2(alg, s, s2, dup);
    store4(alg, ST, out + (<usize>g << 4), digits);
    if (!dup) store4(alg, ST2, out + (<usize>g2 << 4), digits);
  }
}

/**
 * Lays out and expands, in WI, the inner block of one counter shared by every lane. For SHA-1 the round
 * constants are added in, so every group's inner rounds skip that add; SHA-256 keeps its per-round K,
 * because the same change made it slower (docs/BENCHMARKS.md).
 */
@inline function sharedInner4(alg: i32, counter: u64): void {
  v128.store(WI, i32x4.splat(<i32>(counter >>> 32)));
  v128.store(WI, i32x4.splat(<i32>counter), 16);
  innerBlock4(WI);
  expand4(alg, WI);
  if (alg == SHA1) sha1AddK4(WI);
}

/** Both HMAC compressions of a pair from the shared inner schedule in WI; digests left in ST, ST2. */
@inline function sharedPair4(alg: i32, s: usize, s2: usize, dup: bool): void {
  inner2(alg, s, s2, WI, WI, true, dup);
  outer2(alg, s, s2, dup);
}

/** Codes with one counter for every key (TOTP): the inner schedule is expanded once per call. */
@inline export function codesShared4(alg: i32, states: usize, n: u32, hi: u32, lo: u32, digits: u32, out: usize): void {
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

/** Records the lanes of group `g` (digests in `st`) whose code is `target`. */
@inline function match4(
  alg: i32, st: usize, g: u32, n: u32, step: u32, digits: u32, target: u32, out: usize, cap: u32, found: u32,
): u32 {
  const bin = bins4(alg, st);
  const key = g << 2;
  // Lane indices must be constants: one line per lane.
  if (key < n && reduce(i32x4.extract_lane(bin, 0), digits) == target) found = record(out, cap, found, key, step);
  if (key + 1 < n && reduce(i32x4.extract_lane(bin, 1), digits) == target) found = record(out, cap, found, key + 1, step);
  if (key + 2 < n && reduce(i32x4.extract_lane(bin, 2), digits) == target) found = record(out, cap, found, key + 2, step);
  if (key + 3 < n && reduce(i32x4.extract_lane(bin, 3), digits) == target) found = record(out, cap, found, key + 3, step);
  return found;
}

@inline export function search4(
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
