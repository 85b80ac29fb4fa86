// docs/PROTOCOL.md Appendix A vectors that the cipher core computes, plus the §1.3 padding rules.
import { createCipheriv, createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { sm4DecryptEcb, sm4EncryptEcb } from "../../src/crypto/sm4.js";
import { authResponse, buildSecureApdu, buildSeedFrames, padIso9797M2, token2Mac, unpadIso9797M2 } from "../../src/crypto/token2-frame.js";
import { hex, toHex } from "./hex.js";

/** The single-profile device key, docs/PROTOCOL.md §2.3. */
const DEVICE_KEY = hex("8AD206883CA369482AB27182B6E83224");
/** M1: K = SHA-1(customer key)[0:16] (§3.2), derived here with node:crypto. */
const MOLTO2_KEY = new Uint8Array(createHash("sha1").update("TOKEN2MOLTO1-KEY").digest().subarray(0, 16));
const CHALLENGE = hex("1122334455667788");
const seq = (from: number, n: number) => Uint8Array.from({ length: n }, (_, i) => from + i);
const ascii = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe("docs/PROTOCOL.md Appendix A", () => {
  it("M1: the Molto2 key of the factory customer key", () => {
    expect(toHex(MOLTO2_KEY)).toBe("099250FDB017F442DA429ECBBEE17F79");
  });

  it("S1, M3: AUTH FINISH = 80 CE 00 00 10 ‖ E_K(challenge ‖ 00×8)", () => {
    const apdu = (key: Uint8Array) => toHex(concat(hex("80CE000010"), authResponse(key, CHALLENGE)));
    expect(apdu(DEVICE_KEY)).toBe("80CE0000108B7450F22721BC29985C2C460B65045D");
    expect(apdu(MOLTO2_KEY)).toBe("80CE000010550EC1328F963EB02972BB141E1CF521");
  });

  it("S2, S6: single-profile WRITE CONFIG, body sent clear", () => {
    const s2tlv = hex("81111F01020F046543210086060A01020D013C");
    expect(toHex(token2Mac(DEVICE_KEY, hex("80D400001381111F01020F046543210086060A01020D013C")))).toBe("37A18BF9");
    expect(toHex(buildSecureApdu(DEVICE_KEY, 0xd4, 0x00, 0x00, s2tlv, { encrypt: false }))).toBe("84D400001781111F01020F046543210086060A01020D013C37A18BF9");
    // S6: display 30 s (01), t = 1700000000 = 6553F100, SHA-1 (01), 30 s (1E), layout of §2.6.
    const s6tlv = hex("81111F01010F046553F10086060A01010D011E");
    expect(toHex(buildSecureApdu(DEVICE_KEY, 0xd4, 0x00, 0x00, s6tlv, { encrypt: false }))).toBe("84D400001781111F01010F046553F10086060A01010D011E4FFDC288");
  });

  const seedVectors: [string, Uint8Array, number, Uint8Array, string][] = [
    ["S3 (20-byte seed)", DEVICE_KEY, 0x00, seq(1, 20), "84C50100246EEAD21474BBF3A0A2B4C18F489E543CF48725A71EE9C3A65963E88BE9405E3D5F6EA0C1"],
    ["S4 (16-byte seed, extra block)", DEVICE_KEY, 0x00, seq(0, 16), "84C5010024B766BFF098C4EB0D7F67AB23463F6F12D219EFC9972FED9191DF027FD36A80B0A31629E9"],
    [
      "S5 (zero-extended)",
      DEVICE_KEY,
      0x00,
      hex("48656C6C6F21DEADBEEF00000000000000000000"),
      "84C50100243162105FC9B67095C804B1D4FE05EFCF8BEA5767D1DF80AE794C819D4F7C843CD7C9E128",
    ],
    ["S5 (as-is)", DEVICE_KEY, 0x00, hex("48656C6C6F21DEADBEEF"), "84C5010014E37E185346F9F5572F823CDF83FA4F9FBBE381DA"],
    [
      "M6 (20 zero bytes, profile 7)",
      MOLTO2_KEY,
      0x07,
      new Uint8Array(20),
      "84C501072414CC24B0CC984DA7612C0799D350E38C2C6DDD4F3D6531076ED6B99875607D58CC52B85C",
    ],
  ];

  it.each(seedVectors)("%s: WRITE SEED frame, alone and through buildSecureApdu", (_, key, p2, seed, apdu) => {
    expect(toHex(buildSeedFrames([{ key, ins: 0xc5, p1: 0x01, p2, seed }])[0]!)).toBe(apdu);
    expect(toHex(buildSecureApdu(key, 0xc5, 0x01, p2, seed, { encrypt: true }))).toBe(apdu);
  });

  it("S3, S4, S5, M6 in one batch: mixed keys and seed lengths across the SIMD lanes and the tail", () => {
    const requests = [...seedVectors, ...seedVectors].map(([, key, p2, seed]) => ({ key, ins: 0xc5, p1: 0x01, p2, seed }));
    const frames = buildSeedFrames(requests);
    expect(frames.map(toHex)).toEqual([...seedVectors, ...seedVectors].map((v) => v[4]));
  });

  it("S3, S4: the always-padded payloads", () => {
    expect(toHex(padIso9797M2(seq(1, 20)))).toBe("0102030405060708090A0B0C0D0E0F1011121314800000000000000000000000");
    expect(toHex(padIso9797M2(seq(0, 16)))).toBe("000102030405060708090A0B0C0D0E0F80000000000000000000000000000000");
  });

  it("M6: the encrypted body, and the device side (decrypt + §1.3 un-pad) recovers the seed", () => {
    const enc = sm4EncryptEcb(MOLTO2_KEY, padIso9797M2(new Uint8Array(20)));
    expect(toHex(enc)).toBe("14CC24B0CC984DA7612C0799D350E38C2C6DDD4F3D6531076ED6B99875607D58");
    expect(unpadIso9797M2(sm4DecryptEcb(MOLTO2_KEY, enc))).toEqual(new Uint8Array(20));
  });

  it("M2: the MAC of an arbitrary 18-byte message", () => {
    expect(toHex(token2Mac(MOLTO2_KEY, ascii("hello world test!!")))).toBe("2CF7C205");
  });

  it("M4: Molto2 title 'hello', profile 3 (encrypted body)", () => {
    const apdu = buildSecureApdu(MOLTO2_KEY, 0xd5, 0x00, 0x03, ascii("hello"), { encrypt: true });
    expect(toHex(apdu)).toBe("84D5000314AA6492E824DF9E2BE60917D1226AE8965AF94611");
    expect(toHex(apdu.subarray(5, 21))).toBe("AA6492E824DF9E2BE60917D1226AE896"); // M4.enc
  });

  it("M5, M8: Molto2 sync time and WRITE CONFIG (clear bodies)", () => {
    const m5tlv = hex("81060F0466123456"); // §3.9 sync-only TLV, t = 0x66123456
    expect(toHex(buildSecureApdu(MOLTO2_KEY, 0xd4, 0x01, 0x00, m5tlv, { encrypt: false }))).toBe("84D401000C81060F046612345642304790");
    const m8tlv = hex("81141F01010F046543210086090A01020B01080D013C");
    expect(toHex(buildSecureApdu(MOLTO2_KEY, 0xd4, 0x01, 0x05, m8tlv, { encrypt: false }))).toBe(
      "84D401051A81141F01010F046543210086090A01020B01080D013C4D72F475",
    );
  });

  it("M11: the legacy Molto2Cfg.ini key is SM4-ECB under K_ini", () => {
    const kIni = hex("612922F379D3E14B2908BC6FE5981F87");
    expect(toHex(sm4DecryptEcb(kIni, hex("5F576BC2A23FE018B89B8B1BEABAB163")))).toBe("50617373773072642D4D6F6C746F3232");
    expect(toHex(sm4EncryptEcb(kIni, ascii("TOKEN2MOLTO1-KEY")))).toBe("7330DE67C4F3AB89FECA7A37F2EBE109");
  });

  it("§3.11 key change: E_K(00 ‖ K_new ‖ 80 ‖ 00×14) with Lc 24", () => {
    const newKey = new Uint8Array(createHash("sha1").update("new customer key").digest().subarray(0, 16));
    const apdu = buildSecureApdu(MOLTO2_KEY, 0xd7, 0x00, 0x00, concat(Uint8Array.of(0), newKey), { encrypt: true });
    expect(toHex(apdu.subarray(0, 5))).toBe("84D7000024");
    const plain = sm4DecryptEcb(MOLTO2_KEY, apdu.subarray(5, 37));
    expect(plain).toEqual(concat(Uint8Array.of(0), newKey, Uint8Array.of(0x80), new Uint8Array(14)));
    const cbc = createCipheriv("sm4-cbc", MOLTO2_KEY, new Uint8Array(16)).setAutoPadding(false);
    const mac = cbc.update(concat(hex("80D7000020"), apdu.subarray(5, 37), Uint8Array.of(0x80), new Uint8Array(10)));
    expect(toHex(apdu.subarray(37))).toBe(toHex(mac.subarray(32, 36)));
  });
});

describe("§1.3 padding and the device-side removal rule", () => {
  it("pads every length 0..48 to the next whole block, with a full block when aligned", () => {
    for (let len = 0; len <= 48; len++) {
      const p = padIso9797M2(new Uint8Array(len).fill(0xaa));
      expect(p.length).toBe(16 * (Math.floor(len / 16) + 1));
      expect(p[len]).toBe(0x80);
      expect(p.subarray(len + 1).every((b) => b === 0)).toBe(true);
      expect(unpadIso9797M2(p)).toEqual(new Uint8Array(len).fill(0xaa));
    }
  });

  it("accepts an empty payload (80 00×15) and returns a copy, not a view", () => {
    const buf = hex("80000000000000000000000000000000");
    const out = unpadIso9797M2(buf)!;
    expect(out).toEqual(new Uint8Array(0));
    const withData = hex("0102800000000000000000000000000000");
    const payload = unpadIso9797M2(withData)!;
    payload[0] = 0xff;
    expect(withData[0]).toBe(0x01);
  });

  it("rejects an all-zero buffer, an empty buffer and a last non-zero byte other than 80", () => {
    expect(unpadIso9797M2(new Uint8Array(32))).toBeNull();
    expect(unpadIso9797M2(new Uint8Array(0))).toBeNull();
    expect(unpadIso9797M2(hex("01020304050607080910111213141516"))).toBeNull(); // no marker at all
    expect(unpadIso9797M2(hex("01020304050607080910111213148100"))).toBeNull(); // 81, not 80
    expect(unpadIso9797M2(hex("80000000000000000000000000000100"))).toBeNull(); // 80 is not the last non-zero byte
  });

  it("takes the last non-zero byte as the marker: an unpadded aligned seed ending in 80 is truncated (§2.7 pitfall)", () => {
    expect(unpadIso9797M2(hex("0102030405060708090A0B0C0D0E0F80"))).toEqual(seq(1, 15));
    expect(unpadIso9797M2(hex("01800000"))).toEqual(hex("01"));
  });
});
