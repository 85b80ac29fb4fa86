/**
 * Faults during a single-profile burn through pcscd and vpcd, in process (PcscManager +
 * DeviceManager + SingleProfileSession): each gives a typed error within seconds, and the device
 * manager recovers (lists the token ready again once it is back) so that a second burn succeeds.
 * One test here kills and restarts pcscd, with scripts/services.sh's own commands, under the
 * machine-wide PC/SC test lock.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "../fixtures/errors.js";
import { DeviceManager, type DeviceInfo } from "../../src/drivers/device-manager.js";
import { SingleProfileSession, type BurnOptions } from "../../src/drivers/single-profile.js";
import type { OtpbridgeError } from "../../src/lib/errors.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import type { ApduTransport } from "../../src/transports/types.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { REPO_ROOT, missingPcscStack, startPcscd, stopPcscd } from "../fixtures/pcscd.js";
import { RecordingCard, WRITE_CONFIG, WRITE_SEED, sw } from "../drivers/_cards.js";
import { OUR_READERS, openRig, readersListed, type PcscRig } from "./_pcsc.js";

const missing = missingPcscStack();
if (missing) console.warn(`single-profile fault end-to-end tests skipped: ${missing}`);
const run = promisify(execFile);

const burnOptions = (fill: number): BurnOptions => ({ seed: new Uint8Array(20).fill(fill), algorithm: "SHA1", period: 30, display: 30 });

async function until(check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(missing !== undefined)("single-profile burn faults through pcscd and vpcd", () => {
  let rig: PcscRig;
  let manager: DeviceManager;
  const reader = OUR_READERS[0]!;
  const other = OUR_READERS[1]!;
  let slots: InsertedCard[] = [];
  const device = (name: string): DeviceInfo | undefined => manager.list().find((d) => d.reader === name);
  const burn = (name: string, options: BurnOptions) =>
    manager.withReader(name, async (transport) => (await SingleProfileSession.open(transport)).burn(options));

  beforeAll(async () => {
    rig = await openRig();
    manager = new DeviceManager({ pcsc: rig.pcsc, families: OUR_READERS.map((r) => ({ reader: r.name, match: "exact", family: "single-profile" })) });
  }, 150_000);

  afterEach(async () => {
    await Promise.all(slots.map((slot) => slot.remove()));
    slots = [];
    // pcscd must have seen the readers empty before the next test inserts again (it polls every 400 ms).
    await until(() => OUR_READERS.every((r) => rig.pcsc.readers().some((x) => x.name === r.name && !x.cardPresent)));
  });

  afterAll(async () => {
    manager?.close();
    await rig?.close();
  });

  it("card removed between config and seed: CARD_REMOVED saying the token is seedless; the manager recovers and burn works again", async () => {
    const token = new SingleProfileToken({ serial: "86596220000101" });
    const card = new RecordingCard(token);
    let slot!: InsertedCard;
    // The card leaves the reader as the seed write arrives (it never reaches the token).
    card.intercept = (step) => {
      if (step !== WRITE_SEED) return undefined;
      void slot.remove();
      return sw(0x6f00);
    };
    slot = await rig.insert(card, reader);
    slots.push(slot);
    await until(() => device(reader.name)?.state === "ready");
    const t0 = performance.now();
    const error = await failureOf(burn(reader.name, burnOptions(1)));
    expect(performance.now() - t0).toBeLessThan(3_000);
    expect(error.reason).toBe("CARD_REMOVED");
    expect(error.detail).toMatchObject({ stage: "seed", seedState: "wiped", model: "OTPC-P2-i" });
    expect(error.message).toMatch(/NO seed; run burn again/);
    expect(token.state().seed).toHaveLength(0);
    await until(() => device(reader.name)?.state === "no-card");

    card.intercept = () => undefined;
    slots = [await rig.insert(card, reader)];
    await until(() => device(reader.name)?.state === "ready");
    const result = await burn(reader.name, burnOptions(2));
    expect(token.code(result.codes.time)).toBe(result.codes.current);
  }, 30_000);

  it("a second PC/SC client trying the card during a burn is refused, and the burn completes", async () => {
    const token = new SingleProfileToken({ serial: "86596120000102" });
    slots.push(await rig.insert(token, reader));
    await until(() => device(reader.name)?.state === "ready");
    const second = join(REPO_ROOT, "test/transports/helpers/second-client.cjs");
    let outcome: { stage: string; error?: string; response?: string } | undefined;
    const result = await manager.withReader(reader.name, async (transport) => {
      // Between config and seed, another application tries to use the card.
      const meddled: ApduTransport = {
        transmit: async (apdu) => {
          if (apdu[0] === 0x84 && apdu[1] === 0xc5 && outcome === undefined) {
            outcome = JSON.parse((await run(process.execPath, [second, reader.name], { timeout: 10_000 })).stdout) as typeof outcome;
          }
          return transport.transmit(apdu);
        },
        close: () => transport.close(),
      };
      return (await SingleProfileSession.open(meddled)).burn(burnOptions(3));
    });
    expect(outcome?.stage).toBe("connect");
    expect(outcome?.error).toMatch(/0x8010000b|[Ss]haring/);
    expect(Buffer.from(token.state().seed).equals(Buffer.from(new Uint8Array(20).fill(3)))).toBe(true);
    expect(token.code(result.codes.time)).toBe(result.codes.current);
  }, 30_000);

  it("pcscd killed and restarted during a burn: PCSC_UNAVAILABLE, then the manager lists the readers again and a burn succeeds", async () => {
    const token = new SingleProfileToken({ serial: "86596320000103" });
    const card = new RecordingCard(token);
    card.intercept = (step, apdu, inner) => {
      if (step !== WRITE_CONFIG) return undefined;
      // pcscd dies while the config write is in flight (services.sh stop_pcscd waits for its exit).
      stopPcscd();
      return inner.transmit(apdu);
    };
    slots.push(await rig.insert(card, reader));
    slots.push(await rig.insert(new SingleProfileToken({ serial: "86596120000104" }), other));
    await until(() => device(reader.name)?.state === "ready" && device(other.name)?.state === "ready");
    let error: OtpbridgeError;
    try {
      const t0 = performance.now();
      error = await failureOf(burn(reader.name, burnOptions(4)));
      expect(performance.now() - t0).toBeLessThan(5_000);
    } finally {
      card.intercept = () => undefined;
      startPcscd();
    }
    expect(error.reason).toBe("PCSC_UNAVAILABLE");
    // The config reached the C302-i (it keeps its seed on a config write, §2.1), its answer did not.
    expect(error.detail).toMatchObject({ stage: "config", seedState: "kept" });
    expect(manager.status().pcsc).not.toBe("closed");

    // The cards left with the old pcscd's vpcd; the readers come back with the new one.
    await Promise.all(slots.map((slot) => slot.gone));
    slots = [];
    await readersListed(
      rig.pcsc,
      OUR_READERS.map((r) => r.name),
      15_000,
    );
    await until(() => manager.status().pcsc === "ready" && device(reader.name) !== undefined);
    slots.push(await rig.insert(card, reader));
    await until(() => device(reader.name)?.state === "ready");
    const result = await burn(reader.name, burnOptions(5));
    expect(token.code(result.codes.time)).toBe(result.codes.current);
  }, 60_000);
});
