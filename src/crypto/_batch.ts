/**
 * Internal: the JS side of the core's HOTP batches (assembly/hash/hotp.ts): buffer sizes, key slots,
 * counter encoding, codes and window searches over key states already in WASM memory. Public entry
 * points (otp.ts, key-set.ts) validate first; everything here trusts its arguments.
 */
import { abytesArray, adigits, aint, au64 } from "../lib/checks.js";
import { type AlgorithmSpec, callCore, hashCore } from "./_hash-core.js";
import { MAX_HASH_INPUT, digestUnchecked } from "./hash.js";

/** Most keys in one batch or key set: 4M keys need at most about 1.5 GiB of WASM memory with SHA-512. */
export const MAX_BATCH_KEYS = 1 << 22;
/** Largest window k of a search (counters c-k..c+k): HOTP resynchronisation rarely looks past a few hundred. */
export const MAX_WINDOW = 1 << 20;
/** Fewest and most digits a code may have: RFC 4226 §5.3 asks for at least 6; 4 serves legacy tokens. */
export const MIN_DIGITS = 4;
export const MAX_DIGITS = 10;

const U64_MAX = (1n << 64n) - 1n;

/** One search hit: the index of the key, and the counter's offset from the centre of the window. */
export interface WindowMatch {
  key: number;
  offset: number;
}

/** One counter for every key, or an array of one per key; each a bigint or safe integer in [0, 2^64-1]. */
export type Counters = bigint | number | readonly (bigint | number)[];

/** Byte sizes of every buffer of a batch of `n` keys (4-key groups, tail lanes computed and ignored). */
export function batchLayout(spec: AlgorithmSpec, n: number) {
  const groups = Math.ceil(n / 4);
  return {
    slots: groups * 4 * spec.blockBytes,
    states: groups * spec.groupStateBytes,
    codes: groups * 16,
  };
}

/** Validates an array of keys of any length up to MAX_HASH_INPUT, at most MAX_BATCH_KEYS of them. */
export function checkKeys(keys: unknown): asserts keys is Uint8Array[] {
  if (!Array.isArray(keys)) abytesArray(keys, "keys");
  aint(keys.length, "keys.length", 0, MAX_BATCH_KEYS);
  // A plain loop first: abytesArray builds a name string per element, which costs more than the check
  // on 100,000 keys. It runs only when a key is bad, to throw its error.
  for (const key of keys) {
    if (!(key instanceof Uint8Array) || key.length > MAX_HASH_INPUT) abytesArray(keys, "keys", { max: MAX_HASH_INPUT });
  }
}

/**
 * Runs `fn` on the keys with every key longer than a block replaced by its hash (RFC 2104 §2), and
 * zeroes those hashes afterwards. Hashing happens here, before the caller allocates its buffers.
 */
export function withBlockKeys<T>(spec: AlgorithmSpec, keys: readonly Uint8Array[], fn: (keys: readonly Uint8Array[]) => T): T {
  if (!keys.some((key) => key.length > spec.blockBytes)) return fn(keys);
  const hashed: Uint8Array[] = [];
  const prepared = keys.map((key) => {
    if (key.length <= spec.blockBytes) return key;
    const digest = digestUnchecked(spec, key);
    hashed.push(digest);
    return digest;
  });
  try {
    return fn(prepared);
  } finally {
    for (const digest of hashed) digest.fill(0);
  }
}

/**
 * Writes one key of any length into slot `index` (zeroed by its allocation): a key longer than a block
 * goes in as its hash (RFC 2104 §2), which is zeroed at once.
 */
export function writeKeySlot(spec: AlgorithmSpec, slots: number, index: number, key: Uint8Array): void {
  const at = slots + index * spec.blockBytes;
  if (key.length <= spec.blockBytes) {
    hashCore().view().set(key, at);
    return;
  }
  // Hashing allocates in the core: the view is taken after it.
  const digest = digestUnchecked(spec, key);
  try {
    hashCore().view().set(digest, at);
  } finally {
    digest.fill(0);
  }
}

/** Writes block-sized keys into their zeroed slots and derives their inner/outer HMAC states. */
export function deriveStates(spec: AlgorithmSpec, keys: readonly Uint8Array[], slots: number, states: number): void {
  const core = hashCore();
  const view = core.view();
  for (let i = 0; i < keys.length; i++) view.set(keys[i]!, slots + i * spec.blockBytes);
  callCore(core, (e) => e[spec.keyStates](slots, keys.length, states));
}

/**
 * Counters in the core's layout: one shared by every key (TOTP: the inner HMAC schedule is then expanded
 * once per call), or one per key, per group of 4 the high halves then the low halves. RFC 4226 §5.2
 * hashes a counter as 8 big-endian bytes; the core builds those from the two halves.
 */
export type EncodedCounters = { shared: true; hi: number; lo: number } | { shared: false; words: Uint32Array };

/** Validates counters (one for all keys, or an array of exactly one per key) and encodes them. */
export function encodeCounters(counters: unknown, n: number): EncodedCounters {
  if (!Array.isArray(counters)) {
    const probe = new Uint32Array(8);
    put(probe, 0, counters, "counter");
    return { shared: true, hi: probe[0]!, lo: probe[4]! };
  }
  aint(counters.length, "counters.length (one counter per key)", n, n);
  const words = new Uint32Array(Math.ceil(n / 4) * 8);
  for (let i = 0; i < n; i++) put(words, i, counters[i], `counters[${i}]`);
  return { shared: false, words };
}

/** Bytes of the counter buffer a batch of `n` keys needs (none when the counter is shared). */
export function counterBytes(counters: EncodedCounters): number {
  return counters.shared ? 0 : counters.words.byteLength;
}

function put(out: Uint32Array, i: number, value: unknown, name: string): void {
  const at = ((i >> 2) << 3) | (i & 3);
  // Fast path for the common case (safe non-negative integers); anything else goes through au64.
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) {
    out[at] = Math.floor(value / 2 ** 32);
    out[at + 4] = value >>> 0;
    return;
  }
  const big = au64(value, name);
  out[at] = Number(big >> 32n);
  out[at + 4] = Number(big & 0xffffffffn);
}

/**
 * Codes for `n` keys whose states are at `states`, through the caller's counter buffer (of
 * {@link counterBytes}) and code buffer (of batchLayout().codes), both allocated before any write.
 * The codes are copied into `into` (first n elements), or into a new array.
 */
export function codesInto(
  spec: AlgorithmSpec,
  states: number,
  n: number,
  counters: EncodedCounters,
  digits: number,
  ctr: number,
  out: number,
  into?: Uint32Array,
): Uint32Array {
  const core = hashCore();
  if (counters.shared) {
    callCore(core, (e) => e[spec.codesAt](states, n, counters.hi, counters.lo, digits, out));
  } else {
    const { words } = counters;
    core.write(ctr, new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
    callCore(core, (e) => e[spec.codes](states, n, ctr, digits, out));
  }
  if (!into) return readWords(out, n);
  // A caller's array that is already in use: a plain copy, no new pages (see ResidentKeySet.codesInto).
  new Uint8Array(into.buffer, into.byteOffset, n * 4).set(core.view().subarray(out, out + n * 4));
  return into;
}

/** A copy of `n` u32 words at `ptr`, in a new array (the core's memory is little-endian, as is x86/ARM JS). */
function readWords(ptr: number, n: number): Uint32Array {
  return new Uint32Array(hashCore().read(ptr, n * 4).buffer, 0, n);
}

/** A validated search request: the window clipped to [0, 2^64-1] and the code as a number. */
export interface SearchPlan {
  first: bigint;
  steps: number;
  /** Offset of `first` from the centre counter (0 or negative). */
  firstOffset: number;
  digits: number;
  target: number;
}

/** Validates a window search; counters beyond either end of the 64-bit range are skipped. */
export function planSearch(code: unknown, counter: unknown, window: unknown): SearchPlan {
  adigits(code, "code", MIN_DIGITS, MAX_DIGITS);
  const centre = au64(counter, "counter");
  aint(window, "window", 0, MAX_WINDOW);
  const k = BigInt(window);
  const first = centre > k ? centre - k : 0n;
  const last = centre + k > U64_MAX ? U64_MAX : centre + k;
  return {
    first,
    steps: Number(last - first + 1n),
    firstOffset: Number(first - centre),
    digits: code.length,
    target: Number(code),
  };
}

/** Match pairs a search buffer holds before a rerun is needed (see {@link searchInto}). */
export const SEARCH_CAPACITY = 16;
/** Bytes of the buffer for {@link SEARCH_CAPACITY} (key, step) pairs. */
export const SEARCH_BUFFER_BYTES = SEARCH_CAPACITY * 8;

/**
 * Every (key, offset) whose code equals the plan's, sorted by key then offset. `out` holds
 * SEARCH_CAPACITY pairs; matches are rare (about n * steps / 10^digits), and when there are more the
 * search runs again into a buffer of the exact size (no view is held across that allocation).
 */
export function searchInto(spec: AlgorithmSpec, states: number, n: number, plan: SearchPlan, out: number): WindowMatch[] {
  // A 10-digit code above 2^31-1 cannot come out of RFC 4226 truncation, which keeps 31 bits.
  if (plan.target > 0x7fffffff) return [];
  const core = hashCore();
  const hi = Number(plan.first >> 32n);
  const lo = Number(plan.first & 0xffffffffn);
  const run = (buffer: number, cap: number) => {
    const found = callCore(core, (e) => e[spec.search](states, n, hi, lo, plan.steps, plan.digits, plan.target, buffer, cap)) >>> 0;
    return { found, pairs: readWords(buffer, 2 * Math.min(found, cap)) };
  };
  let { found, pairs } = run(out, SEARCH_CAPACITY);
  if (found > SEARCH_CAPACITY) ({ found, pairs } = core.scoped([found * 8], (big) => run(big!, found)));
  const matches: WindowMatch[] = [];
  for (let i = 0; i < found; i++) matches.push({ key: pairs[2 * i]!, offset: pairs[2 * i + 1]! + plan.firstOffset });
  return matches.sort((a, b) => a.key - b.key || a.offset - b.offset);
}
