/**
 * The OTP-applet driver through the real PC/SC stack: OtpAppletSession -> T=0 processor ->
 * PcscManager -> pcscd -> vpcd -> the OtpAppletKey emulator as a virtual card in "Virtual PCD B 00 01".
 * Skipped only when pcscd or vpcd is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/index.js";
import { OtpAppletSession } from "../../src/drivers/otp-applet.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { reasonOf } from "../../src/lib/errors.js";
import { PcscManager } from "../../src/transports/pcsc.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { VPCD_READERS, ensurePcscd, lockPcscd, missingPcscStack } from "../fixtures/pcscd.js";

const missing = missingPcscStack();
const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD B 00 01")!;
const T = 1_700_000_000;
const SEED = Uint8Array.from({ length: 20 }, (_, i) => i + 1);

describe.skipIf(missing !== undefined)("OTP applet through pcscd and vpcd", () => {
  let manager: PcscManager;
  let release: () => void = () => {};
  let slot: InsertedCard | undefined;

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
    manager = await PcscManager.start();
  });

  afterAll(async () => {
    await slot?.remove();
    await manager?.close();
    release();
  });

  it("selects the applet, adds, lists, computes, reads settings and serial, deletes", async () => {
    const key = new OtpAppletKey({ serial: Uint8Array.of(0x0e, 0x2e) });
    slot = await insertCard(key, { port: READER.port });
    const deadline = Date.now() + 5_000;
    while (!manager.readers().some((r) => r.name === READER.name && r.cardPresent) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await manager.withCard(READER.name, async (transport) => {
      const session = await OtpAppletSession.openPcsc(transport);
      for (let n = 0; n < 5; n++) {
        await session.add({
          type: "TOTP",
          algorithm: "SHA1",
          period: 30,
          digits: 6,
          buttonRequired: false,
          app: "E2E issuer",
          account: `account-${n}@example.com`,
          seed: SEED.subarray(n),
        });
      }
      const listed = await session.list(T); // about 50 bytes a record: two pages
      expect(listed.map((e) => e.code)).toEqual([0, 1, 2, 3, 4].map((n) => totp("SHA1", SEED.subarray(n), { time: T })));
      expect((await session.code("E2E issuer", "account-2@example.com", T)).code).toBe(totp("SHA1", SEED.subarray(2), { time: T }));
      expect((await session.settings()).extension?.totp).toBe(true);
      expect((await session.serial()).hex).toBe("0E2E");
      await session.delete("E2E issuer", "account-2@example.com");
      expect(await session.list(T)).toHaveLength(4);
      expect(reasonOf(await session.code("E2E issuer", "account-2@example.com", T).catch((e: unknown) => e))).toBe("ENTRY_NOT_FOUND");
    });
  });
});
