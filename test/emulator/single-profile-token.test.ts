import { describe, expect, it } from "vitest";
import { buildSecureApdu, sm4EncryptEcb, token2Mac, totp } from "../../src/crypto/index.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { prng } from "../fixtures/prng.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { decodeResponseApdu } from "../../src/protocol/apdu.js";
import { SINGLE_PROFILE_MODELS } from "../../src/protocol/models.js";
import {
  getChallengeApdu,
  getInfoApdu,
  parseSingleProfileInfo,
  SINGLE_PROFILE_KEY,
  writeConfigApdu,
  writeSeedApdu,
  type SingleProfileConfig,
} from "../../src/protocol/single-profile.js";
import { authFinishApdu, parseChallenge } from "../../src/protocol/token2-auth.js";
import { hex, toHex } from "../protocol/_vectors.js";

const K = SINGLE_PROFILE_KEY;

/** A mutable clock so tests can let time pass. */
function movableClock(start: number): { clock: () => number; advance: (s: number) => void } {
  let now = start;
  return { clock: () => now, advance: (s) => (now += s) };
}

function sw(response: Uint8Array): number {
  return decodeResponseApdu(response).sw;
}

function authenticate(token: SingleProfileToken): void {
  const challenge = parseChallenge(decodeResponseApdu(token.transmit(getChallengeApdu())).data);
  expect(sw(token.transmit(authFinishApdu(K, challenge)))).toBe(0x9000);
}

describe("SingleProfileToken against the host codec", () => {
  it("burns seeds of every length; the displayed code equals totp() for the same seed", () => {
    const time = movableClock(1_800_000_000);
    for (const length of [1, 10, 16, 20, 32, 48, 63]) {
      for (const zeroExtend of [true, false]) {
        for (const [algorithm, period] of [
          ["SHA1", 30],
          ["SHA256", 60],
        ] as const) {
          const token = new SingleProfileToken({ clock: time.clock, rng: prng(length).bytes });
          const info = parseSingleProfileInfo(decodeResponseApdu(token.transmit(getInfoApdu())).data);
          expect(info.model?.name).toBe("OTPC-P2-i");
          authenticate(token);
          const config: SingleProfileConfig = { display: 3, time: 1_750_000_000, algorithm, period };
          expect(sw(token.transmit(writeConfigApdu(config)))).toBe(0x9000);
          const seed = Uint8Array.from(prng(1000 + length).bytes(length));
          expect(sw(token.transmit(writeSeedApdu(seed, { zeroExtend })))).toBe(0x9000);
          const state = token.state();
          const stored = zeroExtend && length < 20 ? Uint8Array.from([...seed, ...new Uint8Array(20 - length)]) : seed;
          expect(toHex(state.seed)).toBe(toHex(stored));
          expect(state).toMatchObject({ alg: algorithm === "SHA1" ? 1 : 2, step: period, display: 3, rtc: 1_750_000_000 });
          time.advance(7);
          const expected = totp(algorithm, seed, { time: 1_750_000_007, period, digits: 6 });
          expect(token.code()).toBe(expected);
          expect(parseSingleProfileInfo(decodeResponseApdu(token.transmit(getInfoApdu())).data).clock).toBe(1_750_000_007);
        }
      }
    }
  });

  it("erases the seed on a config write only on restricted models (§2.1)", () => {
    for (const model of SINGLE_PROFILE_MODELS) {
      const token = new SingleProfileToken({ serial: `${model.prefix}0000042`, clock: pinnedClock(1_700_000_000) });
      expect(token.state().restrictedSync).toBe(model.restrictedSync);
      authenticate(token);
      token.transmit(writeSeedApdu(hex("0102030405")));
      expect(sw(token.transmit(writeConfigApdu({ display: 1, time: 1_700_000_100, algorithm: "SHA1", period: 30 })))).toBe(0x9000);
      expect(token.state().seed.length).toBe(model.restrictedSync ? 0 : 20);
      expect(token.code() === null).toBe(model.restrictedSync);
    }
  });

  it("drops authentication and the armed challenge when the field goes, unless told to keep them", () => {
    const token = new SingleProfileToken();
    authenticate(token);
    token.powerOff();
    expect(token.state()).toMatchObject({ authed: false, armed: false });
    expect(sw(token.transmit(writeSeedApdu(hex("01"))))).toBe(0x6983);
    token.transmit(getChallengeApdu());
    token.reset();
    expect(sw(token.transmit(authFinishApdu(K, new Uint8Array(8))))).toBe(0x6a80);
    const keeping = new SingleProfileToken({ keepSessionOnReconnect: true });
    authenticate(keeping);
    keeping.powerOff();
    keeping.powerOn();
    expect(sw(keeping.transmit(writeSeedApdu(hex("01"))))).toBe(0x9000);
  });

  it("legacy lock mode locks after N wrong answers, then refuses even the right one", () => {
    const token = new SingleProfileToken({ legacyLockAfter: 2 });
    for (let i = 0; i < 2; i++) {
      token.transmit(getChallengeApdu());
      expect(sw(token.transmit(authFinishApdu(K, new Uint8Array(8))))).toBe(0x6983);
    }
    const challenge = decodeResponseApdu(token.transmit(getChallengeApdu())).data;
    expect(sw(token.transmit(authFinishApdu(K, challenge)))).toBe(0x6983);
    expect(token.state()).toMatchObject({ keyLocked: true, failedAuths: 2 });
    expect(sw(new SingleProfileToken({ keyLocked: true }).transmit(authFinishApdu(K, challenge)))).toBe(0x6983);
  });

  it("answers GET INFO in the TLV form when asked", () => {
    const token = new SingleProfileToken({ infoForm: "tlv", clock: pinnedClock(5) });
    const data = decodeResponseApdu(token.transmit(getInfoApdu())).data;
    expect(toHex(data.subarray(0, 4))).toBe("9516020E");
    expect(parseSingleProfileInfo(data)).toMatchObject({ serial: "86596220000001", clock: 5 });
  });
});

describe("firmware-core behaviour listed after Appendix B", () => {
  const fresh = (): SingleProfileToken => {
    const token = new SingleProfileToken({ clock: pinnedClock(1_700_000_000) });
    authenticate(token);
    return token;
  };
  const rawSeedFrame = (plain: Uint8Array): Uint8Array => {
    const enc = sm4EncryptEcb(K, plain);
    return buildSecureApdu(K, 0xc5, 0x01, 0x00, enc, { encrypt: false });
  };
  const config = (tlv: Uint8Array, p1 = 0, p2 = 0): Uint8Array => buildSecureApdu(K, 0xd4, p1, p2, tlv, { encrypt: false });
  const TEMPLATE = "81111F01010F046553F10086060A01010D011E";

  it("ignores a trailing Le after a secure command; an extended-length CLA 84 gives 6700", () => {
    const token = fresh();
    expect(sw(token.transmit(Uint8Array.from([...writeSeedApdu(hex("AA")), 0x00])))).toBe(0x9000);
    const apdu = writeSeedApdu(hex("AA"));
    const extended = Uint8Array.from([...apdu.subarray(0, 4), 0x00, 0x00, apdu[4]!, ...apdu.subarray(5)]);
    expect(sw(token.transmit(extended))).toBe(0x6700);
  });

  it("accepts P1/P2 01 07 on WRITE CONFIG and out-of-range dd/aa/ss values", () => {
    const token = fresh();
    expect(sw(token.transmit(config(hex(TEMPLATE), 0x01, 0x07)))).toBe(0x9000);
    expect(sw(token.transmit(config(hex("81111F01090F046553F10086060A01070D0105"))))).toBe(0x9000);
    expect(token.state()).toMatchObject({ display: 9, alg: 7, step: 5 });
  });

  it("stores the algorithm of a config that then fails its step-tag check (6A80)", () => {
    const token = fresh();
    expect(sw(token.transmit(config(hex("81111F01030F046553F10086060A01020E011E"))))).toBe(0x6a80);
    expect(token.state()).toMatchObject({ display: 3, alg: 2, step: 0x1e, rtc: 1_700_000_000 });
    expect(sw(token.transmit(config(hex(`${TEMPLATE}00`))))).toBe(0x6a80);
  });

  it("guards the step-00 division: treated as 30 s", () => {
    const token = new SingleProfileToken({ clock: pinnedClock(1_700_000_000), restrictedSync: false });
    authenticate(token);
    token.transmit(writeSeedApdu(hex("3132333435")));
    expect(sw(token.transmit(config(hex("81111F01010F046553F10086060A01010D0100"))))).toBe(0x9000);
    expect(token.code()).toBe(totp("SHA1", hex("3132333435"), { time: 1_700_000_000, period: 30 }));
  });

  it("seed frames: E_K(80 00×15) clears, 64-byte seed and markerless zeros fail, 63 bytes and 01 00 pass", () => {
    const token = fresh();
    token.transmit(writeSeedApdu(hex("01")));
    expect(sw(token.transmit(rawSeedFrame(hex(`80${"00".repeat(15)}`))))).toBe(0x9000);
    expect(token.state().seed.length).toBe(0);
    expect(token.code()).toBeNull();
    const seed64 = new Uint8Array(80);
    seed64.fill(0x11, 0, 64);
    seed64[64] = 0x80;
    expect(sw(token.transmit(rawSeedFrame(seed64)))).toBe(0x6a80);
    expect(sw(token.transmit(rawSeedFrame(new Uint8Array(32))))).toBe(0x6a80);
    expect(sw(token.transmit(writeSeedApdu(new Uint8Array(63).fill(0x63))))).toBe(0x9000);
    expect(token.state().seed.length).toBe(63);
    expect(sw(token.transmit(writeSeedApdu(hex("0100"), { zeroExtend: false })))).toBe(0x9000);
    expect(toHex(token.state().seed)).toBe("0100");
  });

  it("checks the MAC over the real P1/P2 and the 80 class byte", () => {
    const token = fresh();
    const apdu = writeSeedApdu(hex("01020304"));
    apdu[3] = 0x01; // P2 is covered by the MAC
    expect(sw(token.transmit(apdu))).toBe(0x6983);
    const mac = token2Mac(K, Uint8Array.from([0x84, 0x99, 0, 0, 1, 0]));
    expect(sw(token.transmit(Uint8Array.from([0x84, 0x99, 0, 0, 5, 0, ...mac])))).toBe(0x6983);
  });
});
