/**
 * Internal: the typed hashing exports of the WASM core (assembly/hash/index.ts), the per-algorithm
 * parameters of its memory layout, and the guard around every call into it. Not part of the public API.
 */
import { otpbError } from "../lib/errors.js";
import { wasmCore, type WasmBaseExports, type WasmCore } from "./wasm.js";

/** Digest algorithms of the core, named as in otpauth URIs (RFC 6238 §1.2 allows SHA-256 and SHA-512). */
export type HashAlgorithm = "SHA1" | "SHA256" | "SHA512";

export const HASH_ALGORITHMS: readonly HashAlgorithm[] = ["SHA1", "SHA256", "SHA512"];

/**
 * Every argument is a byte offset into WASM memory or a 32-bit count; values above 2^31 arrive as
 * negative i32 and are read back as unsigned by the core. Buffer layouts are in assembly/hash/hotp.ts.
 */
export interface HashExports extends WasmBaseExports {
  sha1(data: number, len: number, out: number): void;
  sha256(data: number, len: number, out: number): void;
  sha512(data: number, len: number, out: number): void;
  hmacSha1(key: number, keyLen: number, msg: number, msgLen: number, out: number): void;
  hmacSha256(key: number, keyLen: number, msg: number, msgLen: number, out: number): void;
  hmacSha512(key: number, keyLen: number, msg: number, msgLen: number, out: number): void;
  sha1KeyStates(slots: number, n: number, states: number): void;
  sha256KeyStates(slots: number, n: number, states: number): void;
  sha512KeyStates(slots: number, n: number, states: number): void;
  sha1Codes(states: number, n: number, counters: number, digits: number, out: number): void;
  sha256Codes(states: number, n: number, counters: number, digits: number, out: number): void;
  sha512Codes(states: number, n: number, counters: number, digits: number, out: number): void;
  sha1CodesAt(states: number, n: number, hi: number, lo: number, digits: number, out: number): void;
  sha256CodesAt(states: number, n: number, hi: number, lo: number, digits: number, out: number): void;
  sha512CodesAt(states: number, n: number, hi: number, lo: number, digits: number, out: number): void;
  sha1Search(states: number, n: number, hi: number, lo: number, steps: number, digits: number, target: number, out: number, cap: number): number;
  sha256Search(states: number, n: number, hi: number, lo: number, steps: number, digits: number, target: number, out: number, cap: number): number;
  sha512Search(states: number, n: number, hi: number, lo: number, steps: number, digits: number, target: number, out: number, cap: number): number;
}

/** How one algorithm is laid out in the core and which exports serve it. */
export interface AlgorithmSpec {
  readonly name: HashAlgorithm;
  /** Block size: the size of a key slot, and the HMAC key length above which a key is hashed first. */
  readonly blockBytes: number;
  readonly digestBytes: number;
  /** Resident HMAC state (inner then outer) of a group of 4 keys. */
  readonly groupStateBytes: number;
  readonly hash: "sha1" | "sha256" | "sha512";
  readonly hmac: "hmacSha1" | "hmacSha256" | "hmacSha512";
  readonly keyStates: "sha1KeyStates" | "sha256KeyStates" | "sha512KeyStates";
  readonly codes: "sha1Codes" | "sha256Codes" | "sha512Codes";
  readonly codesAt: "sha1CodesAt" | "sha256CodesAt" | "sha512CodesAt";
  readonly search: "sha1Search" | "sha256Search" | "sha512Search";
}

export const SPECS: Readonly<Record<HashAlgorithm, AlgorithmSpec>> = {
  // 5 state words of 4 lanes x 4 bytes, twice (inner, outer).
  SHA1: {
    name: "SHA1",
    blockBytes: 64,
    digestBytes: 20,
    groupStateBytes: 2 * 5 * 16,
    hash: "sha1",
    hmac: "hmacSha1",
    keyStates: "sha1KeyStates",
    codes: "sha1Codes",
    codesAt: "sha1CodesAt",
    search: "sha1Search",
  },
  SHA256: {
    name: "SHA256",
    blockBytes: 64,
    digestBytes: 32,
    groupStateBytes: 2 * 8 * 16,
    hash: "sha256",
    hmac: "hmacSha256",
    keyStates: "sha256KeyStates",
    codes: "sha256Codes",
    codesAt: "sha256CodesAt",
    search: "sha256Search",
  },
  // Scalar: 4 keys of 8 u64 words, twice.
  SHA512: {
    name: "SHA512",
    blockBytes: 128,
    digestBytes: 64,
    groupStateBytes: 4 * 2 * 8 * 8,
    hash: "sha512",
    hmac: "hmacSha512",
    keyStates: "sha512KeyStates",
    codes: "sha512Codes",
    codesAt: "sha512CodesAt",
    search: "sha512Search",
  },
};

/** The shared core, typed with the hashing exports. */
export function hashCore(): WasmCore<HashExports> {
  return wasmCore<HashExports>();
}

/**
 * Runs one call into the core and checks that linear memory did not grow during it. The core never
 * allocates, so growth there would mean a broken build; the facade's pointers would then be stale.
 * @throws OtpbridgeError INTERNAL if memory grew.
 */
export function callCore<T>(core: WasmCore<HashExports>, fn: (exports: HashExports) => T): T {
  const before = core.exports.memory.buffer;
  const result = fn(core.exports);
  if (core.exports.memory.buffer !== before) {
    throw otpbError("INTERNAL", "WASM hash core grew its memory during a call", { detail: { area: "hash" } });
  }
  return result;
}
