/**
 * Which single-profile steps may be repeated after the card left (safeToRepeat, docs/PROTOCOL.md §2.9,
 * §2.10), with the removal injected by MemoryTransport's `removeAfter` at each step in turn.
 */
import { describe, expect, it } from "vitest";
import { SingleProfileSession, safeToRepeat } from "../../src/drivers/single-profile.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { otpbError } from "../../src/lib/errors.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import { rejection } from "../fixtures/errors.js";

const NOW = 1_750_000_000;
const SEED = new Uint8Array(20).fill(7);
const SETTINGS = { algorithm: "SHA1", period: 30, display: 30 } as const;
const RESTRICTED = "86596220000001"; // OTPC-P2-i
const UNRESTRICTED = "86596120000001"; // OTPC-P1-i

/** Syncs the clock with the card gone after `removeAfter` APDUs; returns the error. */
async function syncFailing(serial: string, removeAfter: number, reseed?: Uint8Array) {
  const token = new SingleProfileToken({ serial, clock: pinnedClock(NOW) });
  const session = await SingleProfileSession.open(new MemoryTransport(token, { removeAfter }), { now: () => NOW });
  return rejection(session.syncTime({ ...SETTINGS, confirmSeedWipe: true, ...(reseed ? { reseed } : {}) }));
}

describe("safeToRepeat", () => {
  // syncTime sends: GET INFO (open) | GET INFO (drift) | GET CHALLENGE | AUTH FINISH | WRITE CONFIG | WRITE SEED
  it("GET INFO and authentication are always safe to repeat", async () => {
    for (const [after, stage] of [
      [1, undefined],
      [2, "auth"],
      [3, "auth"],
    ] as const) {
      const error = await syncFailing(RESTRICTED, after);
      expect(error.reason).toBe("CARD_REMOVED");
      expect(error.detail.stage).toBe(stage);
      expect(safeToRepeat(error, { seedFollows: false })).toBe(true);
    }
  });

  it("a lone config write on a restricted model is not repeated; with the seed write after it, or on an unrestricted model, it is", async () => {
    const lone = await syncFailing(RESTRICTED, 4);
    expect(lone.detail).toMatchObject({ stage: "config", seedState: "unknown" });
    expect(safeToRepeat(lone, { seedFollows: false })).toBe(false);
    const reseeded = await syncFailing(RESTRICTED, 4, SEED);
    expect(safeToRepeat(reseeded, { seedFollows: true })).toBe(true);
    const kept = await syncFailing(UNRESTRICTED, 4);
    expect(kept.detail).toMatchObject({ stage: "config", seedState: "kept" });
    expect(safeToRepeat(kept, { seedFollows: false })).toBe(true);
  });

  it("a seed write cut off is repeated with the whole burn (config then seed)", async () => {
    const token = new SingleProfileToken({ serial: RESTRICTED, clock: pinnedClock(NOW) });
    const session = await SingleProfileSession.open(new MemoryTransport(token, { removeAfter: 4 }), { now: () => NOW });
    const error = await rejection(session.burn({ seed: SEED, ...SETTINGS }));
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "wiped" });
    expect(safeToRepeat(error, { seedFollows: true })).toBe(true);
  });

  it("never repeats for another token, or for anything but a card that left", async () => {
    const other = new SingleProfileToken({ serial: UNRESTRICTED });
    const swapped = await rejection(SingleProfileSession.open(new MemoryTransport(other), { expectSerial: RESTRICTED }));
    expect(swapped.reason).toBe("CARD_REMOVED");
    expect(swapped.detail).toEqual({ serial: RESTRICTED, found: UNRESTRICTED, swapped: true });
    expect(safeToRepeat(swapped, { seedFollows: true })).toBe(false);
    for (const reason of ["DEVICE_ERROR", "READER_GONE", "TOKEN_LOCKED", "AUTH_FAILED"] as const) {
      expect(safeToRepeat(otpbError(reason, "x", { detail: { stage: "auth" } }), { seedFollows: true })).toBe(false);
    }
    expect(safeToRepeat(new Error("x"), { seedFollows: true })).toBe(false);
  });
});
