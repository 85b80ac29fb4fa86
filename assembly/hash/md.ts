// Merkle–Damgård driver shared by SHA-1, SHA-256 and SHA-512: IV, block loading, padding (FIPS 180-4 §5.1),
// digest output, and HMAC (RFC 2104) over any key and message length. Every helper takes the algorithm as
// a constant and is inlined, so each exported function compiles to straight code for one algorithm.
import { W, ST, KB, PAD, DIG, wipeScratch } from "./scratch";
import { SHA1_IV, sha1Block } from "./sha1";
import { SHA256_IV, sha256Block } from "./sha256";
import { SHA512_IV, sha512Block } from "./sha512";

export const SHA1: i32 = 1;
export const SHA256: i32 = 2;
export const SHA512: i32 = 3;

/** The HMAC pads (RFC 2104 §2) replicated over a 64-bit word. */
export const IPAD: u64 = 0x3636363636363636;
export const OPAD: u64 = 0x5c5c5c5c5c5c5c5c;

@inline function blockBytes(alg: i32): usize {
  return alg == SHA512 ? 128 : 64;
}

@inline function digestBytes(alg: i32): usize {
  return alg == SHA1 ? 20 : alg == SHA256 ? 32 : 64;
}

/** Writes the initial hash value into the scalar state at `st`. */
@inline export function initState(alg: i32, st: usize): void {
  const iv = alg == SHA1 ? SHA1_IV : alg == SHA256 ? SHA256_IV : SHA512_IV;
  for (let i: usize = 0; i < digestBytes(alg); i += 4) store<u32>(st + i, load<u32>(iv + i));
}

@inline export function compress(alg: i32, st: usize): void {
  if (alg == SHA1) sha1Block(st);
  else if (alg == SHA256) sha256Block(st);
  else sha512Block(st);
}

/** Loads one block of big-endian words at `src` into W[0..15], each XORed with `pad` (0 for message data). */
@inline export function loadBlock(alg: i32, src: usize, pad: u64): void {
  if (alg == SHA512) {
    for (let t: usize = 0; t < 16; t++) store<u64>(W + (t << 3), bswap<u64>(load<u64>(src + (t << 3))) ^ pad);
  } else {
    for (let t: usize = 0; t < 16; t++) store<u32>(W + (t << 2), bswap<u32>(load<u32>(src + (t << 2))) ^ <u32>pad);
  }
}

/** Compresses every whole block of `len` bytes at `src`; returns the bytes consumed. */
@inline function absorb(alg: i32, st: usize, src: usize, len: usize): usize {
  const size = blockBytes(alg);
  let done: usize = 0;
  for (; len - done >= size; done += size) {
    loadBlock(alg, src + done, 0);
    compress(alg, st);
  }
  return done;
}

/**
 * Pads and compresses the last `len` (< one block) bytes at `tail` of a message of `total` bytes
 * (FIPS 180-4 §5.1.1, §5.1.2): 0x80, zeros, then the bit length big-endian in the last 8 bytes; the
 * high half of SHA-512's 128-bit length field stays zero, as wasm32 messages are under 2^32 bytes.
 */
@inline function finish(alg: i32, st: usize, tail: usize, len: usize, total: usize): void {
  const size = blockBytes(alg);
  const lengthField: usize = alg == SHA512 ? 16 : 8;
  const end = len + 1 + lengthField <= size ? size : size << 1;
  memory.copy(PAD, tail, len);
  store<u8>(PAD + len, 0x80);
  memory.fill(PAD + len + 1, 0, end - len - 1);
  store<u64>(PAD + end - 8, bswap<u64>(<u64>total << 3));
  loadBlock(alg, PAD, 0);
  compress(alg, st);
  if (end > size) {
    loadBlock(alg, PAD + size, 0);
    compress(alg, st);
  }
}

/** Writes the digest in the scalar state at `st` as big-endian bytes to `out`. */
@inline function storeDigest(alg: i32, st: usize, out: usize): void {
  if (alg == SHA512) {
    for (let i: usize = 0; i < 64; i += 8) store<u64>(out + i, bswap<u64>(load<u64>(st + i)));
  } else {
    for (let i: usize = 0; i < digestBytes(alg); i += 4) store<u32>(out + i, bswap<u32>(load<u32>(st + i)));
  }
}

@inline function digestInto(alg: i32, data: usize, len: usize, out: usize): void {
  initState(alg, ST);
  const done = absorb(alg, ST, data, len);
  finish(alg, ST, data + done, len - done, len);
  storeDigest(alg, ST, out);
}

/** HMAC (RFC 2104 §2): H(K0 ^ opad || H(K0 ^ ipad || message)). */
@inline function hmacInto(alg: i32, key: usize, keyLen: usize, msg: usize, msgLen: usize, out: usize): void {
  const size = blockBytes(alg);
  // K0: a key longer than the block is replaced by its hash; either way it is zero-padded to the block.
  memory.fill(KB, 0, size);
  if (keyLen > size) digestInto(alg, key, keyLen, KB);
  else memory.copy(KB, key, keyLen);
  initState(alg, ST);
  loadBlock(alg, KB, IPAD);
  compress(alg, ST);
  const done = absorb(alg, ST, msg, msgLen);
  finish(alg, ST, msg + done, msgLen - done, size + msgLen);
  storeDigest(alg, ST, DIG);
  initState(alg, ST);
  loadBlock(alg, KB, OPAD);
  compress(alg, ST);
  finish(alg, ST, DIG, digestBytes(alg), size + digestBytes(alg));
  storeDigest(alg, ST, out);
}

/** SHA-1 of `len` bytes at `data`, 20 bytes to `out`. */
export function sha1(data: usize, len: usize, out: usize): void {
  digestInto(SHA1, data, len, out);
  wipeScratch();
}

/** SHA-256 of `len` bytes at `data`, 32 bytes to `out`. */
export function sha256(data: usize, len: usize, out: usize): void {
  digestInto(SHA256, data, len, out);
  wipeScratch();
}

/** SHA-512 of `len` bytes at `data`, 64 bytes to `out`. */
export function sha512(data: usize, len: usize, out: usize): void {
  digestInto(SHA512, data, len, out);
  wipeScratch();
}

/** HMAC-SHA-1 of the message under the key, 20 bytes to `out`. */
export function hmacSha1(key: usize, keyLen: usize, msg: usize, msgLen: usize, out: usize): void {
  hmacInto(SHA1, key, keyLen, msg, msgLen, out);
  wipeScratch();
}

/** HMAC-SHA-256 of the message under the key, 32 bytes to `out`. */
export function hmacSha256(key: usize, keyLen: usize, msg: usize, msgLen: usize, out: usize): void {
  hmacInto(SHA256, key, keyLen, msg, msgLen, out);
  wipeScratch();
}

/** HMAC-SHA-512 of the message under the key, 64 bytes to `out`. */
export function hmacSha512(key: usize, keyLen: usize, msg: usize, msgLen: usize, out: usize): void {
  hmacInto(SHA512, key, keyLen, msg, msgLen, out);
  wipeScratch();
}
