import { createCipheriv, createDecipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { OtpbridgeError, reasonOf } from "../../src/lib/errors.js";
import { aes256CbcDecrypt, aes256CbcEncrypt } from "../../src/crypto/aes.js";
import { cipherCore } from "../../src/crypto/cipher-exports.js";
import { prng } from "../fixtures/prng.js";
import { hex, toHex } from "./hex.js";
import { thrownBy } from "../fixtures/errors.js";

const ZERO_IV = new Uint8Array(16);

function nodeEncrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv("aes-256-cbc", key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

/** node:crypto's answer: the plaintext, or null when it rejects the padding. */
function nodeDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Buffer | null {
  const d = createDecipheriv("aes-256-cbc", key, iv);
  try {
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    return null;
  }
}

function ourDecrypt(key: Uint8Array, iv: Uint8Array, data: Uint8Array): Uint8Array | null {
  try {
    return aes256CbcDecrypt(key, iv, data);
  } catch (error) {
    if (reasonOf(error) === "DECRYPTION_FAILED") return null;
    throw error;
  }
}

describe("AES-256-CBC", () => {
  it("FIPS 197 C.3: the first CBC block under a zero IV is the AES-256 known answer", () => {
    const key = hex("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F");
    const ct = aes256CbcEncrypt(key, ZERO_IV, hex("00112233445566778899AABBCCDDEEFF"));
    expect(ct.length).toBe(32); // a whole block of PKCS#7 padding follows
    expect(toHex(ct.subarray(0, 16))).toBe("8EA2B7CA516745BFEAFC49904B496089");
  });

  it("SP 800-38A F.2.5: CBC-AES256 first block", () => {
    const key = hex("603DEB1015CA71BE2B73AEF0857D77811F352C073B6108D72D9810A30914DFF4");
    const iv = hex("000102030405060708090A0B0C0D0E0F");
    const ct = aes256CbcEncrypt(key, iv, hex("6BC1BEE22E409F96E93D7E117393172A"));
    expect(toHex(ct.subarray(0, 16))).toBe("F58C4C04D6E5F1BA779EABFB5F7BFBD6");
  });

  it("docs/PROTOCOL.md E1: the WRITE_HOTP_SEED seal (IV-2 = zeros) and its opening", () => {
    const key = hex("60921339DA81E9644B298C5DAF173968C35A671107C5B5F9849AA885CC4720ED");
    const clear = hex("060A48656C6C6F21DEADBEEF");
    expect(toHex(aes256CbcEncrypt(key, ZERO_IV, clear))).toBe("5673047900993858C271835823B89E1E");
    expect(aes256CbcDecrypt(key, ZERO_IV, hex("5673047900993858C271835823B89E1E"))).toEqual(clear);
  });

  it("matches node:crypto aes-256-cbc both ways on 10,000 random keys, IVs and every length 0..80 (seed 0xae5)", () => {
    const rng = prng(0xae5);
    for (let i = 0; i < 10_000; i++) {
      const [key, iv, plain] = [rng.bytes(32), rng.bytes(16), rng.bytes(i % 81)];
      const ct = aes256CbcEncrypt(key, iv, plain);
      expect(toHex(ct)).toBe(toHex(nodeEncrypt(key, iv, plain)));
      expect(toHex(aes256CbcDecrypt(key, iv, ct))).toBe(toHex(plain));
    }
  });

  it("accepts and rejects padding exactly as node:crypto does, on 3,000 random and crafted ciphertexts (seed 0x7c5)", () => {
    const rng = prng(0x7c5);
    let accepted = 0;
    for (let i = 0; i < 3_000; i++) {
      const [key, iv] = [rng.bytes(32), rng.bytes(16)];
      // Crafted: a last block whose plaintext ends in a chosen pad pattern (valid, too long, 0, mismatched).
      const block = rng.bytes(16 * rng.range(1, 3));
      if (i % 2 === 0) {
        const plainTail = rng.bytes(16);
        const pad = rng.range(0, 17);
        plainTail.fill(pad, 16 - Math.min(pad, 16));
        if (i % 6 === 0 && pad > 1) plainTail[16 - pad]! ^= 1 << rng.range(0, 7); // one wrong pad byte
        const prev = block.length > 16 ? block.subarray(block.length - 32, block.length - 16) : iv;
        const d = createCipheriv("aes-256-ecb", key, null).setAutoPadding(false);
        const x = plainTail.map((b, j) => b ^ prev[j]!);
        block.set(d.update(x), block.length - 16);
      }
      const want = nodeDecrypt(key, iv, block);
      const got = ourDecrypt(key, iv, block);
      expect(got === null ? null : toHex(got)).toBe(want === null ? null : toHex(want));
      if (want) accepted++;
    }
    expect(accepted).toBeGreaterThan(500); // both outcomes were exercised
  });

  it("fails with DECRYPTION_FAILED under a wrong key, with no detail", () => {
    const ct = aes256CbcEncrypt(new Uint8Array(32).fill(1), ZERO_IV, new Uint8Array(20));
    const thrown = thrownBy(() => aes256CbcDecrypt(new Uint8Array(32).fill(2), ZERO_IV, ct));
    // A wrong key gives valid-looking padding with probability ~1/256; this key pair does not.
    expect(thrown).toBeInstanceOf(OtpbridgeError);
    expect((thrown as OtpbridgeError).reason).toBe("DECRYPTION_FAILED");
    expect((thrown as OtpbridgeError).message).toBe("AES-256-CBC decryption failed");
    expect((thrown as OtpbridgeError).detail).toEqual({});
  });

  it("leaves no key, plaintext or heap block behind in WASM memory", () => {
    const core = cipherCore();
    const before = core.allocatedBytes();
    const rng = prng(9);
    const [key, plain] = [rng.bytes(32), rng.bytes(48)];
    aes256CbcDecrypt(key, ZERO_IV, aes256CbcEncrypt(key, ZERO_IV, plain));
    expect(() => aes256CbcDecrypt(key, ZERO_IV, rng.bytes(32))).toThrow(); // the failure path too
    expect(core.allocatedBytes()).toBe(before);
    const memory = Buffer.from(core.view());
    expect(memory.indexOf(Buffer.from(key.subarray(0, 16)))).toBe(-1);
    expect(memory.indexOf(Buffer.from(plain.subarray(0, 16)))).toBe(-1);
  });

  it("rejects malformed inputs with INVALID_INPUT", () => {
    const k = new Uint8Array(32);
    const cases: [() => unknown, ErrorConstructor | RangeErrorConstructor, RegExp][] = [
      [() => aes256CbcEncrypt(new Uint8Array(16), ZERO_IV, new Uint8Array(1)), RangeError, /^key must be 32 bytes, got 16$/],
      [() => aes256CbcEncrypt(k, new Uint8Array(12), new Uint8Array(1)), RangeError, /^iv must be 16 bytes, got 12$/],
      [() => aes256CbcEncrypt(k, ZERO_IV, "text" as unknown as Uint8Array), TypeError, /^plaintext must be a Uint8Array/],
      [() => aes256CbcDecrypt(k, ZERO_IV, new Uint8Array(0)), RangeError, /^ciphertext must be at least 16 bytes, got 0$/],
      [() => aes256CbcDecrypt(k, ZERO_IV, new Uint8Array(20)), RangeError, /^ciphertext must be a multiple of 16 bytes, got 20$/],
    ];
    for (const [fn, kind, message] of cases) {
      expect(fn).toThrow(kind);
      expect(fn).toThrow(message);
      try {
        fn();
      } catch (error) {
        expect(reasonOf(error)).toBe("INVALID_INPUT");
      }
    }
  });
});
