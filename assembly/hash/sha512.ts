// SHA-512 compression (FIPS 180-4 §6.4.2), scalar on i64: the issue allows SHA-512 HMAC without SIMD.
//
// Reads the 16 message words from W[0..15] (8 bytes each; the caller loads them) and expands the schedule
// in place. Rounds run in 8-round cycles with renamed variables, as in sha256.ts.
import { W } from "./scratch";

// FIPS 180-4 §5.3.5 and §4.2.3.
export const SHA512_IV = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
]);
const K = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc, 0x3956c25bf348b538,
  0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118, 0xd807aa98a3030242, 0x12835b0145706fbe,
  0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2, 0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235,
  0xc19bf174cf692694, 0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5, 0x983e5152ee66dfab,
  0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4, 0xc6e00bf33da88fc2, 0xd5a79147930aa725,
  0x06ca6351e003826f, 0x142929670a0e6e70, 0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed,
  0x53380d139d95b3df, 0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30, 0xd192e819d6ef5218,
  0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8, 0x19a4c116b8d2d0c8, 0x1e376c085141ab53,
  0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8, 0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373,
  0x682e6ff3d6b2b8a3, 0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b, 0xca273eceea26619c,
  0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178, 0x06f067aa72176fba, 0x0a637dc5a2c898a6,
  0x113f9804bef90dae, 0x1b710b35131c471b, 0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc,
  0x431d67c49c100d4c, 0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
]);

@inline function sigma0(x: u64): u64 {
  return rotr<u64>(x, 1) ^ rotr<u64>(x, 8) ^ (x >>> 7);
}
@inline function sigma1(x: u64): u64 {
  return rotr<u64>(x, 19) ^ rotr<u64>(x, 61) ^ (x >>> 6);
}
/** T1 of a round, `kw` = K[t] + W[t]. */
@inline function t1(e: u64, f: u64, g: u64, h: u64, kw: u64): u64 {
  return h + (rotr<u64>(e, 14) ^ rotr<u64>(e, 18) ^ rotr<u64>(e, 41)) + (g ^ (e & (f ^ g))) + kw;
}
/** T2 of a round: Σ0(a) + Maj(a,b,c). */
@inline function t2(a: u64, b: u64, c: u64): u64 {
  return (rotr<u64>(a, 28) ^ rotr<u64>(a, 34) ^ rotr<u64>(a, 39)) + ((a & b) | (c & (a | b)));
}

/** Expands the schedule at `w` (u64 words) from its first 16 words to 80. */
export function sha512Expand(w: usize): void {
  for (let p = w; p < w + 64 * 8; p += 8) {
    store<u64>(p, sigma1(load<u64>(p, 112)) + load<u64>(p, 72) + sigma0(load<u64>(p, 8)) + load<u64>(p), 128);
  }
}

/** Runs the 80 rounds over the expanded schedule at `w` into the state at `st` (8 u64). */
export function sha512Rounds(st: usize, w: usize): void {
  let a = load<u64>(st, 0), b = load<u64>(st, 8), c = load<u64>(st, 16), d = load<u64>(st, 24);
  let e = load<u64>(st, 32), f = load<u64>(st, 40), g = load<u64>(st, 48), h = load<u64>(st, 56);
  for (let p = w, k = K; p < w + 80 * 8; p += 64, k += 64) {
    h = t1(e, f, g, h, load<u64>(k, 0) + load<u64>(p, 0)); d += h; h += t2(a, b, c);
    g = t1(d, e, f, g, load<u64>(k, 8) + load<u64>(p, 8)); c += g; g += t2(h, a, b);
    f = t1(c, d, e, f, load<u64>(k, 16) + load<u64>(p, 16)); b += f; f += t2(g, h, a);
    e = t1(b, c, d, e, load<u64>(k, 24) + load<u64>(p, 24)); a += e; e += t2(f, g, h);
    d = t1(a, b, c, d, load<u64>(k, 32) + load<u64>(p, 32)); h += d; d += t2(e, f, g);
    c = t1(h, a, b, c, load<u64>(k, 40) + load<u64>(p, 40)); g += c; c += t2(d, e, f);
    b = t1(g, h, a, b, load<u64>(k, 48) + load<u64>(p, 48)); f += b; b += t2(c, d, e);
    a = t1(f, g, h, a, load<u64>(k, 56) + load<u64>(p, 56)); e += a; a += t2(b, c, d);
  }
  store<u64>(st, load<u64>(st, 0) + a, 0);
  store<u64>(st, load<u64>(st, 8) + b, 8);
  store<u64>(st, load<u64>(st, 16) + c, 16);
  store<u64>(st, load<u64>(st, 24) + d, 24);
  store<u64>(st, load<u64>(st, 32) + e, 32);
  store<u64>(st, load<u64>(st, 40) + f, 40);
  store<u64>(st, load<u64>(st, 48) + g, 48);
  store<u64>(st, load<u64>(st, 56) + h, 56);
}

/** Compresses the block in W[0..15] (u64 words) into the state at `st` (8 u64). */
export function sha512Block(st: usize): void {
  sha512Expand(W);
  sha512Rounds(st, W);
}
