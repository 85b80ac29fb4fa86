/**
 * HOTP (RFC 4226) and TOTP (RFC 6238) codes on the WASM core: one code here, batches and window searches
 * over many keys in {@link hotpBatch} and {@link searchWindow}, and resident keys in key-set.ts.
 */
import { abytes, aint, aoneOf, au32array, au64 } from "../lib/checks.js";
import { type HashAlgorithm, HASH_ALGORITHMS, SPECS, hashCore } from "./_hash-core.js";
import {
  type Counters,
  type WindowMatch,
  MAX_DIGITS,
  MIN_DIGITS,
  SEARCH_BUFFER_BYTES,
  batchLayout,
  checkKeys,
  counterBytes,
  codesInto,
  deriveStates,
  encodeCounters,
  planSearch,
  searchInto,
  withBlockKeys,
} from "./_batch.js";
import { MAX_HASH_INPUT } from "./hash.js";
import { hmacUnchecked } from "./hmac.js";

export { type Counters, type WindowMatch, MAX_BATCH_KEYS, MAX_DIGITS, MAX_WINDOW, MIN_DIGITS } from "./_batch.js";

export interface TotpOptions {
  /** Unix time in seconds (fractions allowed); default: now. */
  time?: number;
  /** Time step X in seconds (RFC 6238 §4.1); default 30. */
  period?: number;
  /** Code length, 4 to 10; default 6. */
  digits?: number;
  /** Unix time T0 at which counting starts (RFC 6238 §4.1); default 0. */
  t0?: number;
}

/**
 * The HOTP code for one key and counter (RFC 4226 §5.3).
 * @param counter the moving factor, 0 to 2^64-1, as a bigint or a safe integer.
 * @param digits code length, 4 to 10 (default 6).
 * @returns the code, zero-padded to `digits`.
 * @throws TypeError / RangeError (reason INVALID_INPUT) for an unknown algorithm, a key that is not a
 *   Uint8Array, a counter out of range or not an integer, or digits out of range.
 * @example hotp("SHA1", new TextEncoder().encode("12345678901234567890"), 0) // "755224"
 */
export function hotp(algorithm: HashAlgorithm, key: Uint8Array, counter: bigint | number, digits = 6): string {
  aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
  abytes(key, "key", { max: MAX_HASH_INPUT });
  const moving = au64(counter, "counter");
  aint(digits, "digits", MIN_DIGITS, MAX_DIGITS);
  // RFC 4226 §5.2: the counter is hashed as 8 bytes, big-endian.
  const message = new Uint8Array(8);
  new DataView(message.buffer).setBigUint64(0, moving);
  const mac = hmacUnchecked(SPECS[algorithm], key, message);
  try {
    return formatCode(truncate(mac, digits), digits);
  } finally {
    mac.fill(0);
  }
}

/**
 * The RFC 6238 time step T = floor((time - T0) / period) for the given options.
 * @throws TypeError / RangeError (reason INVALID_INPUT) if time is not a finite number at or after t0,
 *   or period (1 to 2^32) or t0 (0 or more) is not an integer in range.
 * @example totpCounter({ time: 59 }) // 1
 */
export function totpCounter(options: Omit<TotpOptions, "digits"> = {}): number {
  const { time = Date.now() / 1000, period = 30, t0 = 0 } = options;
  aint(period, "period", 1, 2 ** 32);
  aint(t0, "t0", 0, Number.MAX_SAFE_INTEGER);
  // Whole seconds: with integer t0 and period, flooring first gives the same step as RFC 6238's floor.
  const seconds = typeof time === "number" ? Math.floor(time) : time;
  aint(seconds, "time", t0, Number.MAX_SAFE_INTEGER);
  return Math.floor((seconds - t0) / period);
}

/**
 * The TOTP code (RFC 6238 §4.2): the HOTP code of the time step {@link totpCounter}.
 * @throws TypeError / RangeError (reason INVALID_INPUT) as {@link hotp} and {@link totpCounter}.
 * @example totp("SHA1", key, { time: 59, digits: 8 }) // "94287082" for the RFC 6238 SHA-1 key
 */
export function totp(algorithm: HashAlgorithm, key: Uint8Array, options: TotpOptions = {}): string {
  return hotp(algorithm, key, totpCounter(options), options.digits ?? 6);
}

/**
 * A numeric code as a string of exactly `digits` characters, zero-padded on the left.
 * @throws TypeError / RangeError (reason INVALID_INPUT) if digits is not 4 to 10 or the code does not fit.
 * @example formatCode(7, 6) // "000007"
 */
export function formatCode(code: number, digits: number): string {
  aint(digits, "digits", MIN_DIGITS, MAX_DIGITS);
  aint(code, "code", 0, Math.min(10 ** digits - 1, 0x7fffffff));
  return String(code).padStart(digits, "0");
}

/**
 * HOTP codes for many keys in one call: one counter for every key, or one counter per key. Keys are
 * copied into WASM memory, their HMAC states derived (4 keys per SIMD lane group for SHA-1/SHA-256),
 * and everything is zeroed afterwards. For repeated batches over the same keys, see ResidentKeySet.
 * @param counters a bigint or safe integer for all keys, or an array with one per key.
 * @returns the numeric codes, index for index with `keys` ({@link formatCode} pads them).
 * @throws TypeError / RangeError (reason INVALID_INPUT) for an unknown algorithm, keys that are not
 *   Uint8Arrays (or over MAX_BATCH_KEYS of them), counters out of range or of the wrong count, bad digits.
 * @example hotpBatch("SHA1", [k1, k2, k3], 56_666_666n) // Uint32Array(3)
 */
export function hotpBatch(algorithm: HashAlgorithm, keys: readonly Uint8Array[], counters: Counters, digits = 6): Uint32Array {
  return batch(algorithm, keys, counters, digits, false, undefined);
}

/**
 * As {@link hotpBatch}, into the first `keys.length` elements of `out`, which is returned (saves a new
 * array per call; see ResidentKeySet.codesInto).
 * @throws as {@link hotpBatch}, and TypeError / RangeError (INVALID_INPUT) if `out` is not a
 *   Uint32Array of at least `keys.length` elements.
 * @example hotpBatchInto(out, "SHA1", keys, totpCounter())
 */
export function hotpBatchInto(out: Uint32Array, algorithm: HashAlgorithm, keys: readonly Uint8Array[], counters: Counters, digits = 6): Uint32Array {
  return batch(algorithm, keys, counters, digits, true, out);
}

function batch(algorithm: HashAlgorithm, keys: readonly Uint8Array[], counters: Counters, digits: number, hasOut: boolean, into: unknown): Uint32Array {
  aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
  checkKeys(keys);
  if (hasOut) au32array(into, "out", keys.length);
  const encoded = encodeCounters(counters, keys.length);
  aint(digits, "digits", MIN_DIGITS, MAX_DIGITS);
  const n = keys.length;
  if (n === 0) return hasOut ? (into as Uint32Array) : new Uint32Array(0);
  const spec = SPECS[algorithm];
  const out = hasOut ? (into as Uint32Array) : undefined;
  return withBlockKeys(spec, keys, (blockKeys) => {
    const core = hashCore();
    const layout = batchLayout(spec, n);
    // Every buffer is allocated before the first write (growth would move nothing we hold), and each
    // is zeroed on release.
    return core.scoped([layout.slots, layout.states, counterBytes(encoded), layout.codes], (slots, states, ctr, codes) => {
      deriveStates(spec, blockKeys, slots!, states!);
      return codesInto(spec, states!, n, encoded, digits, ctr!, codes!, out);
    });
  });
}

/**
 * Finds which keys produce `code` at a counter within `window` steps of `counter` (c-k..c+k; counters
 * outside 0..2^64-1 are skipped). With TOTP, pass {@link totpCounter} as the counter.
 * @param code the code to look for; its length (4 to 10) is the number of digits.
 * @returns every match, sorted by key index then offset (negative: an earlier counter).
 * @throws TypeError / RangeError (reason INVALID_INPUT) for bad keys, counter, window (0 to MAX_WINDOW)
 *   or a code that is not 4 to 10 ASCII digits.
 * @example searchWindow("SHA1", keys, 1000, 2, "287082") // [{ key: 0, offset: -1 }] if key 0 gave it at 999
 */
export function searchWindow(algorithm: HashAlgorithm, keys: readonly Uint8Array[], counter: bigint | number, window: number, code: string): WindowMatch[] {
  aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
  checkKeys(keys);
  const plan = planSearch(code, counter, window);
  const n = keys.length;
  if (n === 0) return [];
  const spec = SPECS[algorithm];
  return withBlockKeys(spec, keys, (blockKeys) => {
    const core = hashCore();
    const layout = batchLayout(spec, n);
    return core.scoped([layout.slots, layout.states, SEARCH_BUFFER_BYTES], (slots, states, out) => {
      deriveStates(spec, blockKeys, slots!, states!);
      return searchInto(spec, states!, n, plan, out!);
    });
  });
}

/** RFC 4226 §5.3 dynamic truncation and reduction, in JS for the one-code path. */
function truncate(mac: Uint8Array, digits: number): number {
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  // A 31-bit value is below 10^10, so 10 digits need no reduction.
  return digits === 10 ? binary : binary % 10 ** digits;
}
