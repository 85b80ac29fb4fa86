/**
 * "Hold the token still, retrying" on the burn and sync-time paths: in-memory readers and the real device
 * manager, with the token taken out of its reader in the middle of a step (MemoryReaders.remove,
 * which powers it down as a field loss does, §2.9) and put back, or replaced by another token.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { burnHoldingStill } from "../../src/cli/commands/burn.js";
import { syncHoldingStill } from "../../src/cli/commands/sync-time.js";
import type { CommandIo } from "../../src/cli/io.js";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { MemoryReaders } from "../../src/simulation/simulation.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { otpbError } from "../../src/lib/errors.js";
import { silentLogger } from "../../src/lib/log.js";
import { Journal } from "../../src/store/journal.js";
import { rejection } from "../fixtures/errors.js";
import { AUTH_FINISH, GET_INFO, RecordingCard, WRITE_CONFIG, WRITE_SEED, type Step } from "../drivers/_cards.js";

const SEED = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const SETTINGS = { algorithm: "SHA1", period: 30, display: 30 } as const;
const READER = "NFC reader";
const managers: DeviceManager[] = [];
const journals: Journal[] = [];
const lost = () => otpbError("CARD_REMOVED", "the card left the reader during the exchange");
afterEach(() => {
  managers.splice(0).forEach((m) => m.close());
  journals.splice(0).forEach((j) => j.close());
});

async function rig(serial: string) {
  const readers = new MemoryReaders();
  readers.addReader(READER);
  const card = new RecordingCard(new SingleProfileToken({ serial }));
  readers.insert(READER, card);
  const manager = new DeviceManager({ pcsc: readers });
  managers.push(manager);
  await manager.settled(0);
  const err: string[] = [];
  const io: CommandIo = { out: () => {}, err: (l) => err.push(l), readStdin: () => "" };
  const journal = Journal.open({ dataDir: mkdtempSync(join(tmpdir(), "otpb-retry-")), key: { kind: "keyFile" } });
  journals.push(journal);
  return { readers, card, manager, io, err, journal, token: card.card as SingleProfileToken };
}

/**
 * At the `times` first occurrences of `step`: let it reach the token (or not), then take the token
 * out and, after `backMs`, put `comeback` (default the same token) in.
 */
function slipAt(
  r: Awaited<ReturnType<typeof rig>>,
  step: Step,
  options: { landed: boolean; times?: number; backMs?: number; comeback?: RecordingCard | null },
): void {
  let left = options.times ?? 1;
  r.card.intercept = (seen, apdu, inner) => {
    if (seen !== step || left === 0) return undefined;
    left--;
    const answer = options.landed ? inner.transmit(apdu) : undefined;
    r.readers.remove(READER);
    const back = options.comeback === undefined ? r.card : options.comeback;
    if (back !== null) setTimeout(() => r.readers.insert(READER, back), options.backMs ?? 40);
    // Landed: the answer arrives and the next APDU finds the card gone. Not landed: this exchange
    // itself fails, as PcscManager reports a card lost mid-transmit.
    if (answer === undefined) throw lost();
    return answer;
  };
}

describe("burn: hold the token still, retrying", () => {
  it("the token leaves right after the config write wiped its seed: says so, waits for it, burns again; the token shows the code", async () => {
    const r = await rig("86596220000042"); // OTPC-P2-i: restricted, the config write erases the seed
    slipAt(r, WRITE_CONFIG, { landed: true });
    const result = await burnHoldingStill(
      r.manager,
      { reader: READER, serial: "86596220000042" },
      { records: r.journal, seed: SEED, settings: SETTINGS },
      r.io,
      silentLogger,
    );
    expect(r.err).toEqual(["hold the token still, retrying (the token left the field during seed; retry 1 of 2)"]);
    expect(r.token.code(result.codes.time)).toBe(result.codes.current);
    expect(Buffer.from(r.token.state().seed).equals(Buffer.from(SEED))).toBe(true);
    // First session up to the config write; the manager's GET INFO on re-insertion; then the whole burn again.
    const afterBack = r.card.steps.slice(r.card.steps.indexOf(WRITE_CONFIG) + 1);
    expect(afterBack).toEqual([GET_INFO, GET_INFO, "80:4b", AUTH_FINISH, WRITE_CONFIG, WRITE_SEED, GET_INFO]);
    // Claimed once, before the first write, and committed once the clock read back.
    expect(r.journal.item(result.journal.itemId)).toMatchObject({ state: "committed", serial: "86596220000042", attempts: 1 });
    expect(r.journal.events(result.journal.batchId).filter((e) => e.kind === "item.claimed")).toHaveLength(1);
  });

  it("the token leaves during authentication before anything was written: retried the same way", async () => {
    const r = await rig("86596120000007"); // OTPC-P1-i
    slipAt(r, AUTH_FINISH, { landed: false });
    const result = await burnHoldingStill(
      r.manager,
      { reader: READER, serial: "86596120000007" },
      { records: r.journal, seed: SEED, settings: SETTINGS },
      r.io,
      silentLogger,
    );
    expect(r.err).toEqual(["hold the token still, retrying (the token left the field during auth; retry 1 of 2)"]);
    expect(r.token.code(result.codes.time)).toBe(result.codes.current);
  });

  it("another token put in the reader never gets the retried burn: after the wait the original error stands", async () => {
    const r = await rig("86596220000042");
    const stranger = new RecordingCard(new SingleProfileToken({ serial: "86596220000099" }));
    slipAt(r, WRITE_CONFIG, { landed: true, comeback: stranger });
    const started = Date.now();
    const error = await rejection(
      burnHoldingStill(r.manager, { reader: READER, serial: "86596220000042" }, { records: r.journal, seed: SEED, settings: SETTINGS }, r.io, silentLogger, {
        waitMs: 400,
      }),
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "wiped", serial: "86596220000042" });
    expect(error.message).toMatch(/NO seed; run burn again/);
    expect(r.err).toHaveLength(1);
    expect(stranger.steps).toEqual([GET_INFO]); // the manager's identification, nothing else
  });

  it("a token that does not come back in time: the original error after the wait", async () => {
    const r = await rig("86596320000001"); // C302-i: unrestricted
    slipAt(r, WRITE_SEED, { landed: false, comeback: null });
    const error = await rejection(
      burnHoldingStill(r.manager, { reader: READER, serial: "86596320000001" }, { records: r.journal, seed: SEED, settings: SETTINGS }, r.io, silentLogger, {
        waitMs: 300,
      }),
    );
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "previous" });
    expect(r.err).toHaveLength(1);
    // A link failure leaves the item in flight: the same token resumes it with the same seed.
    expect(error.detail.journal).toMatchObject({ state: "claimed" });
    const { itemId } = error.detail.journal as { itemId: number };
    expect(r.journal.item(itemId)).toMatchObject({ state: "claimed", serial: "86596320000001" });
  });

  it("retries a bounded number of times", async () => {
    const r = await rig("86596220000042");
    slipAt(r, WRITE_SEED, { landed: false, times: 5 });
    const error = await rejection(
      burnHoldingStill(r.manager, { reader: READER, serial: "86596220000042" }, { records: r.journal, seed: SEED, settings: SETTINGS }, r.io, silentLogger, {
        attempts: 3,
      }),
    );
    expect(error.reason).toBe("CARD_REMOVED");
    expect(r.err).toEqual([1, 2, 3].map((n) => `hold the token still, retrying (the token left the field during seed; retry ${n} of 3)`));
    expect(r.card.steps.filter((s) => s === WRITE_SEED)).toHaveLength(4);
  });

  it("after the burn went through, a slip while reading the clock back only reads it again", async () => {
    const r = await rig("86596120000007");
    let infos = 0;
    r.card.intercept = (seen) => {
      if (seen !== GET_INFO || r.card.steps.includes(WRITE_SEED) === false || infos++ > 0) return undefined;
      r.readers.remove(READER);
      setTimeout(() => r.readers.insert(READER, r.card), 40);
      throw lost();
    };
    const result = await burnHoldingStill(
      r.manager,
      { reader: READER, serial: "86596120000007" },
      { records: r.journal, seed: SEED, settings: SETTINGS },
      r.io,
      silentLogger,
    );
    expect(r.err).toEqual(["hold the token still, retrying (the token left the field during info; retry 1 of 2)"]);
    expect(r.card.steps.filter((s) => s === WRITE_SEED)).toHaveLength(1);
    expect(r.token.code(result.codes.time)).toBe(result.codes.current);
  });
});

describe("sync-time: hold the token still, retrying, only from steps safe to repeat", () => {
  const SYNC = { ...SETTINGS, confirmSeedWipe: true };

  it("the token leaves during authentication: retried, the clock is set", async () => {
    const r = await rig("86596220000042"); // OTPC-P2-i: restricted
    slipAt(r, AUTH_FINISH, { landed: false });
    const result = await syncHoldingStill(r.manager, { reader: READER, serial: "86596220000042" }, SYNC, r.io, silentLogger);
    expect(r.err).toEqual(["hold the token still, retrying (the token left the field during auth; retry 1 of 2)"]);
    expect(result).toMatchObject({ serial: "86596220000042", seed: "wiped" });
  });

  it("a clock write that may have erased the seed is not sent again when no seed follows: the error says what the token holds", async () => {
    const r = await rig("86596220000042");
    // Cut during the clock write: it may have landed. The token is back 40 ms later, but no retry.
    slipAt(r, WRITE_CONFIG, { landed: false });
    const error = await rejection(syncHoldingStill(r.manager, { reader: READER, serial: "86596220000042" }, SYNC, r.io, silentLogger));
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail).toMatchObject({ stage: "config", seedState: "unknown" });
    expect(r.err).toEqual([]);
    expect(r.card.steps.filter((s) => s === WRITE_CONFIG)).toHaveLength(1);
  });

  it("with the seed to burn again, the same slip is retried and the token ends with its seed", async () => {
    const r = await rig("86596220000042");
    slipAt(r, WRITE_SEED, { landed: false });
    const result = await syncHoldingStill(r.manager, { reader: READER, serial: "86596220000042" }, { ...SYNC, reseed: SEED }, r.io, silentLogger);
    expect(r.err).toEqual(["hold the token still, retrying (the token left the field during seed; retry 1 of 2)"]);
    expect(result.seed).toBe("rewritten");
    expect(Buffer.from(r.token.state().seed).equals(Buffer.from(SEED))).toBe(true);
  });
});
