import { createHash, createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hash, hmac, sha1, sha256, sha512 } from "../../src/crypto/index.js";
import { wasmCore } from "../../src/crypto/wasm.js";
import { reasonOf } from "../../src/lib/errors.js";
import { prng } from "../fixtures/prng.js";
import { thrownBy } from "../fixtures/errors.js";

const text = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const fill = (byte: number, n: number) => new Uint8Array(n).fill(byte);

describe("SHA-1/256/512 (FIPS 180-4)", () => {
  it("matches the FIPS 180-2 Appendix examples", () => {
    expect(hex(sha1(text("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d");
    expect(hex(sha256(text("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hex(sha512(text("abc")))).toBe(
      "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a" + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
    );
    expect(hex(sha256(new Uint8Array(0)))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });

  it("agrees with node:crypto at every length around the padding boundaries", () => {
    const rand = prng(0x5a17);
    // 0..300 covers one- and two-block padding for 64- and 128-byte blocks, then a few multi-block sizes.
    const lengths = [...Array(301).keys(), 1000, 4095, 4096, 65537];
    for (const algorithm of ["SHA1", "SHA256", "SHA512"] as const) {
      for (const length of lengths) {
        const data = rand.bytes(length);
        expect(hex(hash(algorithm, data)), `${algorithm} len ${length}`).toBe(createHash(algorithm.replace("SHA", "sha")).update(data).digest("hex"));
      }
    }
  });
});

// RFC 4231 §4.2-4.8 (SHA-256, SHA-512) and RFC 2202 §3 (SHA-1).
const RFC4231: Array<{ key: Uint8Array; data: Uint8Array; sha256: string; sha512: string; truncate?: number }> = [
  {
    key: fill(0x0b, 20),
    data: text("Hi There"),
    sha256: "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
    sha512: "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde" + "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854",
  },
  {
    key: text("Jefe"),
    data: text("what do ya want for nothing?"),
    sha256: "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    sha512: "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554" + "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
  },
  {
    key: fill(0xaa, 20),
    data: fill(0xdd, 50),
    sha256: "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    sha512: "fa73b0089d56a284efb0f0756c890be9b1b5dbdd8ee81a3655f83e33b2279d39" + "bf3e848279a722c806b485a47e67c807b946a337bee8942674278859e13292fb",
  },
  {
    key: Uint8Array.from({ length: 25 }, (_, i) => i + 1),
    data: fill(0xcd, 50),
    sha256: "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    sha512: "b0ba465637458c6990e5a8c5f61d4af7e576d97ff94b872de76f8050361ee3db" + "a91ca5c11aa25eb4d679275cc5788063a5f19741120c4f2de2adebeb10a298dd",
  },
  {
    key: fill(0x0c, 20),
    data: text("Test With Truncation"),
    sha256: "a3b6167473100ee06e0c796c2955552b",
    sha512: "415fad6271580a531d4179bc891d87a6",
    truncate: 16,
  },
  {
    key: fill(0xaa, 131),
    data: text("Test Using Larger Than Block-Size Key - Hash Key First"),
    sha256: "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    sha512: "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352" + "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598",
  },
  {
    key: fill(0xaa, 131),
    data: text(
      "This is a test using a larger than block-size key and a larger than block-size data. " +
        "The key needs to be hashed before being used by the HMAC algorithm.",
    ),
    sha256: "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    sha512: "e37b6a775dc87dbaa4dfa9f96e5e3ffddebd71f8867289865df5a32d20cdc944" + "b6022cac3c4982b10d5eeb55c3e4de15134676fb6de0446065c97440fa8c6a58",
  },
];

const RFC2202_SHA1: Array<{ key: Uint8Array; data: Uint8Array; mac: string }> = [
  { key: fill(0x0b, 20), data: text("Hi There"), mac: "b617318655057264e28bc0b6fb378c8ef146be00" },
  { key: text("Jefe"), data: text("what do ya want for nothing?"), mac: "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
  { key: fill(0xaa, 20), data: fill(0xdd, 50), mac: "125d7342b9ac11cd91a39af48aa17b4f63f175d3" },
  {
    key: fill(0xaa, 80),
    data: text("Test Using Larger Than Block-Size Key - Hash Key First"),
    mac: "aa4ae5e15272d00e95705637ce8a3b55ed402112",
  },
];

describe("HMAC (RFC 2104)", () => {
  it.each(RFC4231.map((v, i) => [i + 1, v] as const))("RFC 4231 test case %i", (_, v) => {
    const cut = (mac: Uint8Array) => hex(v.truncate ? mac.subarray(0, v.truncate) : mac);
    expect(cut(hmac("SHA256", v.key, v.data))).toBe(v.sha256);
    expect(cut(hmac("SHA512", v.key, v.data))).toBe(v.sha512);
  });

  it.each(RFC2202_SHA1.map((v, i) => [i + 1, v] as const))("RFC 2202 HMAC-SHA-1 case %i", (_, v) => {
    expect(hex(hmac("SHA1", v.key, v.data))).toBe(v.mac);
  });

  it("agrees with node:crypto for keys around the block size and beyond", () => {
    const rand = prng(0x4ac);
    for (const algorithm of ["SHA1", "SHA256", "SHA512"] as const) {
      for (const keyLength of [0, 1, 20, 63, 64, 65, 127, 128, 129, 200, 1000]) {
        const key = rand.bytes(keyLength);
        const data = rand.bytes(rand.int(300));
        expect(hex(hmac(algorithm, key, data)), `${algorithm} key ${keyLength}`).toBe(
          createHmac(algorithm.replace("SHA", "sha"), key).update(data).digest("hex"),
        );
      }
    }
  });

  it("returns copies and leaves no WASM memory allocated", () => {
    const core = wasmCore();
    const before = core.allocatedBytes();
    const mac = hmac("SHA256", text("key"), text("message"));
    expect(mac.buffer).not.toBe(core.exports.memory.buffer);
    expect(core.allocatedBytes()).toBe(before);
  });

  it("rejects bad inputs with INVALID_INPUT, without quoting the key", () => {
    const secret = text("super-secret-key");
    const bad: Array<[() => unknown, ErrorConstructor | RangeErrorConstructor]> = [
      [() => hmac("MD5" as never, secret, secret), RangeError],
      [() => hmac("SHA1", "super-secret-key" as never, secret), TypeError],
      [() => hmac("SHA1", secret, [1, 2] as never), TypeError],
      [() => hash("SHA256", null as never), TypeError],
      [() => sha1(new Uint16Array(2) as never), TypeError],
    ];
    for (const [fn, kind] of bad) {
      const thrown = thrownBy(fn);
      expect(thrown).toBeInstanceOf(kind);
      expect(reasonOf(thrown)).toBe("INVALID_INPUT");
      expect((thrown as Error).message).not.toContain("super-secret");
    }
  });
});
