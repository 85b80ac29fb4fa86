/**
 * The Molto2 driver through the real PC/SC stack: Molto2Session -> PcscManager (pcsclite binding)
 * -> libpcsclite -> pcscd -> vpcd -> TCP -> the Molto2Token emulator as a virtual card, in the
 * reader "Virtual PCD B 00 00" (test/fixtures/reader.conf). Every Molto2 operation of issue #4.
 * Skipped only when pcscd or vpcd is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/index.js";
import { Molto2Session } from "../../src/drivers/molto2.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { reasonOf } from "../../src/lib/errors.js";
import { PcscManager } from "../../src/transports/pcsc.js";
import type { ApduTransport } from "../../src/transports/types.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { VPCD_READERS, ensurePcscd, hasQuickackRoute, lockPcscd, missingPcscStack } from "../fixtures/pcscd.js";
import { rejection } from "../fixtures/errors.js";

const missing = missingPcscStack();
if (missing) console.warn(`Molto2 PC/SC end-to-end tests skipped: ${missing}`);
const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD B 00 00")!;
const SEED = Uint8Array.from({ length: 20 }, (_, i) => 0xa0 ^ i);
const NEW_KEY = new TextEncoder().encode("e2e customer key");

describe.skipIf(missing !== undefined)("Molto2 through pcscd and vpcd", () => {
  let manager: PcscManager;
  let release: () => void = () => {};
  let slot: InsertedCard | undefined;

  /** Puts `token` into the reader, waits for pcscd to see it, runs `fn` in an exclusive session. */
  async function withToken<T>(token: Molto2Token, fn: (transport: ApduTransport) => Promise<T>): Promise<T> {
    slot = await insertCard(token, { port: READER.port });
    try {
      const deadline = Date.now() + 5_000;
      while (!manager.readers().some((r) => r.name === READER.name && r.cardPresent) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return await manager.withCard(READER.name, fn);
    } finally {
      await slot.remove();
      slot = undefined;
      // Wait until pcscd has seen the card leave, so that the next insertion is a fresh card.
      const deadline = Date.now() + 5_000;
      while (manager.readers().some((r) => r.name === READER.name && r.cardPresent) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
    if (!hasQuickackRoute()) console.warn("no quickack route for 127.0.0.2: every APDU waits ~44 ms for a delayed ACK");
    manager = await PcscManager.start();
    const deadline = Date.now() + 5_000;
    while (!manager.readers().some((r) => r.name === READER.name) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  afterAll(async () => {
    await slot?.remove();
    await manager?.close();
    release();
  });

  it("lists, writes, refuses an occupied profile, deletes, syncs, locks and unlocks", async () => {
    const token = new Molto2Token({ serial: "E2E000000000042" });
    await withToken(token, async (transport) => {
      const session = await Molto2Session.open(transport);
      expect(session.info.serial).toBe("E2E000000000042");
      let started = performance.now();
      const profiles = await session.listProfiles();
      const listMs = performance.now() - started;
      expect(profiles).toHaveLength(100);
      expect(profiles.some((p) => p.seedPresent)).toBe(false);

      started = performance.now();
      await session.writeProfile(12, { seed: SEED, title: "Entra ID", config: { algorithm: "SHA1", digits: 6, period: 30, display: 1 } });
      const writeMs = performance.now() - started;
      expect(await session.readProfile(12)).toMatchObject({ seedPresent: true, title: "Entra ID", algorithm: "SHA1", digits: 6, period: 30 });
      const now = token.rtc();
      expect(token.code(12, now)).toBe(totp("SHA1", SEED, { time: now }));

      expect(reasonOf(await rejection(session.writeProfile(12, { seed: Uint8Array.of(9, 9, 9) })))).toBe("PROFILE_OCCUPIED");
      await session.writeProfile(12, { seed: Uint8Array.of(9, 9, 9) }, { overwrite: true });
      expect(token.state().profiles[12]!.seed).toEqual(Uint8Array.of(9, 9, 9));

      await session.deleteProfile(12);
      expect(await session.readProfile(12)).toMatchObject({ seedPresent: false, title: "Entra ID" });
      expect(reasonOf(await rejection(session.deleteProfile(12)))).toBe("PROFILE_EMPTY");

      started = performance.now();
      const synced = await session.syncTime("all");
      const syncMs = performance.now() - started;
      expect(synced.profiles).toHaveLength(100);
      expect(token.state().profiles.every((p) => p.timeB === synced.time)).toBe(true);

      await session.setScreenLock(true);
      expect(token.state().screenLocked).toBe(true);
      await session.setScreenLock(false);
      expect(token.state().screenLocked).toBe(false);
      console.log(
        `Molto2 via pcscd+vpcd: list 100 profiles ${listMs.toFixed(0)} ms, write seed+title+config ${writeMs.toFixed(1)} ms, sync 100 profiles ${syncMs.toFixed(0)} ms`,
      );
    });
  });

  it("stops at a wrong key with the tries left, changes the key with ▲, and factory-resets", async () => {
    const token = new Molto2Token({ profiles: 50 });
    await withToken(token, async (transport) => {
      const wrong = await Molto2Session.open(transport, { customerKey: NEW_KEY });
      expect(await wrong.profileCount()).toBe(50);
      const refused = await rejection(wrong.writeProfile(0, { seed: SEED }));
      expect(reasonOf(refused)).toBe("WRONG_CUSTOMER_KEY");
      expect(refused.detail).toEqual({ triesLeft: 9 });
      expect(token.state().triesLeft).toBe(9);

      const owner = await Molto2Session.open(transport);
      await owner.writeProfile(49, { seed: SEED, title: "last" });
      const prompts: string[] = [];
      await owner.changeCustomerKey(NEW_KEY, {
        onButton: async ({ message }) => {
          prompts.push(message);
          await new Promise((resolve) => setTimeout(resolve, 50)); // the user reads and presses
          token.pressButton();
        },
      });
      expect(prompts).toEqual(["press ▲ on the token"]);
      const renewed = await Molto2Session.open(transport, { customerKey: NEW_KEY });
      await renewed.syncTime({ profile: 49 });
      expect(reasonOf(await rejection((await Molto2Session.open(transport)).syncTime({ profile: 49 })))).toBe("WRONG_CUSTOMER_KEY");

      await renewed.factoryReset({ onButton: async () => void token.pressButton() });
      expect((await renewed.listProfiles()).some((p) => p.seedPresent || p.title !== "")).toBe(false);
      await (await Molto2Session.open(transport)).setScreenLock(true); // the factory key works again
      expect(token.state().screenLocked).toBe(true);
    });
  });
});
