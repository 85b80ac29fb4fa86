// The Token2 frame functions against a reference built from node:crypto sm4-ecb / sm4-cbc, one
// frame at a time, exactly as docs/PROTOCOL.md §1.3 to §1.5 describe it.
import { createCipheriv } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { cipherCore } from "../../src/crypto/cipher-exports.js";
import {
  authResponse,
  buildSecureApdu,
  buildSeedFrames,
  padIso9797M2,
  token2Mac,
  unpadIso9797M2,
  type SeedFrameRequest,
} from "../../src/crypto/token2-frame.js";
import { prng, type Prng } from "../fixtures/prng.js";
import { toHex } from "./hex.js";
import { thrownBy } from "../fixtures/errors.js";

function refPad(x: Uint8Array): Buffer {
  const out = Buffer.alloc((Math.floor(x.length / 16) + 1) * 16);
  out.set(x);
  out[x.length] = 0x80;
  return out;
}

function refEcb(key: Uint8Array, data: Uint8Array): Buffer {
  const c = createCipheriv("sm4-ecb", key, null).setAutoPadding(false);
  return Buffer.concat([c.update(data), c.final()]);
}

function refMac(key: Uint8Array, m: Uint8Array): Buffer {
  const input = m.length % 16 === 0 ? Buffer.from(m) : refPad(m);
  const c = createCipheriv("sm4-cbc", key, Buffer.alloc(16)).setAutoPadding(false);
  const out = Buffer.concat([c.update(input), c.final()]);
  return out.subarray(out.length - 16, out.length - 12);
}

function refApdu(key: Uint8Array, ins: number, p1: number, p2: number, body: Uint8Array, encrypt: boolean): Buffer {
  const sent = encrypt ? refEcb(key, refPad(body)) : Buffer.from(body);
  const mac = refMac(key, Buffer.concat([Buffer.of(0x80, ins, p1, p2, sent.length), sent]));
  return Buffer.concat([Buffer.of(0x84, ins, p1, p2, sent.length + 4), sent, mac]);
}

function randomRequest(rng: Prng): SeedFrameRequest {
  return { key: rng.bytes(16), ins: rng.range(0, 255), p1: rng.range(0, 255), p2: rng.range(0, 255), seed: rng.bytes(rng.range(1, 63)) };
}

describe("Token2 frames against node:crypto", () => {
  it("token2Mac: 10,000 random keys, every message length 1..80 (seed 0x3ac)", () => {
    const rng = prng(0x3ac);
    for (let i = 0; i < 10_000; i++) {
      const key = rng.bytes(16);
      const m = rng.bytes(1 + (i % 80));
      expect(toHex(token2Mac(key, m))).toBe(toHex(refMac(key, m)));
    }
  });

  it("pad/unpad: every length 0..80 with random bytes round-trips and matches the reference (seed 0x9797)", () => {
    const rng = prng(0x9797);
    for (let i = 0; i < 10_000; i++) {
      const x = rng.bytes(i % 81);
      const padded = padIso9797M2(x);
      expect(toHex(padded)).toBe(toHex(refPad(x)));
      expect(toHex(unpadIso9797M2(padded)!)).toBe(toHex(x));
    }
  });

  it("buildSeedFrames: 10,000 frames in batches of 1..9, mixed keys, headers and seed lengths 1..63 (seed 0xf4a3e)", () => {
    const rng = prng(0xf4a3e);
    let frames = 0;
    for (let i = 0; frames < 10_000; i++) {
      const batch = Array.from({ length: 1 + (i % 9) }, () => randomRequest(rng));
      const got = buildSeedFrames(batch);
      expect(got.length).toBe(batch.length);
      batch.forEach((r, j) => expect(toHex(got[j]!)).toBe(toHex(refApdu(r.key, r.ins, r.p1, r.p2, r.seed, true))));
      frames += batch.length;
    }
  });

  it("buildSeedFrames: one batch of 1,001 frames (250 full SIMD groups and a tail of 1)", () => {
    const rng = prng(1001);
    const batch = Array.from({ length: 1001 }, () => randomRequest(rng));
    const got = buildSeedFrames(batch);
    batch.forEach((r, j) => expect(toHex(got[j]!)).toBe(toHex(refApdu(r.key, r.ins, r.p1, r.p2, r.seed, true))));
  });

  it("buildSecureApdu: 2,000 random bodies, encrypted (0..239 bytes) and clear (0..251 bytes) (seed 0x84)", () => {
    const rng = prng(0x84);
    for (let i = 0; i < 2_000; i++) {
      const encrypt = i % 2 === 0;
      const key = rng.bytes(16);
      const [ins, p1, p2] = [rng.range(0, 255), rng.range(0, 255), rng.range(0, 255)];
      const body = rng.bytes(rng.range(0, encrypt ? 239 : 251));
      expect(toHex(buildSecureApdu(key, ins, p1, p2, body, { encrypt }))).toBe(toHex(refApdu(key, ins, p1, p2, body, encrypt)));
    }
  });

  it("authResponse: 1,000 random keys and challenges (seed 0xce)", () => {
    const rng = prng(0xce);
    for (let i = 0; i < 1_000; i++) {
      const [key, challenge] = [rng.bytes(16), rng.bytes(8)];
      expect(toHex(authResponse(key, challenge))).toBe(toHex(refEcb(key, Buffer.concat([challenge, Buffer.alloc(8)]))));
    }
  });
});

describe("Token2 frames: secrets and inputs", () => {
  it("leaves no key, seed or heap block behind in WASM memory", () => {
    const core = cipherCore();
    const before = core.allocatedBytes();
    const rng = prng(5);
    const batch = Array.from({ length: 7 }, () => ({ ...randomRequest(rng), seed: rng.bytes(20) }));
    buildSeedFrames(batch);
    buildSecureApdu(batch[0]!.key, 0xd5, 0, 3, batch[0]!.seed, { encrypt: true });
    token2Mac(batch[1]!.key, batch[1]!.seed);
    expect(core.allocatedBytes()).toBe(before);
    const memory = Buffer.from(core.view());
    for (const r of batch) {
      expect(memory.indexOf(Buffer.from(r.key))).toBe(-1);
      expect(memory.indexOf(Buffer.from(r.seed))).toBe(-1);
    }
  });

  it("returns independent copies and leaves the requests untouched", () => {
    const rng = prng(6);
    const batch = [randomRequest(rng), randomRequest(rng)];
    const copies = batch.map((r) => ({ ...r, key: r.key.slice(), seed: r.seed.slice() }));
    const [a, b] = buildSeedFrames(batch);
    expect(batch).toEqual(copies);
    expect(a!.buffer).not.toBe(b!.buffer);
    expect(a!.buffer).not.toBe(cipherCore().exports.memory.buffer);
    expect(buildSeedFrames([])).toEqual([]);
  });

  it("rejects every malformed input with INVALID_INPUT, naming the field and never its content", () => {
    const key = new Uint8Array(16);
    const ok: SeedFrameRequest = { key, ins: 0xc5, p1: 1, p2: 0, seed: new Uint8Array(20) };
    const cases: [() => unknown, ErrorConstructor | RangeErrorConstructor, RegExp][] = [
      [() => buildSeedFrames("x" as unknown as SeedFrameRequest[]), TypeError, /^requests must be an array, got string$/],
      [() => buildSeedFrames([ok, null as unknown as SeedFrameRequest]), TypeError, /^requests\[1\]\.key must be a Uint8Array, got undefined$/],
      [() => buildSeedFrames([{ ...ok, key: new Uint8Array(15) }]), RangeError, /^requests\[0\]\.key must be 16 bytes, got 15$/],
      [() => buildSeedFrames([{ ...ok, seed: new Uint8Array(0) }]), RangeError, /^requests\[0\]\.seed must be at least 1 bytes, got 0$/],
      [() => buildSeedFrames([{ ...ok, seed: new Uint8Array(64) }]), RangeError, /^requests\[0\]\.seed must be at most 63 bytes, got 64$/],
      [() => buildSeedFrames([{ ...ok, p2: 256 }]), RangeError, /^requests\[0\]\.p2 must be between 0 and 255$/],
      [() => buildSeedFrames([{ ...ok, ins: 1.5 }]), TypeError, /^requests\[0\]\.ins must be an integer/],
      [() => buildSeedFrames(new Array(65537).fill(ok)), RangeError, /at most 65536 items/],
      [() => buildSecureApdu(key, 0xd4, 0, 0, new Uint8Array(252), { encrypt: false }), RangeError, /^body must be at most 251 bytes/],
      [() => buildSecureApdu(key, 0xd5, 0, 0, new Uint8Array(240), { encrypt: true }), RangeError, /^body must be at most 239 bytes/],
      [() => buildSecureApdu(key, 0xd5, 0, 0, new Uint8Array(1), {} as { encrypt: boolean }), TypeError, /^options\.encrypt must be a boolean/],
      [() => buildSecureApdu(key, -1, 0, 0, new Uint8Array(1), { encrypt: true }), RangeError, /^ins must be between 0 and 255/],
      [() => buildSecureApdu(new Uint8Array(32), 0, 0, 0, new Uint8Array(1), { encrypt: true }), RangeError, /^key must be 16 bytes/],
      [() => token2Mac(key, new Uint8Array(0)), RangeError, /^message must be at least 1 bytes, got 0$/],
      [() => token2Mac(new Uint8Array(8), new Uint8Array(8)), RangeError, /^key must be 16 bytes, got 8$/],
      [() => authResponse(key, new Uint8Array(16)), RangeError, /^challenge must be 8 bytes, got 16$/],
      [() => padIso9797M2("seed" as unknown as Uint8Array), TypeError, /^data must be a Uint8Array, got string$/],
      [() => unpadIso9797M2(null as unknown as Uint8Array), TypeError, /^data must be a Uint8Array, got null$/],
    ];
    for (const [fn, kind, message] of cases) {
      const thrown = thrownBy(fn);
      expect(thrown).toBeInstanceOf(kind);
      expect((thrown as Error).message).toMatch(message);
      expect(reasonOf(thrown)).toBe("INVALID_INPUT");
    }
  });
});
