/**
 * The single-profile driver against the Family A emulator through the in-memory transport: every
 * path of docs/PROTOCOL.md §2.10, with faults injected by MemoryTransport's removal and by rewriting one
 * answer of the card.
 */
import { randomBytes } from "node:crypto";
import base32 from "hi-base32";
import { describe, expect, it } from "vitest";
import { failureOf } from "../fixtures/errors.js";
import { totp } from "../../src/crypto/index.js";
import { expectedCodes, SingleProfileSession, type BurnOptions } from "../../src/drivers/single-profile.js";
import { reasonOf } from "../../src/lib/errors.js";
import { createLogger } from "../../src/lib/log.js";
import { SINGLE_PROFILE_MODELS } from "../../src/protocol/models.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import { EchoCard } from "../fixtures/cards.js";
import { AUTH_FINISH, GET_CHALLENGE, GET_INFO, RecordingCard, WRITE_CONFIG, WRITE_SEED, sw } from "./_cards.js";

const NOW = 1_750_000_000;
const now = (): number => NOW;
const serialOf = (prefix: string): string => `${prefix}${"0000042".slice(0, 14 - prefix.length)}`;

function token(prefix = "8659622", options: ConstructorParameters<typeof SingleProfileToken>[0] = {}): { token: SingleProfileToken; card: RecordingCard } {
  const t = new SingleProfileToken({ serial: serialOf(prefix), clock: pinnedClock(NOW - 1234), ...options });
  return { token: t, card: new RecordingCard(t) };
}

const burnOptions = (seed: Uint8Array, over: Partial<BurnOptions> = {}): BurnOptions => ({
  seed,
  algorithm: "SHA1",
  period: 30,
  display: 30,
  ...over,
});

describe("SingleProfileSession.open", () => {
  it("identifies every model of the §2.1 table by serial prefix, with its sync class and clock drift", async () => {
    for (const model of SINGLE_PROFILE_MODELS) {
      const { card } = token(model.prefix);
      const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
      expect(session.info).toEqual({
        serial: serialOf(model.prefix),
        model,
        restrictedSync: model.restrictedSync,
        clock: NOW - 1234,
        driftSeconds: -1234,
      });
      expect(card.steps).toEqual([GET_INFO]);
    }
  });

  it("refuses an unknown serial prefix after GET INFO alone: no challenge, no auth", async () => {
    const { card } = token("8659623"); // C202/C203: not programmable (§2.1)
    const error = await failureOf(SingleProfileSession.open(new MemoryTransport(card)));
    expect(error.reason).toBe("UNKNOWN_MODEL");
    expect(error.detail.serial).toBe(serialOf("8659623"));
    expect(card.steps).toEqual([GET_INFO]);
  });

  it("refuses a card that is not a token (GET INFO not answered with 9000)", async () => {
    const card = new RecordingCard(new EchoCard());
    const error = await failureOf(SingleProfileSession.open(new MemoryTransport(card)));
    expect(error.reason).toBe("UNKNOWN_MODEL");
    expect(error.message).toContain("6D00");
    expect(card.steps).toEqual([GET_INFO]);
  });

  it("reads the clock drift again without writing anything", async () => {
    const { card } = token("8659612", { clock: pinnedClock(NOW + 95) });
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    expect((await session.readInfo()).driftSeconds).toBe(95);
    expect(card.steps).toEqual([GET_INFO, GET_INFO]);
  });
});

describe("burn", () => {
  it("authenticates once, writes config with the time, then the seed, on every model; the token shows the predicted codes", async () => {
    for (const model of SINGLE_PROFILE_MODELS) {
      for (const [algorithm, period, display, seedLength] of [
        ["SHA1", 30, 15, 20],
        ["SHA256", 60, 120, 32],
        ["SHA1", 60, 60, 16],
        ["SHA256", 30, 30, 10],
      ] as const) {
        const { token: t, card } = token(model.prefix);
        const seed = new Uint8Array(randomBytes(seedLength));
        const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
        const result = await session.burn(burnOptions(seed, { algorithm, period, display }));
        expect(card.steps).toEqual([GET_INFO, GET_CHALLENGE, AUTH_FINISH, WRITE_CONFIG, WRITE_SEED]);
        const state = t.state();
        // The driver zero-extends short seeds to 20 bytes (vendor tool; codes unchanged, vector R1).
        const stored = seedLength < 20 ? Uint8Array.from([...seed, ...new Uint8Array(20 - seedLength)]) : seed;
        expect(Buffer.from(state.seed).equals(Buffer.from(stored))).toBe(true);
        expect(state).toMatchObject({ alg: algorithm === "SHA1" ? 1 : 2, step: period, display: [15, 30, 60, 120].indexOf(display), rtc: NOW });
        expect(result).toMatchObject({ serial: serialOf(model.prefix), model: model.name, restrictedSync: model.restrictedSync });
        expect(result.codes.time).toBe(NOW);
        expect(t.code(NOW)).toBe(result.codes.current);
        expect(t.code(NOW - period)).toBe(result.codes.previous);
        expect(t.code(NOW + period)).toBe(result.codes.next);
        expect(result.codes.current).toBe(totp(algorithm, seed, { time: NOW, period }));
      }
    }
  });

  it("uses the given time instead of the host clock", async () => {
    const { token: t, card } = token("8659632");
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const result = await session.burn(burnOptions(new Uint8Array(20).fill(7), { time: 2_000_000_000 }));
    expect(t.state().rtc).toBe(2_000_000_000);
    expect(result.codes.current).toBe(t.code(2_000_000_000));
  });

  it("rejects bad seeds and settings before sending anything", async () => {
    const { card } = token();
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const bad: BurnOptions[] = [
      burnOptions(new Uint8Array(0)),
      burnOptions(new Uint8Array(64)),
      burnOptions(new Uint8Array(20), { period: 45 as 30 }),
      burnOptions(new Uint8Array(20), { display: 20 as 15 }),
      burnOptions(new Uint8Array(20), { algorithm: "SHA512" as "SHA1" }),
      burnOptions(new Uint8Array(20), { time: -1 }),
    ];
    for (const options of bad) {
      await expect(session.burn(options)).rejects.toMatchObject({ reason: "INVALID_INPUT" });
    }
    expect(card.steps).toEqual([GET_INFO]);
  });

  it("a locked token: TOKEN_LOCKED after exactly one AUTH FINISH, never a second try, nothing written", async () => {
    const { token: t, card } = token("8659622", { keyLocked: true });
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(1))));
    expect(error.reason).toBe("TOKEN_LOCKED");
    expect(error.detail).toMatchObject({ stage: "auth", seedState: "unchanged" });
    expect(card.steps).toEqual([GET_INFO, GET_CHALLENGE, AUTH_FINISH]);
    expect(t.state().failedAuths).toBe(0);
  });

  it("6983 on the seed write: re-authenticates once and retries the seed once (§2.10 step 6)", async () => {
    const { token: t, card } = token("8659622");
    // The token loses its RAM right after the config write, as a field drop would (§2.9).
    card.intercept = (step, apdu, inner) => {
      if (step !== WRITE_CONFIG) return undefined;
      const answer = inner.transmit(apdu);
      t.reset();
      return answer;
    };
    const seed = new Uint8Array(randomBytes(20));
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const result = await session.burn(burnOptions(seed));
    expect(card.steps).toEqual([GET_INFO, GET_CHALLENGE, AUTH_FINISH, WRITE_CONFIG, WRITE_SEED, GET_CHALLENGE, AUTH_FINISH, WRITE_SEED]);
    expect(Buffer.from(t.state().seed).equals(Buffer.from(seed))).toBe(true);
    expect(t.code(NOW)).toBe(result.codes.current);
  });

  it("6983 twice on the seed write: AUTH_FAILED, and on a restricted model the error says the token has no seed", async () => {
    const { token: t, card } = token("8659601");
    card.intercept = (step) => (step === WRITE_SEED ? sw(0x6983) : undefined);
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(3))));
    expect(error.reason).toBe("AUTH_FAILED");
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "wiped", model: "miniOTP-3-i" });
    expect(error.message).toContain("NO seed");
    expect(card.steps.filter((s) => s === WRITE_SEED)).toHaveLength(2);
    expect(card.steps.filter((s) => s === AUTH_FINISH)).toHaveLength(2);
    expect(t.state().seed).toHaveLength(0);
  });

  it("another failing status word is DEVICE_ERROR saying what it means for that step", async () => {
    const { card } = token("8659612");
    card.intercept = (step) => (step === WRITE_SEED ? sw(0x6a80) : undefined);
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(3))));
    expect(error.reason).toBe("DEVICE_ERROR");
    expect(error.message).toMatch(/^WRITE SEED failed: the token rejected the seed frame \(6A80\): its length or padding is wrong/);
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "previous", sw: 0x6a80 });
    expect(card.steps.filter((s) => s === WRITE_SEED)).toHaveLength(1);
  });

  it("a status word no table lists is shown as raw hex with the --debug hint", async () => {
    const { card } = token("8659612");
    card.intercept = (step) => (step === GET_CHALLENGE ? sw(0x6f12) : undefined);
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(3))));
    expect(error.reason).toBe("DEVICE_ERROR");
    expect(error.message).toMatch(
      /^GET CHALLENGE failed: unknown status word 6F12 \(run with --debug for the exchange\) \(during auth; nothing was written\)$/,
    );
  });

  it("card removed between config and seed on a restricted model: CARD_REMOVED, token left seedless, and the error says so", async () => {
    const { token: t, card } = token("8659622");
    const old = new Uint8Array(20).fill(9);
    await (await SingleProfileSession.open(new MemoryTransport(card), { now })).burn(burnOptions(old));
    // INFO, CHALLENGE, AUTH, CONFIG answered; the seed write finds the card gone.
    const session = await SingleProfileSession.open(new MemoryTransport(card, { removeAfter: 4 }), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(5))));
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "wiped", serial: serialOf("8659622") });
    expect(error.message).toMatch(/NO seed.*run burn again/);
    expect(t.state().seed).toHaveLength(0);
    expect(t.code()).toBeNull();
  });

  it("card removed between config and seed on an unrestricted model: the previous seed stays", async () => {
    const { token: t, card } = token("8659612");
    const old = new Uint8Array(20).fill(9);
    await (await SingleProfileSession.open(new MemoryTransport(card), { now })).burn(burnOptions(old));
    const session = await SingleProfileSession.open(new MemoryTransport(card, { removeAfter: 4 }), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(5), { algorithm: "SHA256" })));
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail.seedState).toBe("previous");
    expect(Buffer.from(t.state().seed).equals(Buffer.from(old))).toBe(true);
  });

  it("card removed at the config write on a restricted model: the seed state is unknown, and the error says so", async () => {
    const { card } = token("8659610");
    const session = await SingleProfileSession.open(new MemoryTransport(card, { removeAfter: 3 }), { now });
    const error = await failureOf(session.burn(burnOptions(new Uint8Array(20).fill(5))));
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail).toMatchObject({ stage: "config", seedState: "unknown" });
  });

  it("logs each step as JSON lines without the seed, its frame or any APDU", async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: "debug", write: (line) => lines.push(line) });
    const { card } = token("8659622");
    const seed = new Uint8Array(randomBytes(20));
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now, logger });
    await session.burn(burnOptions(seed));
    const messages = lines.map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(messages.map((m) => `${m.level} ${m.msg}`)).toEqual([
      "debug single-profile: GET INFO",
      "info single-profile: identified",
      "debug single-profile: GET CHALLENGE",
      "debug single-profile: AUTH FINISH",
      "info single-profile: authenticated",
      "debug single-profile: WRITE CONFIG",
      "info single-profile: config written",
      "debug single-profile: WRITE SEED",
      "info single-profile: seed written",
    ]);
    const all = lines.join("\n").toLowerCase();
    for (const form of [
      Buffer.from(seed).toString("hex"),
      base32.encode(Buffer.from(seed)).replace(/=/g, "").toLowerCase(),
      Buffer.from(seed).toString("base64").toLowerCase(),
    ]) {
      expect(all).not.toContain(form);
    }
  });
});

describe("syncTime", () => {
  const settings = { algorithm: "SHA256", period: 60, display: 60 } as const;

  it("refuses on a restricted model without confirmation, after GET INFO alone", async () => {
    const { token: t, card } = token("8659622");
    const seed = new Uint8Array(20).fill(4);
    await (await SingleProfileSession.open(new MemoryTransport(card), { now })).burn(burnOptions(seed));
    card.steps.length = 0;
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const error = await failureOf(session.syncTime({ ...settings }));
    expect(error.reason).toBe("SEED_WIPE_NOT_CONFIRMED");
    expect(reasonOf(error)).toBe("SEED_WIPE_NOT_CONFIRMED");
    expect(card.steps).toEqual([GET_INFO]);
    expect(Buffer.from(t.state().seed).equals(Buffer.from(seed))).toBe(true);
  });

  it("confirmed on a restricted model: sets the clock, and the seed is gone", async () => {
    const { token: t, card } = token("8659622", { clock: pinnedClock(NOW + 300) });
    await (await SingleProfileSession.open(new MemoryTransport(card), { now })).burn(burnOptions(new Uint8Array(20).fill(4), { time: NOW + 300 }));
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const result = await session.syncTime({ ...settings, confirmSeedWipe: true });
    expect(result).toEqual({ serial: serialOf("8659622"), model: "OTPC-P2-i", time: NOW, driftBefore: 300, seed: "wiped" });
    expect(t.state()).toMatchObject({ rtc: NOW, alg: 2, step: 60, display: 2 });
    expect(t.state().seed).toHaveLength(0);
  });

  it("confirmed with the seed on a restricted model: re-burns it, and the token shows the codes", async () => {
    const { token: t, card } = token("8659609");
    const seed = new Uint8Array(randomBytes(32));
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const result = await session.syncTime({ ...settings, confirmSeedWipe: true, reseed: seed });
    expect(result.seed).toBe("rewritten");
    expect(result.codes).toEqual(expectedCodes(seed, settings, NOW));
    expect(t.code(NOW)).toBe(result.codes!.current);
    expect(card.steps).toEqual([GET_INFO, GET_INFO, GET_CHALLENGE, AUTH_FINISH, WRITE_CONFIG, WRITE_SEED]);
  });

  it("on an unrestricted model: no confirmation needed, the seed stays", async () => {
    const { token: t, card } = token("8659632", { clock: pinnedClock(NOW - 50) });
    const seed = new Uint8Array(20).fill(8);
    await (await SingleProfileSession.open(new MemoryTransport(card), { now })).burn(burnOptions(seed, { time: NOW - 50 }));
    const session = await SingleProfileSession.open(new MemoryTransport(card), { now });
    const result = await session.syncTime({ algorithm: "SHA1", period: 30, display: 30 });
    expect(result).toMatchObject({ seed: "kept", driftBefore: -50, time: NOW });
    expect(Buffer.from(t.state().seed).equals(Buffer.from(seed))).toBe(true);
    expect(t.state().rtc).toBe(NOW);
  });
});
