/**
 * HOTP/TOTP keys kept resident in WASM memory as precomputed HMAC states: loading N keys costs two
 * compressions each once, after which a code costs two compressions (inner and outer), computed
 * 4 keys at a time in SIMD lanes for SHA-1 and SHA-256.
 */
import { abytes, aint, aoneOf, au32array } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import { type HashAlgorithm, HASH_ALGORITHMS, SPECS, callCore, hashCore } from "./_hash-core.js";
import {
  type Counters,
  type WindowMatch,
  MAX_BATCH_KEYS,
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
  writeKeySlot,
} from "./_batch.js";
import { MAX_HASH_INPUT } from "./hash.js";

/** Puts key `index` (0 to count-1, each once) of a set being loaded by {@link ResidentKeySet.loadEach}. */
export type PutKey = (index: number, key: Uint8Array) => void;

// A set dropped without release() still has its states zeroed and freed once it is collected.
const registry = new FinalizationRegistry<number>((states) => hashCore().release(states));

/**
 * N keys whose inner/outer HMAC states (RFC 2104 §2) live in WASM memory until {@link release}, which
 * zeroes them. The JS object holds only a pointer; no key bytes stay in JS.
 * @example
 * const set = ResidentKeySet.load("SHA1", keys);
 * try { const codes = set.codes(totpCounter()); } finally { set.release(); }
 */
export class ResidentKeySet {
  readonly algorithm: HashAlgorithm;
  /** Number of keys; codes and search results index keys in load order. */
  readonly size: number;
  #states: number | undefined;

  private constructor(algorithm: HashAlgorithm, size: number, states: number) {
    this.algorithm = algorithm;
    this.size = size;
    this.#states = states;
    registry.register(this, states, this);
  }

  /**
   * Derives and keeps the HMAC states of `keys` (any length; longer than a block: hashed first). The
   * key bytes copied into WASM memory are zeroed before this returns.
   * @throws TypeError / RangeError (reason INVALID_INPUT) for an unknown algorithm, or keys that are not
   *   an array of Uint8Array (at most MAX_BATCH_KEYS).
   */
  static load(algorithm: HashAlgorithm, keys: readonly Uint8Array[]): ResidentKeySet {
    aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
    checkKeys(keys);
    const spec = SPECS[algorithm];
    return withBlockKeys(spec, keys, (blockKeys) => {
      const core = hashCore();
      const layout = batchLayout(spec, keys.length);
      const states = core.alloc(layout.states);
      try {
        core.scoped([layout.slots], (slots) => deriveStates(spec, blockKeys, slots!, states));
      } catch (error) {
        core.release(states);
        throw error;
      }
      return new ResidentKeySet(algorithm, keys.length, states);
    });
  }

  /**
   * Loads `count` keys that `fill` hands over one at a time, each copied straight into its key slot in
   * WASM memory: the keys never sit together in JS memory (a find over a journal decrypts a seed,
   * puts it, and zeroes it before decrypting the next). `fill` must put every index exactly once;
   * the caller zeroes its own key arrays. The slots are zeroed and freed before this returns or throws.
   * @throws TypeError / RangeError (reason INVALID_INPUT) for an unknown algorithm, a count outside
   *   0..MAX_BATCH_KEYS, a put with a bad index or key, an index put twice or one never put, or a put
   *   after `fill` returned; whatever `fill` throws.
   * @example const set = ResidentKeySet.loadEach("SHA1", rows.length, (put) => rows.forEach((r, i) => { const k = open(r); put(i, k); k.fill(0); }));
   */
  static loadEach(algorithm: HashAlgorithm, count: number, fill: (put: PutKey) => void): ResidentKeySet {
    aoneOf(algorithm, "algorithm", HASH_ALGORITHMS);
    aint(count, "count", 0, MAX_BATCH_KEYS);
    const spec = SPECS[algorithm];
    const core = hashCore();
    const layout = batchLayout(spec, count);
    const states = core.alloc(layout.states);
    try {
      core.scoped([layout.slots], (slots) => {
        const filled = new Uint8Array(count);
        let put = 0;
        let open = true;
        fill((index, key) => {
          if (!open) throw otpbError("INVALID_INPUT", "ResidentKeySet.loadEach: put was called after fill returned");
          aint(index, "index", 0, count - 1);
          abytes(key, "key", { max: MAX_HASH_INPUT });
          if (filled[index] === 1) throw otpbError("INVALID_INPUT", `ResidentKeySet.loadEach: key ${index} was put twice`);
          writeKeySlot(spec, slots!, index, key);
          filled[index] = 1;
          put++;
        });
        open = false;
        // An index never put would search as an all-zero key: a token that does not exist.
        if (put !== count) throw otpbError("INVALID_INPUT", `ResidentKeySet.loadEach: ${count - put} of ${count} keys were never put`);
        if (count > 0) callCore(core, (e) => e[spec.keyStates](slots!, count, states));
      });
    } catch (error) {
      core.release(states);
      throw error;
    }
    return new ResidentKeySet(algorithm, count, states);
  }

  /** True once {@link release} ran. */
  get released(): boolean {
    return this.#states === undefined;
  }

  /**
   * HOTP codes of every key: at one counter for all (TOTP: {@link totpCounter}), or one counter per key.
   * @returns the numeric codes in key order (formatCode pads them).
   * @throws OtpbridgeError RELEASED after {@link release}.
   * @throws TypeError / RangeError (reason INVALID_INPUT) for counters out of range or of the wrong count,
   *   or digits not 4 to 10.
   */
  codes(counters: Counters, digits = 6): Uint32Array {
    return this.#codes(undefined, counters, digits);
  }

  /**
   * As {@link codes}, into the first `size` elements of `out`, which is returned. For callers that
   * compute codes again and again: a fresh array of 10,000 codes measured 0.1 to 0.3 ms of page faults
   * on this project's VMs, more than the copy itself.
   * @throws as {@link codes}, and TypeError / RangeError (INVALID_INPUT) if `out` is not a Uint32Array
   *   of at least `size` elements.
   * @example const out = new Uint32Array(set.size); set.codesInto(out, totpCounter());
   */
  codesInto(out: Uint32Array, counters: Counters, digits = 6): Uint32Array {
    au32array(out, "out", this.size);
    return this.#codes(out, counters, digits);
  }

  /**
   * Which keys produce `code` at a counter within `window` steps of `counter` (see searchWindow).
   * @returns matches sorted by key index then offset.
   * @throws OtpbridgeError RELEASED after {@link release}.
   * @throws TypeError / RangeError (reason INVALID_INPUT) for a bad code, counter or window.
   */
  search(code: string, counter: bigint | number, window: number): WindowMatch[] {
    const states = this.#live();
    const plan = planSearch(code, counter, window);
    if (this.size === 0) return [];
    const spec = SPECS[this.algorithm];
    return hashCore().scoped([SEARCH_BUFFER_BYTES], (out) => searchInto(spec, states, this.size, plan, out!));
  }

  /** Zeroes and frees the key states. Calling it again does nothing. */
  release(): void {
    if (this.#states === undefined) return;
    registry.unregister(this);
    hashCore().release(this.#states);
    this.#states = undefined;
  }

  #codes(into: Uint32Array | undefined, counters: Counters, digits: number): Uint32Array {
    const states = this.#live();
    const encoded = encodeCounters(counters, this.size);
    aint(digits, "digits", MIN_DIGITS, MAX_DIGITS);
    if (this.size === 0) return into ?? new Uint32Array(0);
    const spec = SPECS[this.algorithm];
    const layout = batchLayout(spec, this.size);
    return hashCore().scoped([counterBytes(encoded), layout.codes], (ctr, out) => codesInto(spec, states, this.size, encoded, digits, ctr!, out!, into));
  }

  #live(): number {
    if (this.#states === undefined) throw otpbError("RELEASED", "ResidentKeySet was used after release()");
    return this.#states;
  }
}
