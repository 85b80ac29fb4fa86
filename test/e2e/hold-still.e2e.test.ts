/**
 * "Hold the token still, retrying" through the real stack (PcscManager, pcscd, vpcd): the token
 * leaves the reader as the seed write arrives and is put back half a second later; the burn
 * runs again on the same token once pcscd and the device manager list it again. Under the
 * machine-wide PC/SC test lock.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { burnHoldingStill } from "../../src/cli/commands/burn.js";
import type { CommandIo } from "../../src/cli/io.js";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { silentLogger } from "../../src/lib/log.js";
import { Journal } from "../../src/store/journal.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { missingPcscStack } from "../fixtures/pcscd.js";
import { RecordingCard, WRITE_SEED, sw } from "../drivers/_cards.js";
import { OUR_READERS, openRig, type PcscRig } from "./_pcsc.js";

const missing = missingPcscStack();
if (missing) console.warn(`hold-still end-to-end test skipped: ${missing}`);

describe.skipIf(missing !== undefined)("burn retried through pcscd and vpcd when the token comes back", () => {
  let rig: PcscRig;
  let manager: DeviceManager;
  let journal: Journal;
  const reader = OUR_READERS[0]!;
  const slots: InsertedCard[] = [];

  beforeAll(async () => {
    rig = await openRig();
    manager = new DeviceManager({ pcsc: rig.pcsc, families: [{ reader: reader.name, match: "exact", family: "single-profile" }] });
    journal = Journal.open({ dataDir: mkdtempSync(join(tmpdir(), "otpb-hold-still-")), key: { kind: "keyFile" } });
  }, 150_000);

  afterAll(async () => {
    manager?.close();
    journal?.close();
    await Promise.all(slots.map((slot) => slot.remove()));
    await rig?.close();
  });

  it("the token slips off during the seed write and is back 500 ms later: one retry, and the token shows the code", async () => {
    const serial = "86596220000201";
    const token = new SingleProfileToken({ serial });
    const card = new RecordingCard(token);
    let slips = 0;
    card.intercept = (step) => {
      if (step !== WRITE_SEED || slips++ > 0) return undefined;
      void slots
        .pop()!
        .remove()
        .then(async () => {
          await sleep(500);
          slots.push(await rig.insert(card, reader));
        });
      return sw(0x6f00); // never delivered: the reader has lost the card
    };
    slots.push(await rig.insert(card, reader));
    await manager.settled(400, 5_000);
    expect(manager.list().find((d) => d.reader === reader.name)).toMatchObject({ state: "ready", serial });
    const err: string[] = [];
    const io: CommandIo = { out: () => {}, err: (line) => err.push(line), readStdin: () => "" };
    const seed = new Uint8Array(20).fill(0x42);
    const result = await burnHoldingStill(
      manager,
      { reader: reader.name, serial },
      { records: journal, seed, settings: { algorithm: "SHA1", period: 30, display: 30 } },
      io,
      silentLogger,
    );
    expect(err).toEqual(["hold the token still, retrying (the token left the field during seed; retry 1 of 2)"]);
    expect(Buffer.from(token.state().seed).equals(Buffer.from(seed))).toBe(true);
    expect(token.code(result.codes.time)).toBe(result.codes.current);
    expect(journal.item(result.journal.itemId)).toMatchObject({ state: "committed", serial });
  }, 30_000);
});
