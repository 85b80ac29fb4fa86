import { describe, expect, it } from "vitest";
import { formatCode, hotp, totp, totpCounter } from "../../src/crypto/index.js";
import { reasonOf } from "../../src/lib/errors.js";
import { thrownBy } from "../fixtures/errors.js";

const ascii = (s: string) => new TextEncoder().encode(s);

// RFC 4226 Appendix D: key "12345678901234567890", counters 0-9, the 31-bit truncated value and the
// 6-digit code. The 31-bit value zero-padded to 10 characters is also the 10-digit code.
const RFC4226 = [
  [1284755224, "755224"],
  [1094287082, "287082"],
  [137359152, "359152"],
  [1726969429, "969429"],
  [1640338314, "338314"],
  [868254676, "254676"],
  [1918287922, "287922"],
  [82162583, "162583"],
  [673399871, "399871"],
  [645520489, "520489"],
] as const;

// RFC 6238 Appendix B: every row; the seeds are the ASCII strings of the reference implementation.
const SEEDS = {
  SHA1: ascii("12345678901234567890"),
  SHA256: ascii("12345678901234567890123456789012"),
  SHA512: ascii("1234567890123456789012345678901234567890123456789012345678901234"),
} as const;
const RFC6238: Array<[time: number, step: string, sha1: string, sha256: string, sha512: string]> = [
  [59, "0000000000000001", "94287082", "46119246", "90693936"],
  [1111111109, "00000000023523EC", "07081804", "68084774", "25091201"],
  [1111111111, "00000000023523ED", "14050471", "67062674", "99943326"],
  [1234567890, "000000000273EF07", "89005924", "91819424", "93441116"],
  [2000000000, "0000000003F940AA", "69279037", "90698825", "38618901"],
  [20000000000, "0000000027BC86AA", "65353130", "77737706", "47863826"],
];

describe("HOTP (RFC 4226 Appendix D)", () => {
  const key = ascii("12345678901234567890");
  it.each(RFC4226.map(([value, code], counter) => [counter, value, code] as const))("counter %i", (counter, value, code) => {
    expect(hotp("SHA1", key, counter)).toBe(code);
    expect(hotp("SHA1", key, BigInt(counter), 6)).toBe(code);
    expect(hotp("SHA1", key, counter, 10)).toBe(String(value).padStart(10, "0"));
    expect(hotp("SHA1", key, counter, 8)).toBe(String(value % 1e8).padStart(8, "0"));
    expect(hotp("SHA1", key, counter, 4)).toBe(String(value % 1e4).padStart(4, "0"));
  });
});

describe("TOTP (RFC 6238 Appendix B)", () => {
  it.each(RFC6238)("time %i (T = %s)", (time, step, sha1, sha256, sha512) => {
    expect(totpCounter({ time })).toBe(parseInt(step, 16));
    expect(totp("SHA1", SEEDS.SHA1, { time, digits: 8 })).toBe(sha1);
    expect(totp("SHA256", SEEDS.SHA256, { time, digits: 8 })).toBe(sha256);
    expect(totp("SHA512", SEEDS.SHA512, { time, digits: 8 })).toBe(sha512);
  });

  it("applies T0 and the period, and floors fractional times", () => {
    expect(totpCounter({ time: 1000.999, period: 60, t0: 100 })).toBe(15);
    expect(totp("SHA1", SEEDS.SHA1, { time: 59.9, digits: 8 })).toBe("94287082");
    expect(totp("SHA1", SEEDS.SHA1, { time: 59 + 1000, t0: 1000, digits: 8 })).toBe("94287082");
  });
});

describe("code formatting and input checks", () => {
  it("zero-pads codes", () => {
    expect(formatCode(7, 6)).toBe("000007");
    expect(formatCode(2147483647, 10)).toBe("2147483647");
  });

  it("rejects bad inputs with TypeError or RangeError, reason INVALID_INPUT", () => {
    const key = ascii("12345678901234567890");
    const cases: Array<[() => unknown, ErrorConstructor | RangeErrorConstructor, RegExp]> = [
      [() => hotp("SHA1", key, -1), RangeError, /counter must be between 0 and 2\^64-1/],
      [() => hotp("SHA1", key, 1n << 64n), RangeError, /counter/],
      [() => hotp("SHA1", key, 2 ** 53), RangeError, /counter must be a safe integer/],
      [() => hotp("SHA1", key, 1.5), RangeError, /counter/],
      [() => hotp("SHA1", key, "1" as never), TypeError, /counter/],
      [() => hotp("SHA1", key, 0, 3), RangeError, /digits must be between 4 and 10/],
      [() => hotp("SHA1", key, 0, 11), RangeError, /digits/],
      [() => hotp("SHA1", key, 0, 6.5), TypeError, /digits must be an integer/],
      [() => hotp("SHA384" as never, key, 0), RangeError, /algorithm must be one of SHA1, SHA256, SHA512/],
      [() => hotp("SHA1", Array.from(key) as never, 0), TypeError, /key must be a Uint8Array/],
      [() => totp("SHA1", key, { time: Number.NaN }), TypeError, /time must be an integer/],
      [() => totp("SHA1", key, { time: 5, t0: 10 }), RangeError, /time must be between 10/],
      [() => totp("SHA1", key, { period: 0 }), RangeError, /period/],
      [() => totp("SHA1", key, { digits: 12 }), RangeError, /digits/],
      [() => formatCode(1_000_000, 6), RangeError, /code must be between 0 and 999999/],
      [() => formatCode(-1, 6), RangeError, /code/],
    ];
    for (const [fn, kind, message] of cases) {
      const thrown = thrownBy(fn);
      expect(thrown, String(fn)).toBeInstanceOf(kind);
      expect((thrown as Error).message).toMatch(message);
      expect(reasonOf(thrown)).toBe("INVALID_INPUT");
    }
  });

  it("handles counters across the whole 64-bit range", () => {
    const key = ascii("12345678901234567890");
    const max = (1n << 64n) - 1n;
    expect(hotp("SHA1", key, max)).toMatch(/^\d{6}$/);
    expect(hotp("SHA512", key, 2 ** 53 - 1)).toBe(hotp("SHA512", key, 2n ** 53n - 1n));
  });
});
