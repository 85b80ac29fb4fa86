import { describe, expect, it } from "vitest";
import { aarray, abool, abytes, aint, aoneOf, au64 } from "../../src/lib/checks.js";
import { reasonOf } from "../../src/lib/errors.js";
import { thrownBy } from "../fixtures/errors.js";

describe("input checks", () => {
  it("rejects the wrong kind with TypeError and the wrong size with RangeError, reason INVALID_INPUT", () => {
    const cases: [() => void, ErrorConstructor | RangeErrorConstructor, RegExp][] = [
      [() => abytes("abc", "seed"), TypeError, /seed must be a Uint8Array, got string/],
      [() => abytes([1, 2], "seed"), TypeError, /got an array/],
      [() => abytes(new Uint8Array(3), "key", { length: 16 }), RangeError, /key must be 16 bytes, got 3/],
      [() => abytes(new Uint8Array(64), "seed", { max: 63 }), RangeError, /at most 63 bytes, got 64/],
      [() => abytes(new Uint8Array(0), "seed", { min: 1 }), RangeError, /at least 1 bytes, got 0/],
      [() => abytes(new Uint8Array(17), "data", { multipleOf: 16 }), RangeError, /multiple of 16 bytes, got 17/],
      [() => aarray({ length: 1 }, "requests", 10), TypeError, /requests must be an array, got object/],
      [() => aarray([1, 2, 3], "requests", 2), RangeError, /at most 2 items, got 3/],
      [() => abool(1, "options.encrypt"), TypeError, /options.encrypt must be a boolean, got number/],
      [() => aint(3.5, "digits", 4, 10), TypeError, /digits must be an integer/],
      [() => aint(11, "digits", 4, 10), RangeError, /between 4 and 10$/],
      [() => aoneOf("MD5", "algorithm", ["SHA1", "SHA256"]), RangeError, /one of SHA1, SHA256, got another string$/],
      [() => au64(-1n, "counter"), RangeError, /between 0 and 2\^64-1/],
      [() => au64(1n << 64n, "counter"), RangeError, /between 0 and 2\^64-1/],
      [() => au64(2 ** 53, "counter"), RangeError, /safe integer/],
      [() => au64("5", "counter"), TypeError, /bigint or an integer/],
    ];
    for (const [fn, kind, message] of cases) {
      const thrown = thrownBy(fn);
      expect(thrown).toBeInstanceOf(kind);
      expect((thrown as Error).message).toMatch(message);
      expect(reasonOf(thrown)).toBe("INVALID_INPUT");
    }
  });

  it("never quotes byte content in a message", () => {
    const secret = new Uint8Array([0x53, 0x45, 0x43, 0x52, 0x45, 0x54]);
    expect(() => abytes(secret, "seed", { length: 20 })).toThrow(/seed must be 20 bytes, got 6$/);
  });

  it("accepts the valid edges", () => {
    expect(au64(0, "c")).toBe(0n);
    expect(au64((1n << 64n) - 1n, "c")).toBe((1n << 64n) - 1n);
    expect(() => aint(4, "digits", 4, 10)).not.toThrow();
    expect(() => abytes(Buffer.alloc(16), "key", { length: 16 })).not.toThrow();
  });
});
