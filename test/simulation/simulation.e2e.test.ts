/**
 * The one simulation module: which readers --simulate uses. Through the real pcscd (test lock
 * held): the first cards go behind vsmartcard-vpcd's own two readers, never the extra test
 * readers, and the rest into memory, all reachable through the one PC/SC source it returns. A
 * reader configuration without vsmartcard-vpcd's file, or a forced memory link, keeps everything
 * in memory; a forced vpcd link without its readers is PCSC_UNAVAILABLE.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { daemonCards, startSimulation, vpcdSlots } from "../../src/simulation/simulation.js";
import { reasonOf } from "../../src/lib/errors.js";
import { ensurePcscd, lockPcscd, missingPcscStack, REPO_ROOT, VPCD_READERS } from "../fixtures/pcscd.js";

const missing = missingPcscStack();
/** A SELECT by name with no data: every emulator answers it with at least a status word. */
const ANY_APDU = Uint8Array.of(0x00, 0xa4, 0x04, 0x00, 0x00);

describe("vpcdSlots", () => {
  it("reads vpcd entries of reader.conf.d, or only the files named", () => {
    const dir = mkdtempSync(join(tmpdir(), "otpb-readerconf-"));
    writeFileSync(
      join(dir, "vpcd"),
      'FRIENDLYNAME "Virtual PCD"\nDEVICENAME   /dev/null:0x8C7B\nLIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so\nCHANNELID    0x8C7B\n',
    );
    writeFileSync(join(dir, "otpbridge-test"), readFileSync(join(REPO_ROOT, "test/fixtures/reader.conf")));
    expect(vpcdSlots(dir).sort((a, b) => a.port - b.port)).toEqual([...VPCD_READERS].sort((a, b) => a.port - b.port));
    expect(vpcdSlots(dir, ["vpcd"])).toEqual([
      { name: "Virtual PCD 00 00", port: 35963 },
      { name: "Virtual PCD 00 01", port: 35964 },
    ]);
  });
});

describe.skipIf(missing !== undefined)("startSimulation through pcscd", () => {
  let release = (): void => {};
  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
  });
  afterAll(() => release());

  it("puts the first two cards behind vsmartcard-vpcd's readers and the rest in memory, one source for all", async () => {
    const simulation = await startSimulation(daemonCards(2));
    try {
      expect(simulation.link).toBe("vpcd");
      expect(simulation.families).toEqual([
        { reader: "Virtual PCD 00 01", match: "exact", family: "single-profile" },
        { reader: "Virtual PCD 00 00", match: "exact", family: "molto2" },
        { reader: "Simulated FIDO Key", match: "exact", family: "otp-applet" },
        { reader: "Simulated Reader 2", match: "exact", family: "single-profile" },
      ]);
      const withCards = simulation.pcsc
        .readers()
        .filter((r) => r.cardPresent)
        .map((r) => r.name);
      expect(withCards.sort()).toEqual(["Simulated FIDO Key", "Simulated Reader 2", "Virtual PCD 00 00", "Virtual PCD 00 01"]);
      // Each card answers through the source, wherever it sits.
      for (const reader of simulation.cards.keys()) {
        const answer = await simulation.pcsc.withCard(reader, (t) => t.transmit(ANY_APDU));
        expect(answer.length, reader).toBeGreaterThanOrEqual(2);
      }
    } finally {
      await simulation.close();
    }
  });

  it("without vsmartcard-vpcd's reader file (test readers only), everything is in memory", async () => {
    const dir = mkdtempSync(join(tmpdir(), "otpb-readerconf-"));
    writeFileSync(join(dir, "otpbridge-test"), readFileSync(join(REPO_ROOT, "test/fixtures/reader.conf")));
    const simulation = await startSimulation(daemonCards(1), { readerConfDir: dir });
    expect(simulation.link).toBe("memory");
    expect(simulation.pcsc.readers().map((r) => r.name)).toEqual(["Simulated Reader 1", "Simulated Molto2", "Simulated FIDO Key"]);
    await simulation.close();
  });

  it("a forced memory link stays in memory; a forced vpcd link without vpcd readers is PCSC_UNAVAILABLE", async () => {
    const memory = await startSimulation(daemonCards(1), { link: "memory" });
    expect(memory.link).toBe("memory");
    await memory.close();
    const error = await startSimulation(daemonCards(1), { link: "vpcd", readerConfDir: mkdtempSync(join(tmpdir(), "otpb-empty-")) }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("PCSC_UNAVAILABLE");
  });
});
