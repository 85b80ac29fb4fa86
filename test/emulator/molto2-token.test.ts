import { describe, expect, it } from "vitest";
import { buildSecureApdu, sm4EncryptEcb, totp } from "../../src/crypto/index.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { prng } from "../fixtures/prng.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { decodeResponseApdu } from "../../src/protocol/apdu.js";
import {
  MOLTO2_DEFAULT_CUSTOMER_KEY,
  molto2AuthResult,
  molto2ChallengeApdu,
  molto2ChangeKeyApdu,
  molto2DeleteSeedApdu,
  molto2FactoryResetApdu,
  molto2InfoApdu,
  molto2Key,
  molto2ScreenLockApdu,
  molto2SyncTimeApdu,
  molto2WriteConfigApdu,
  molto2WriteSeedApdu,
  molto2WriteTitleApdu,
  parsePublicRead,
  publicReadApdu,
  type Molto2Config,
} from "../../src/protocol/molto2.js";
import { parseTokenInfo } from "../../src/protocol/token-info.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import { hex, toHex } from "../protocol/_vectors.js";

const DEFAULT_K = molto2Key(MOLTO2_DEFAULT_CUSTOMER_KEY);
const sw = (r: Uint8Array): number => decodeResponseApdu(r).sw;
const data = (r: Uint8Array): Uint8Array => decodeResponseApdu(r).data;

function auth(token: Molto2Token, key = DEFAULT_K): number {
  const challenge = data(token.transmit(molto2ChallengeApdu()));
  return sw(token.transmit(authFinishApdu(key, challenge)));
}

function publicRead(token: Molto2Token, profile: number) {
  const r = decodeResponseApdu(token.transmit(publicReadApdu(profile)));
  expect(r.sw).toBe(0x9000);
  return parsePublicRead(r.data);
}

describe("Molto2Token against the host codec", () => {
  it("reads info and empty public blocks without a key; untouched slots are 29 zero bytes", () => {
    const token = new Molto2Token({ serial: "123456789012345", clock: pinnedClock(1_700_000_000) });
    expect(parseTokenInfo(data(token.transmit(molto2InfoApdu())))).toEqual({ serial: "123456789012345", clock: 1_700_000_000 });
    expect(toHex(data(token.transmit(publicReadApdu(99))))).toBe(`951F701D${"00".repeat(29)}`);
    expect(publicRead(token, 0)).toMatchObject({ seedPresent: false, algorithm: null, title: "", flag: 0 });
    expect(sw(token.transmit(Uint8Array.from([...publicReadApdu(0), 0x00])))).toBe(0x6ffb);
    expect(sw(new Molto2Token({ profiles: 50 }).transmit(publicReadApdu(50)))).toBe(0x6a86);
  });

  it("writes seed, title and config in every profile position; codes equal totp() for seed lengths 1..63", () => {
    let now = 1_800_000_000;
    const token = new Molto2Token({ clock: () => now, rng: prng(3).bytes });
    expect(auth(token)).toBe(0x9000);
    const lengths = [1, 10, 16, 20, 32, 48, 63];
    const configs: Molto2Config[] = [
      { display: 0, time: 1_750_000_000, algorithm: "SHA1", digits: 6, period: 30 },
      { display: 3, time: 1_750_000_000, algorithm: "SHA256", digits: 8, period: 60 },
      { display: 1, time: 1_750_000_000, algorithm: "SHA1", digits: 10, period: 30 },
      { display: 2, time: 1_750_000_000, algorithm: "SHA256", digits: 4, period: 60 },
    ];
    for (const [i, length] of lengths.entries()) {
      const profile = [0, 1, 42, 49, 50, 98, 99][i]!;
      const seed = prng(500 + length).bytes(length);
      const config = configs[i % configs.length]!;
      expect(sw(token.transmit(molto2WriteSeedApdu(DEFAULT_K, profile, seed)))).toBe(0x9000);
      expect(sw(token.transmit(molto2WriteTitleApdu(DEFAULT_K, profile, `acct ${length}`)))).toBe(0x9000);
      expect(sw(token.transmit(molto2WriteConfigApdu(DEFAULT_K, profile, config)))).toBe(0x9000);
      expect(toHex(token.state().profiles[profile]!.seed)).toBe(toHex(seed));
      now += 11;
      const rtc = 1_750_000_011;
      expect(token.code(profile)).toBe(totp(config.algorithm, seed, { time: rtc, period: config.period, digits: config.digits }));
      now -= 11;
      expect(publicRead(token, profile)).toMatchObject({
        flag: 0x20,
        title: `acct ${length}`,
        timeA: 1_750_000_000,
        timeB: 1_750_000_000,
        algorithm: config.algorithm,
        period: config.period,
        digits: config.digits,
        seedPresent: true,
      });
    }
    expect(token.state().display).toBe(configs[(lengths.length - 1) % configs.length]!.display);
  });

  it("syncs time device-wide without touching seeds, and deletes without a key (title kept)", () => {
    const token = new Molto2Token({ clock: pinnedClock(1_000) });
    auth(token);
    token.transmit(molto2WriteSeedApdu(DEFAULT_K, 5, hex("0102")));
    token.transmit(molto2WriteTitleApdu(DEFAULT_K, 5, "héllo"));
    expect(sw(token.transmit(molto2SyncTimeApdu(DEFAULT_K, 5, 0x66123456)))).toBe(0x9000);
    expect(token.rtc()).toBe(0x66123456);
    expect(publicRead(token, 5)).toMatchObject({ timeB: 0x66123456, seedPresent: true, title: "héllo" });
    token.powerOff();
    expect(sw(token.transmit(molto2DeleteSeedApdu(5)))).toBe(0x9000);
    expect(sw(token.transmit(molto2DeleteSeedApdu(5)))).toBe(0x6a83);
    expect(publicRead(token, 5)).toMatchObject({ seedPresent: false, flag: 0x20, title: "héllo" });
    expect(token.code(5)).toBeNull();
  });

  it("counts tries: 63 NN, locks at 63 00, success resets; a factory reset after ▲ recovers", () => {
    const token = new Molto2Token({ tries: 3 });
    const wrong = molto2Key(new TextEncoder().encode("wrong key"));
    expect(molto2AuthResult(auth(token, wrong))).toEqual({ ok: false, triesLeft: 2 });
    expect(auth(token)).toBe(0x9000);
    expect(token.state().triesLeft).toBe(3);
    for (const left of [2, 1, 0]) expect(auth(token, wrong)).toBe(0x6300 | left);
    expect(auth(token)).toBe(0x6300);
    expect(sw(token.transmit(molto2FactoryResetApdu()))).toBe(0x9060);
    expect(token.state().pending).toBe("reset");
    expect(token.pressButton()).toBe("reset");
    expect(auth(token)).toBe(0x9000);
  });

  it("changes the customer key only after ▲, which later commands and power cycles do not cancel", () => {
    const token = new Molto2Token();
    auth(token);
    const newCustomer = new TextEncoder().encode("my new customer key");
    const newK = molto2Key(newCustomer);
    expect(sw(token.transmit(molto2ChangeKeyApdu(DEFAULT_K, newCustomer)))).toBe(0x9060);
    // molto2.py --setkey --synctime: the sync goes out under the old key before the press.
    expect(sw(token.transmit(molto2SyncTimeApdu(DEFAULT_K, 0, 0x66123456)))).toBe(0x9000);
    expect(toHex(token.state().keyDigest)).toBe(toHex(DEFAULT_K));
    token.powerOff(); // pyscard's disconnect unpowers the card
    token.powerOn();
    token.transmit(molto2InfoApdu()); // the GUIs' 2-second poll
    token.reset();
    expect(token.state().pending).toBe("setKey");
    expect(token.pressButton()).toBe("setKey");
    expect(token.pressButton()).toBe("none");
    expect(toHex(token.state().keyDigest)).toBe(toHex(newK));
    expect(token.state().authed).toBe(false);
    expect(molto2AuthResult(auth(token))).toMatchObject({ ok: false });
    expect(auth(token, newK)).toBe(0x9000);
    token.transmit(molto2WriteSeedApdu(newK, 0, hex("01")));
    token.transmit(molto2FactoryResetApdu());
    token.pressButton();
    expect(token.state().profiles[0]!.seed.length).toBe(0);
    expect(auth(token)).toBe(0x9000);
  });

  it("lets the latest ▲ request win, and lets an unconfirmed one lapse after confirmTimeout", () => {
    let now = 1_000;
    const token = new Molto2Token({ clock: () => now, confirmTimeout: 60 });
    auth(token);
    token.transmit(molto2WriteSeedApdu(DEFAULT_K, 3, hex("0102")));
    const newCustomer = new TextEncoder().encode("replaced by the reset");
    expect(sw(token.transmit(molto2ChangeKeyApdu(DEFAULT_K, newCustomer)))).toBe(0x9060);
    expect(sw(token.transmit(molto2FactoryResetApdu()))).toBe(0x9060);
    expect(token.pressButton()).toBe("reset");
    expect(toHex(token.state().keyDigest)).toBe(toHex(DEFAULT_K));
    expect(token.state().profiles[3]!.seed.length).toBe(0);

    expect(sw(token.transmit(molto2FactoryResetApdu()))).toBe(0x9060);
    now += 59;
    expect(token.state().pending).toBe("reset");
    now += 1;
    expect(token.state().pending).toBe("none");
    expect(token.pressButton()).toBe("none");
    expect(() => new Molto2Token({ confirmTimeout: 0 })).toThrow(RangeError);
  });

  it("locks and unlocks the screen only when authenticated", () => {
    const token = new Molto2Token();
    expect(sw(token.transmit(molto2ScreenLockApdu(true)))).toBe(0x6982);
    auth(token);
    expect(sw(token.transmit(molto2ScreenLockApdu(true)))).toBe(0x9000);
    expect(token.state().screenLocked).toBe(true);
    expect(sw(token.transmit(molto2ScreenLockApdu(false)))).toBe(0x9000);
    expect(token.state().screenLocked).toBe(false);
  });

  it("[EMU] errors: 6982 before auth, 6988 bad MAC, 6A86 profile range, 6A80 bad template, 6D00/6E00", () => {
    const token = new Molto2Token({ profiles: 50 });
    expect(sw(token.transmit(molto2WriteSeedApdu(DEFAULT_K, 0, hex("01"))))).toBe(0x6982);
    auth(token);
    const bad = molto2WriteSeedApdu(DEFAULT_K, 0, hex("01"));
    bad[bad.length - 1]! ^= 1;
    expect(sw(token.transmit(bad))).toBe(0x6988);
    expect(sw(token.transmit(molto2WriteSeedApdu(DEFAULT_K, 50, hex("01"))))).toBe(0x6a86);
    const badConfig = buildSecureApdu(DEFAULT_K, 0xd4, 0x01, 0, hex("81111F01010F046553F10086060A01010D011E"), { encrypt: false });
    expect(sw(token.transmit(badConfig))).toBe(0x6a80);
    expect(sw(token.transmit(buildSecureApdu(DEFAULT_K, 0x99, 0, 0, hex("00"), { encrypt: false })))).toBe(0x6d00);
    expect(sw(token.transmit(hex("00A4040000")))).toBe(0x6e00);
    // The clear sentinel: 20 zero bytes zero-filled to 32 without a marker clears the seed [EMU].
    token.transmit(molto2WriteSeedApdu(DEFAULT_K, 1, hex("0102")));
    const sentinel = buildSecureApdu(DEFAULT_K, 0xc5, 0x01, 1, sm4EncryptEcb(DEFAULT_K, new Uint8Array(32)), { encrypt: false });
    expect(sw(token.transmit(sentinel))).toBe(0x9000);
    expect(token.state().profiles[1]!.seed.length).toBe(0);
  });
});
