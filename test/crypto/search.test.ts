import { describe, expect, it } from "vitest";
import { ResidentKeySet, type WindowMatch, formatCode, hotpBatch, searchWindow } from "../../src/crypto/index.js";
import { reasonOf } from "../../src/lib/errors.js";
import { prng } from "../fixtures/prng.js";
import { ALGORITHMS, U64_MAX, nodeHotp } from "./reference.js";
import { thrownBy } from "../fixtures/errors.js";

/** Every (key, offset) in the window whose code is `code`, by exhaustive node:crypto HMACs. */
function bruteForce(algorithm: (typeof ALGORITHMS)[number], keys: Uint8Array[], centre: bigint, window: number, code: string): WindowMatch[] {
  const matches: WindowMatch[] = [];
  keys.forEach((key, index) => {
    for (let offset = 0 - window; offset <= window; offset++) {
      const counter = centre + BigInt(offset);
      if (counter < 0n || counter > U64_MAX) continue;
      if (formatCode(nodeHotp(algorithm, key, counter, code.length), code.length) === code) matches.push({ key: index, offset });
    }
  });
  return matches;
}

describe("window search", () => {
  it("finds exactly the matches an exhaustive search finds, for random keys and windows", () => {
    const rand = prng(0x5ea4c4);
    for (let round = 0; round < 60; round++) {
      const algorithm = ALGORITHMS[round % 3]!;
      const keys = Array.from({ length: 1 + rand.int(9) }, () => rand.bytes(rand.int(150)));
      const window = rand.int(12);
      const centres = [BigInt(rand.int(8)), 0xffffffffn, U64_MAX - BigInt(rand.int(4)), rand.u64()];
      const centre = centres[round % centres.length]!;
      // The target is a real code of a random key and offset (4 digits, so other keys collide sometimes).
      const digits = round % 2 === 0 ? 4 : 6;
      const planted = rand.int(keys.length);
      let at = centre + BigInt(rand.int(2 * window + 1) - window);
      if (at < 0n) at = 0n;
      if (at > U64_MAX) at = U64_MAX;
      const code = formatCode(nodeHotp(algorithm, keys[planted]!, at, digits), digits);
      const expected = bruteForce(algorithm, keys, centre, window, code);
      expect(expected).toContainEqual({ key: planted, offset: Number(at - centre) });
      const where = `round ${round} ${algorithm}`;
      expect(searchWindow(algorithm, keys, centre, window, code), where).toEqual(expected);
      const set = ResidentKeySet.load(algorithm, keys);
      expect(set.search(code, centre, window), where).toEqual(expected);
      set.release();
    }
  });

  it("collects more matches than the first buffer holds", () => {
    // 4-digit codes over 120 keys x 1,001 counters: about 12 matches per code expected, so search for
    // each key's code at the centre until one run exceeds the 16 pairs of the first buffer.
    const rand = prng(77);
    const keys = Array.from({ length: 120 }, () => rand.bytes(20));
    const set = ResidentKeySet.load("SHA1", keys);
    const window = 500;
    const columns = Array.from({ length: 2 * window + 1 }, (_, i) => hotpBatch("SHA1", keys, 1_000_000 - window + i, 4));
    let most = 0;
    for (let target = 0; target < keys.length && most <= 16; target++) {
      const code = formatCode(columns[window]![target]!, 4);
      const expected: WindowMatch[] = [];
      keys.forEach((_, key) => {
        columns.forEach((codes, i) => {
          if (codes[key] === Number(code)) expected.push({ key, offset: i - window });
        });
      });
      const found = set.search(code, 1_000_000, window);
      expect(found).toEqual(expected);
      most = Math.max(most, found.length);
    }
    expect(most).toBeGreaterThan(16);
    set.release();
  });

  it("skips counters outside 0..2^64-1 and never matches a 10-digit code above 2^31-1", () => {
    const key = new Uint8Array(20).fill(9);
    const low = formatCode(nodeHotp("SHA256", key, 0n, 6), 6);
    expect(searchWindow("SHA256", [key], 2, 5, low)).toContainEqual({ key: 0, offset: -2 });
    const high = formatCode(nodeHotp("SHA256", key, U64_MAX, 8), 8);
    expect(searchWindow("SHA256", [key], U64_MAX - 1n, 3, high)).toContainEqual({ key: 0, offset: 1 });
    // 9999999999 mod 2^32 is below 2^31: a wrapped comparison could match it, a correct one cannot.
    expect(searchWindow("SHA1", [key], 0, 10, "9999999999")).toEqual([]);
  });

  it("rejects malformed codes and windows with INVALID_INPUT", () => {
    const keys = [new Uint8Array(20)];
    const cases: Array<[() => unknown, ErrorConstructor | RangeErrorConstructor]> = [
      [() => searchWindow("SHA1", keys, 0, 1, "12a456"), RangeError],
      [() => searchWindow("SHA1", keys, 0, 1, "123"), RangeError],
      [() => searchWindow("SHA1", keys, 0, 1, "12345678901"), RangeError],
      [() => searchWindow("SHA1", keys, 0, 1, 123456 as never), TypeError],
      [() => searchWindow("SHA1", keys, 0, -1, "123456"), RangeError],
      [() => searchWindow("SHA1", keys, 0, 2 ** 21, "123456"), RangeError],
      [() => searchWindow("SHA1", keys, -1, 1, "123456"), RangeError],
      [() => searchWindow("SHA1", [new Uint8Array(1), "x"] as never, 0, 1, "123456"), TypeError],
    ];
    for (const [fn, kind] of cases) {
      const thrown = thrownBy(fn);
      expect(thrown, String(fn)).toBeInstanceOf(kind);
      expect(reasonOf(thrown)).toBe("INVALID_INPUT");
      expect((thrown as Error).message).not.toContain("12a456");
    }
  });
});
