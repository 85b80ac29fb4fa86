import { createCipheriv, createDecipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { cipherCore } from "../../src/crypto/cipher-exports.js";
import { sm4DecryptEcb, sm4EncryptEcb } from "../../src/crypto/sm4.js";
import { prng } from "../fixtures/prng.js";
import { hex, toHex } from "./hex.js";

function nodeSm4Ecb(decrypt: boolean, key: Uint8Array, data: Uint8Array): Uint8Array {
  const c = decrypt ? createDecipheriv("sm4-ecb", key, null) : createCipheriv("sm4-ecb", key, null);
  c.setAutoPadding(false);
  return new Uint8Array(Buffer.concat([c.update(data), c.final()]));
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

describe("SM4-ECB", () => {
  it("K1: GM/T 0002 known answer (docs/PROTOCOL.md Appendix A)", () => {
    const k = hex("0123456789ABCDEFFEDCBA9876543210");
    expect(toHex(sm4EncryptEcb(k, k))).toBe("681EDF34D206965E86B3E94F536E4246");
    expect(sm4DecryptEcb(k, hex("681EDF34D206965E86B3E94F536E4246"))).toEqual(k);
  });

  it("K1 in every lane position and every tail length (1..9 blocks of the same plaintext)", () => {
    const k = hex("0123456789ABCDEFFEDCBA9876543210");
    for (let blocks = 1; blocks <= 9; blocks++) {
      const pt = new Uint8Array(16 * blocks);
      for (let b = 0; b < blocks; b++) pt.set(k, 16 * b);
      const ct = sm4EncryptEcb(k, pt);
      for (let b = 0; b < blocks; b++) expect(toHex(ct.subarray(16 * b, 16 * b + 16))).toBe("681EDF34D206965E86B3E94F536E4246");
    }
  });

  it("matches node:crypto sm4-ecb both ways on 10,000 random keys and lengths 0..160 (seed 0x5eed4)", () => {
    const rng = prng(0x5eed4);
    for (let i = 0; i < 10_000; i++) {
      const key = rng.bytes(16);
      const data = rng.bytes(16 * rng.range(0, 10));
      // Hex strings: vitest's deep equality on typed arrays costs ~0.2 ms per call.
      expect(toHex(sm4EncryptEcb(key, data))).toBe(toHex(nodeSm4Ecb(false, key, data)));
      expect(toHex(sm4DecryptEcb(key, data))).toBe(toHex(nodeSm4Ecb(true, key, data)));
    }
  });

  it("does not modify its inputs and returns copies, not views of WASM memory", () => {
    const key = hex("0123456789ABCDEFFEDCBA9876543210");
    const data = new Uint8Array(48).fill(0x42);
    const out = sm4EncryptEcb(key, data);
    expect(data).toEqual(new Uint8Array(48).fill(0x42));
    expect(out.buffer).not.toBe(cipherCore().exports.memory.buffer);
    expect(out.byteOffset).toBe(0);
    expect(out.buffer.byteLength).toBe(48);
  });

  it("leaves no key, plaintext or heap block behind in WASM memory", () => {
    const core = cipherCore();
    const before = core.allocatedBytes();
    const rng = prng(77);
    const key = rng.bytes(16);
    const plain = rng.bytes(64);
    sm4DecryptEcb(key, sm4EncryptEcb(key, plain));
    expect(core.allocatedBytes()).toBe(before);
    const memory = core.view();
    expect(contains(memory, key)).toBe(false);
    expect(contains(memory, plain.subarray(0, 16))).toBe(false);
  });

  it("rejects bad keys and partial blocks with INVALID_INPUT and no content in the message", () => {
    const key = new Uint8Array(16);
    const bad: [() => unknown, ErrorConstructor | RangeErrorConstructor, RegExp][] = [
      [() => sm4EncryptEcb(new Uint8Array(15), new Uint8Array(16)), RangeError, /^key must be 16 bytes, got 15$/],
      [() => sm4DecryptEcb(new Uint8Array(32), new Uint8Array(16)), RangeError, /^key must be 16 bytes, got 32$/],
      [() => sm4EncryptEcb(key, new Uint8Array(17)), RangeError, /^data must be a multiple of 16 bytes, got 17$/],
      [() => sm4DecryptEcb(key, new Uint8Array(8)), RangeError, /multiple of 16/],
      [() => sm4EncryptEcb("0123456789abcdef" as unknown as Uint8Array, new Uint8Array(16)), TypeError, /key must be a Uint8Array/],
      [() => sm4EncryptEcb(key, [0, 1] as unknown as Uint8Array), TypeError, /data must be a Uint8Array, got an array/],
    ];
    for (const [fn, kind, message] of bad) {
      expect(fn).toThrow(kind);
      expect(fn).toThrow(message);
      try {
        fn();
      } catch (error) {
        expect(reasonOf(error)).toBe("INVALID_INPUT");
      }
    }
  });

  it("accepts empty data (zero blocks)", () => {
    expect(sm4EncryptEcb(new Uint8Array(16), new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});
