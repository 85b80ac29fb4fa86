/**
 * Fuzz: 100,000 random and mutated APDUs into each Token2 emulator (seeded, reproducible). Nothing
 * may throw, and every answer must end in a status word the spec lists for that family. A share of
 * the mutated secure commands is re-MACed after mutation so that the body parsers behind the MAC
 * check are reached too, and the session is re-authenticated now and then.
 */
import { describe, expect, it } from "vitest";
import { buildSecureApdu } from "../../src/crypto/index.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import {
  MOLTO2_DEFAULT_CUSTOMER_KEY,
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
  publicReadApdu,
} from "../../src/protocol/molto2.js";
import { getChallengeApdu, getInfoApdu, SINGLE_PROFILE_KEY, writeConfigApdu, writeSeedApdu } from "../../src/protocol/single-profile.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import { prng } from "../fixtures/prng.js";
import { mutate, randomApdu } from "./_fuzz.js";

const COUNT = 100_000;

interface Card {
  transmit(apdu: Uint8Array): Uint8Array;
  powerOff(): void;
}

/** Drives `card` with COUNT inputs; returns how often each SW was seen. */
function fuzz(
  seed: number,
  card: Card,
  key: Uint8Array,
  corpus: Uint8Array[],
  challenge: Uint8Array,
  allowed: (sw: number) => boolean,
  classes: number[],
  inss: number[],
): Map<number, number> {
  const r = prng(seed);
  const seen = new Map<number, number>();
  for (let i = 0; i < COUNT; i++) {
    let apdu: Uint8Array;
    const roll = r.int(100);
    if (roll < 3) {
      const response = card.transmit(challenge);
      apdu = response.length === 10 ? authFinishApdu(key, response.subarray(0, 8)) : challenge;
    } else if (roll < 35) {
      apdu = randomApdu(r, classes, inss);
    } else if (roll < 55) {
      apdu = r.pick(corpus);
    } else if (roll < 75) {
      const base = r.pick(corpus);
      const mutated = mutate(r, base);
      // Re-MAC a mutated secure command so the parsers behind the MAC check see it.
      apdu =
        mutated.length >= 9 && mutated[0] === 0x84 && r.chance(0.7)
          ? buildSecureApdu(key, mutated[1]!, mutated[2]!, mutated[3]!, mutated.subarray(5, Math.min(mutated.length - 4, 5 + 251)), { encrypt: false })
          : mutated;
    } else if (roll < 76) {
      card.powerOff();
      continue;
    } else {
      apdu = mutate(r, r.pick(corpus));
    }
    let response: Uint8Array;
    try {
      response = card.transmit(apdu);
    } catch (error) {
      throw new Error(`seed ${seed}, input ${i} (${Buffer.from(apdu).toString("hex")}) threw: ${String(error)}`);
    }
    expect(response.length).toBeGreaterThanOrEqual(2);
    const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
    if (!allowed(sw)) throw new Error(`seed ${seed}, input ${i} (${Buffer.from(apdu).toString("hex")}): SW ${sw.toString(16)}`);
    seen.set(sw, (seen.get(sw) ?? 0) + 1);
  }
  return seen;
}

describe("fuzzing the Token2 emulators", () => {
  it("SingleProfileToken: 100,000 APDUs, no throw, only §2.8 status words", () => {
    const token = new SingleProfileToken({ clock: pinnedClock(1_700_000_000) });
    const corpus = [
      getInfoApdu(),
      getChallengeApdu(),
      writeConfigApdu({ display: 1, time: 1_700_000_000, algorithm: "SHA256", period: 60 }),
      ...[1, 16, 20, 32, 48, 63].map((n) => writeSeedApdu(new Uint8Array(n).fill(n), { zeroExtend: false })),
    ];
    const allowed = new Set([0x9000, 0x6700, 0x6983, 0x6a80, 0x6d00, 0x6e00]);
    const seen = fuzz(0x5eed01, token, SINGLE_PROFILE_KEY, corpus, getChallengeApdu(), (sw) => allowed.has(sw), [0x80, 0x84], [0x41, 0x4b, 0xce, 0xc5, 0xd4]);
    for (const sw of allowed) expect(seen.get(sw) ?? 0, `SW ${sw.toString(16)} never reached`).toBeGreaterThan(0);
    expect(token.state().seed.length).toBeLessThanOrEqual(63);
  });

  it("Molto2Token: 100,000 APDUs, no throw, only §3.14/§3.16 status words", () => {
    const token = new Molto2Token({ clock: pinnedClock(1_700_000_000), profiles: 50, tries: 255 });
    const key = molto2Key(MOLTO2_DEFAULT_CUSTOMER_KEY);
    const config = { display: 1, time: 1_700_000_000, algorithm: "SHA1", digits: 8, period: 30 } as const;
    const corpus = [
      molto2InfoApdu(),
      publicReadApdu(3),
      molto2ChallengeApdu(),
      molto2DeleteSeedApdu(3),
      molto2ScreenLockApdu(true),
      molto2ScreenLockApdu(false),
      molto2FactoryResetApdu(),
      molto2WriteTitleApdu(key, 3, "title"),
      molto2WriteConfigApdu(key, 3, config),
      molto2SyncTimeApdu(key, 3, 1_700_000_000),
      ...[1, 16, 20, 32, 48, 63].map((n) => molto2WriteSeedApdu(key, 3, new Uint8Array(n).fill(n))),
      // Changing the key would lock the fuzzer out; its frame stays in the corpus, the ▲ is never pressed.
      molto2ChangeKeyApdu(key, new TextEncoder().encode("another")),
    ];
    const allowed = new Set([0x9000, 0x9060, 0x6700, 0x6982, 0x6988, 0x6a80, 0x6a83, 0x6a86, 0x6d00, 0x6e00, 0x6ffb]);
    const seen = fuzz(
      0x5eed02,
      token,
      key,
      corpus,
      molto2ChallengeApdu(),
      (sw) => allowed.has(sw) || sw >>> 8 === 0x63,
      [0x80, 0x84],
      [0x41, 0x4b, 0xce, 0xc5, 0xd4, 0xd5, 0xd7, 0xd8, 0xe6, 0x56],
    );
    for (const sw of allowed) expect(seen.get(sw) ?? 0, `SW ${sw.toString(16)} never reached`).toBeGreaterThan(0);
    for (const p of token.state().profiles) expect(p.seed.length).toBeLessThanOrEqual(63);
  });
});
