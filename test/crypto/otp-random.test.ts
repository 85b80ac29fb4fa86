// Differential suite: 10,000+ seeded random cases against node:crypto, through every code path (single,
// copy-in batch with one counter per key or one for all, resident key set). Batch sizes cycle through odd
// values so the 4-lane SIMD tail (1, 2 or 3 live lanes) is hit for every algorithm.
import * as OTPAuth from "otpauth";
import { describe, expect, it } from "vitest";
import { ResidentKeySet, formatCode, hotp, hotpBatch, hotpBatchInto, totp } from "../../src/crypto/index.js";
import { wasmCore } from "../../src/crypto/wasm.js";
import { prng } from "../fixtures/prng.js";
import { ALGORITHMS, nodeHotp, randomCounter } from "./reference.js";

const SEED = 0x07b1d9e;
const SIZES = [1, 3, 4, 5, 7, 2, 6, 8, 9, 13, 31, 64, 127];

describe(`HOTP against node:crypto (seed ${SEED})`, () => {
  it("agrees on 10,000+ random keys and counters through every path", () => {
    const rand = prng(SEED);
    const core = wasmCore();
    const before = core.allocatedBytes();
    let cases = 0;
    for (let batch = 0; cases < 10_000; batch++) {
      const algorithm = ALGORITHMS[batch % 3]!;
      const size = SIZES[batch % SIZES.length]!;
      const digits = 4 + rand.int(7);
      const keys = Array.from({ length: size }, () => rand.bytes(rand.int(201)));
      const counters = keys.map(() => randomCounter(rand));
      const expected = keys.map((key, i) => nodeHotp(algorithm, key, counters[i]!, digits));
      const where = `seed ${SEED} batch ${batch} (${algorithm}, ${size} keys, ${digits} digits)`;

      expect(Array.from(hotpBatch(algorithm, keys, counters, digits)), where).toEqual(expected);
      // Safe-integer counters take the number path of the encoder.
      const asNumbers = counters.map((c) => (c <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(c) : c));
      expect(Array.from(hotpBatch(algorithm, keys, asNumbers, digits)), where).toEqual(expected);
      // The Into variants fill the front of a longer array and leave the rest alone.
      const into = new Uint32Array(size + 2).fill(0xdeadbeef);
      expect(hotpBatchInto(into, algorithm, keys, counters, digits), where).toBe(into);
      expect(Array.from(into), where).toEqual([...expected, 0xdeadbeef, 0xdeadbeef]);
      const set = ResidentKeySet.load(algorithm, keys);
      try {
        expect(Array.from(set.codes(counters, digits)), where).toEqual(expected);
        into.fill(0);
        expect(Array.from(set.codesInto(into, counters, digits).subarray(0, size)), where).toEqual(expected);
        const shared = counters[0]!;
        const atShared = keys.map((key) => nodeHotp(algorithm, key, shared, digits));
        expect(Array.from(set.codes(shared, digits)), where).toEqual(atShared);
        expect(Array.from(hotpBatch(algorithm, keys, shared, digits)), where).toEqual(atShared);
        expect(Array.from(set.codesInto(into, shared, digits).subarray(0, size)), where).toEqual(atShared);
      } finally {
        set.release();
      }
      keys.forEach((key, i) => {
        expect(hotp(algorithm, key, counters[i]!, digits), `${where} key ${i}`).toBe(formatCode(expected[i]!, digits));
      });
      cases += size;
    }
    expect(cases).toBeGreaterThanOrEqual(10_000);
    expect(core.allocatedBytes()).toBe(before);
  });
});

describe("TOTP against otpauth", () => {
  it("agrees on 600 random secrets, times, periods and digit counts", () => {
    const rand = prng(SEED + 1);
    for (let i = 0; i < 600; i++) {
      const algorithm = ALGORITHMS[i % 3]!;
      const key = rand.bytes(1 + rand.int(100));
      const digits = 6 + rand.int(3);
      const period = [15, 30, 60, 90][rand.int(4)]!;
      // Milliseconds up to year ~4000, with sub-second parts.
      const timestamp = rand.int(2 ** 32) * 16 + rand.int(1000);
      const reference = OTPAuth.TOTP.generate({
        secret: new OTPAuth.Secret({ buffer: key.slice().buffer }),
        algorithm,
        digits,
        period,
        timestamp,
      });
      expect(totp(algorithm, key, { time: timestamp / 1000, period, digits }), `seed ${SEED + 1} case ${i}`).toBe(reference);
    }
  });
});
