/**
 * Every `ID.field = HEX` line of docs/PROTOCOL.md Appendix A, produced by the codecs (and, for K1, M2 and R1,
 * by the crypto facade the codecs use). The last test asserts that no line of the file went unchecked.
 */
import { afterAll, describe, expect, it } from "vitest";
import { sm4EncryptEcb, token2Mac, totp } from "../../src/crypto/index.js";
import {
  decodeLegacyIniKey,
  encodeLegacyIniKey,
  encodeMolto2Config,
  molto2ChallengeApdu,
  molto2DeleteSeedApdu,
  molto2FactoryResetApdu,
  molto2InfoApdu,
  molto2Key,
  MOLTO2_DEFAULT_CUSTOMER_KEY,
  molto2ScreenLockApdu,
  molto2SyncTimeApdu,
  molto2WriteConfigApdu,
  molto2WriteSeedApdu,
  molto2WriteTitleApdu,
  parsePublicRead,
  publicReadApdu,
} from "../../src/protocol/molto2.js";
import { encodeSingleProfileConfig, parseSingleProfileInfo, SINGLE_PROFILE_KEY, writeConfigApdu, writeSeedApdu } from "../../src/protocol/single-profile.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import { padIso9797M2 } from "../../src/crypto/index.js";
import { decodeResponseApdu } from "../../src/protocol/apdu.js";
import { encodeTokenInfo } from "../../src/protocol/token-info.js";
import { hex, toHex, VECTORS, vbytes, vec } from "./_vectors.js";

const checked = new Set<string>();
/** Asserts `actual` equals vector `key` and records the key as covered. */
function check(key: string, actual: string): void {
  expect(actual, key).toBe(vec(key));
  checked.add(key);
}
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);
const CHALLENGE = hex("1122334455667788");

describe("Appendix A: single-profile vectors", () => {
  it("K1, S1-S7", () => {
    check("K1.ct", toHex(sm4EncryptEcb(hex("0123456789ABCDEFFEDCBA9876543210"), hex("0123456789ABCDEFFEDCBA9876543210"))));
    check("S1.apdu", toHex(authFinishApdu(SINGLE_PROFILE_KEY, CHALLENGE)));
    const s2 = { display: 2, time: 0x65432100, algorithm: "SHA256", period: 60 } as const;
    check("S2.tlv", toHex(encodeSingleProfileConfig(s2)));
    check("S2.apdu", toHex(writeConfigApdu(s2)));
    const s2apdu = writeConfigApdu(s2);
    check("S2.mac_input", `80${toHex(s2apdu.subarray(1, 4))}13${toHex(s2apdu.subarray(5, 5 + 19))}`);
    const s3 = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    check("S3.padded", toHex(padIso9797M2(s3)));
    check("S3.apdu", toHex(writeSeedApdu(s3)));
    const s4 = Uint8Array.from({ length: 16 }, (_, i) => i);
    check("S4.padded", toHex(padIso9797M2(s4)));
    check("S4.apdu", toHex(writeSeedApdu(s4, { zeroExtend: false })));
    const s5 = hex("48656C6C6F21DEADBEEF");
    const extended = new Uint8Array(20);
    extended.set(s5);
    check("S5.seed", toHex(extended));
    check("S5.apdu", toHex(writeSeedApdu(s5)));
    check("S5.apdu_unextended", toHex(writeSeedApdu(s5, { zeroExtend: false })));
    check("S6.apdu", toHex(writeConfigApdu({ display: 1, time: 1700000000, algorithm: "SHA1", period: 30 })));
    const s7 = decodeResponseApdu(vbytes("S7.resp"));
    const info = parseSingleProfileInfo(s7.data);
    expect(info).toMatchObject({ serial: "86596220000001", clock: 1700000000, model: { name: "OTPC-P2-i" } });
    check("S7.resp", `${toHex(encodeTokenInfo(info.serial, info.clock))}9000`);
  });
});

describe("Appendix A: Molto2 vectors", () => {
  it("M1-M11", () => {
    const key = molto2Key(MOLTO2_DEFAULT_CUSTOMER_KEY);
    check("M1.key", toHex(key));
    check("M2.mac", toHex(token2Mac(key, ascii("hello world test!!"))));
    check("M3.apdu", toHex(authFinishApdu(key, CHALLENGE)));
    const m4 = molto2WriteTitleApdu(key, 3, "hello");
    check("M4.apdu", toHex(m4));
    check("M4.enc", toHex(m4.subarray(5, 21)));
    check("M5.apdu", toHex(molto2SyncTimeApdu(key, 0, 0x66123456)));
    // M6 is keyroost's marker-padded 20 zero bytes: what the always-pad seed write sends for that seed.
    const m6 = molto2WriteSeedApdu(key, 7, new Uint8Array(20));
    check("M6.apdu", toHex(m6));
    check("M6.enc", toHex(m6.subarray(5, 37)));
    const m8 = { display: 1, time: 0x65432100, algorithm: "SHA256", digits: 8, period: 60 } as const;
    check("M8.tlv", toHex(encodeMolto2Config(m8)));
    check("M8.apdu", toHex(molto2WriteConfigApdu(key, 5, m8)));
    const m9 = decodeResponseApdu(vbytes("M9.resp"));
    expect(m9.sw).toBe(0x9000);
    expect(parsePublicRead(m9.data)).toMatchObject({
      flag: 0x20,
      title: "KRPROBE99",
      timeA: 3600,
      timeB: 86400,
      algorithm: "SHA1",
      period: 30,
      digits: 6,
      seedPresent: true,
    });
    checked.add("M9.resp");
    check("M10.info", toHex(molto2InfoApdu()));
    check("M10.challenge", toHex(molto2ChallengeApdu()));
    check("M10.public_p99", toHex(publicReadApdu(99)));
    check("M10.delete_p99", toHex(molto2DeleteSeedApdu(99)));
    check("M10.factory_reset", toHex(molto2FactoryResetApdu()));
    check("M10.lock", toHex(molto2ScreenLockApdu(true)));
    check("M10.unlock", toHex(molto2ScreenLockApdu(false)));
    check("M11.plain", toHex(decodeLegacyIniKey(hex("5F576BC2A23FE018B89B8B1BEABAB163"))));
    check("M11.ini_default", toHex(encodeLegacyIniKey(MOLTO2_DEFAULT_CUSTOMER_KEY)));
  });

  it("M7: the base32 secret decodes to the seed through hi-base32", async () => {
    const base32 = (await import("hi-base32")).default;
    check("M7.seed", toHex(Uint8Array.from(base32.decode.asBytes("JBSWY3DPEHPK3PXP"))));
  });
});

describe("Appendix A: R1 TOTP values the token display is checked against", () => {
  it("R1", () => {
    const sha1Seed = ascii("12345678901234567890");
    const sha256Seed = ascii("12345678901234567890123456789012");
    check("R1.sha1_59_8", totp("SHA1", sha1Seed, { time: 59, digits: 8 }));
    check("R1.sha1_59_6", totp("SHA1", sha1Seed, { time: 59, digits: 6 }));
    check("R1.sha1_1111111109_8", totp("SHA1", sha1Seed, { time: 1111111109, digits: 8 }));
    check("R1.sha256_59_8", totp("SHA256", sha256Seed, { time: 59, digits: 8 }));
    check("R1.sha256_1111111109_8", totp("SHA256", sha256Seed, { time: 1111111109, digits: 8 }));
    check("R1.sha256_2000000000_8", totp("SHA256", sha256Seed, { time: 2000000000, digits: 8 }));
    const short = hex("48656C6C6F21DEADBEEF");
    const long = new Uint8Array(20);
    long.set(short);
    const same = totp("SHA1", short, { time: 1700000000 }) === totp("SHA1", long, { time: 1700000000 });
    check("R1.zero_ext_same", String(same));
  });
});

afterAll(() => {
  // The OTP-applet vectors (O*, P*, E1) are checked in otp-applet.test.ts, hid-frame.test.ts and
  // otp-seal.test.ts; the T1 trace in test/emulator/conformance-trace.test.ts.
  const here = [...VECTORS.keys()].filter((k) => /^(K|S|M|R)\d/.test(k));
  expect(here.filter((k) => !checked.has(k))).toEqual([]);
});
