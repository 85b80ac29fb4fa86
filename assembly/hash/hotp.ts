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
import { wipeScratch } from "./scratch";
import { SHA1, SHA256 } from "./md";
import { codes4, codesShared4, keyStates4, search4 } from "./hotp4";
import { codes512, codesShared512, keyStates512, search512 } from "./hotp512";

// Every export wipes the scratch, which held key states.

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
