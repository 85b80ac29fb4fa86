import { afterEach, describe, expect, it, vi } from "vitest";
import { ResidentKeySet, hmac, hotp, hotpBatch, hotpBatchInto, searchWindow, sha256 } from "../../src/crypto/index.js";
import { callCore, hashCore } from "../../src/crypto/_hash-core.js";
import { wasmCore } from "../../src/crypto/wasm.js";
import { OtpbridgeError, reasonOf } from "../../src/lib/errors.js";
import { prng } from "../fixtures/prng.js";
import { nodeHotp } from "./reference.js";
import { thrownBy } from "../fixtures/errors.js";

const core = wasmCore();

afterEach(() => {
  vi.restoreAllMocks();
});

describe("ResidentKeySet", () => {
  it("keeps states in WASM memory, zeroes them on release, then refuses to be used", () => {
    const rand = prng(11);
    const keys = Array.from({ length: 5 }, () => rand.bytes(32));
    const before = core.allocatedBytes();
    // Spies pass through to the real allocator; they only reveal which block holds the states.
    const alloc = vi.spyOn(core, "alloc");
    const set = ResidentKeySet.load("SHA256", keys);
    const states = alloc.mock.results[0]!.value as number;
    const bytes = 2 * 256; // two groups of 4 keys, 2 x 8 words x 16 bytes each
    expect(
      core
        .view()
        .subarray(states, states + bytes)
        .some((b) => b !== 0),
    ).toBe(true);
    expect(core.allocatedBytes()).toBe(before + bytes);

    set.release();
    expect(
      core
        .view()
        .subarray(states, states + bytes)
        .every((b) => b === 0),
    ).toBe(true);
    expect(core.allocatedBytes()).toBe(before);
    expect(set.released).toBe(true);
    set.release(); // idempotent
    const thrown = thrownBy(() => set.codes(1));
    expect(thrown).toBeInstanceOf(OtpbridgeError);
    expect(reasonOf(thrown)).toBe("RELEASED");
    expect(() => set.search("123456", 1, 1)).toThrow(/after release/);
  });

  it("stays correct after WASM memory grows under it, and returns copies", () => {
    const keys = [new Uint8Array(20).fill(1), new Uint8Array(20).fill(2)];
    const set = ResidentKeySet.load("SHA1", keys);
    const buffer = core.exports.memory.buffer;
    const big = core.alloc(32 * 1024 * 1024);
    expect(core.exports.memory.buffer).not.toBe(buffer);
    const codes = set.codes([5n, 6n], 8);
    expect(Array.from(codes)).toEqual([nodeHotp("SHA1", keys[0]!, 5n, 8), nodeHotp("SHA1", keys[1]!, 6n, 8)]);
    expect(codes.buffer).not.toBe(core.exports.memory.buffer);
    core.release(big);
    set.release();
  });

  it("handles an empty set and rejects bad counters", () => {
    const empty = ResidentKeySet.load("SHA512", []);
    expect(empty.size).toBe(0);
    expect(empty.codes(1)).toEqual(new Uint32Array(0));
    expect(empty.search("123456", 1, 3)).toEqual([]);
    empty.release();
    const set = ResidentKeySet.load("SHA1", [new Uint8Array(10), new Uint8Array(10)]);
    expect(() => set.codes([1])).toThrow(RangeError);
    expect(() => set.codes([1, -1])).toThrow(/counters\[1\] must be between 0 and 2\^64-1/);
    expect(() => set.codes([1, 2 ** 53])).toThrow(/counters\[1\] must be a safe integer/);
    expect(() => set.codes(1, 11)).toThrow(/digits/);
    expect(() => set.codesInto(new Uint32Array(1), 1)).toThrow(/out must hold at least 2 elements, got 1/);
    expect(() => set.codesInto(new Int32Array(2) as never, 1)).toThrow(TypeError);
    expect(() => hotpBatchInto([] as never, "SHA1", [new Uint8Array(1)], 1)).toThrow(/out must be a Uint32Array/);
    set.release();
    expect(() => ResidentKeySet.load("SHA1", "keys" as never)).toThrow(TypeError);
  });
});

describe("WASM memory hygiene", () => {
  it("reports INTERNAL if memory grows during a call into the core", () => {
    let grown = 0;
    let thrown: unknown;
    try {
      // The core never allocates; a callback that does stands in for a broken build.
      callCore(hashCore(), () => {
        grown = core.alloc(core.exports.memory.buffer.byteLength);
      });
    } catch (error) {
      thrown = error;
    }
    core.release(grown);
    expect(reasonOf(thrown)).toBe("INTERNAL");
  });

  it("leaves the static scratch exactly as it found it after every secret operation", () => {
    const end = core.exports.heapBase();
    const snapshot = core.view().slice(0, end);
    const key = new Uint8Array(200).fill(0xa5);
    hmac("SHA512", key, new Uint8Array(300).fill(1));
    sha256(key);
    hotp("SHA1", key, 7);
    hotpBatch("SHA256", [key, key.subarray(0, 20), key.subarray(0, 3)], 9n);
    hotpBatch("SHA512", [key], 9n);
    searchWindow("SHA1", [key, key], 100, 3, "123456");
    const set = ResidentKeySet.load("SHA1", [key]);
    set.codes(3);
    set.release();
    expect(core.view().slice(0, end)).toEqual(snapshot);
  });
});
