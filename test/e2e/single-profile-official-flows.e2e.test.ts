/**
 * The official single-profile hosts' command sequences, played against the SingleProfileToken
 * emulator through pcscd and vpcd, with each host's connection handling (docs/PROTOCOL.md §2.9,
 * §2.10, Appendix C A-1):
 *   - token2/t2nfc_burner `performWrite`: one connection for info, one authentication, the config,
 *     then the seed sent as it is (no zero-extension), then the phone leaves the field;
 *   - token2/openT2OTP `firmware/test/test_main.c`: authenticates again after the config write;
 *   - token2/keyroost `keyroostctl prog config` / `prog seed`: one run each (info, its own
 *     authentication, one write), the card released with the pcsc crate's SCARD_RESET_CARD.
 * Written from those documented flows with our own codecs. Skipped only when pcscd or vpcd is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/index.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import {
  SINGLE_PROFILE_KEY,
  getChallengeApdu,
  getInfoApdu,
  parseSingleProfileInfo,
  writeConfigApdu,
  writeSeedApdu,
  type SingleProfileConfig,
} from "../../src/protocol/single-profile.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import { VPCD_READERS, missingPcscStack } from "../fixtures/pcscd.js";
import { OfficialHost, type Send } from "./_official-host.js";

const missing = missingPcscStack();
if (missing) console.warn(`single-profile official-flow tests skipped: ${missing}`);
const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD B 00 01")!;
const NOW = 1_750_000_000;
const CONFIG: SingleProfileConfig = { display: 1, time: NOW, algorithm: "SHA1", period: 30 };
const SEED = Uint8Array.from({ length: 10 }, (_, i) => 0xc0 + i);
const C302I_SERIAL = "86596320000042"; // keeps its seed across a config write (§2.1)

describe.skipIf(missing !== undefined)("the official single-profile hosts' flows through pcscd and vpcd", () => {
  let host: OfficialHost | undefined;

  /** GET CHALLENGE in the burner's form, then the answer under the public device key. */
  async function authenticate(send: Send): Promise<number> {
    const challenge = await send(getChallengeApdu());
    expect(challenge.sw).toBe(0x9000);
    return (await send(authFinishApdu(SINGLE_PROFILE_KEY, challenge.data))).sw;
  }

  /** keyroost's prog_guard_model: the info read and a known model before anything else. */
  async function guardModel(send: Send): Promise<void> {
    const info = await send(getInfoApdu());
    expect(info.sw).toBe(0x9000);
    expect(parseSingleProfileInfo(info.data).model).not.toBeNull();
  }

  beforeAll(async () => {
    host = await OfficialHost.open(READER);
  }, 150_000); // OfficialHost.open waits up to 120 s for the machine-wide PC/SC lock

  afterAll(() => host?.close());

  it("NFC Burner 3: info, one authentication, config, then the unextended seed, in one connection", async () => {
    const token = new SingleProfileToken({ clock: pinnedClock(NOW) });
    await host!.withCard(token, async () => {
      await host!.run("unpower", async (send) => {
        expect(parseSingleProfileInfo((await send(getInfoApdu())).data).model?.name).toBe("OTPC-P2-i");
        expect(await authenticate(send)).toBe(0x9000);
        expect((await send(writeConfigApdu(CONFIG))).sw).toBe(0x9000);
        expect((await send(writeSeedApdu(SEED, { zeroExtend: false }))).sw).toBe(0x9000);
      });
    });
    expect(token.state().seed).toEqual(SEED);
    expect(token.code(NOW)).toBe(totp("SHA1", SEED, { time: NOW }));
  });

  it("openT2OTP's firmware test: authenticates again after the config write, then writes the seed", async () => {
    const token = new SingleProfileToken({ clock: pinnedClock(NOW) });
    await host!.withCard(token, async () => {
      await host!.run("unpower", async (send) => {
        expect(await authenticate(send)).toBe(0x9000);
        expect((await send(writeConfigApdu({ ...CONFIG, algorithm: "SHA256", period: 60 }))).sw).toBe(0x9000);
        expect(await authenticate(send)).toBe(0x9000);
        expect((await send(writeSeedApdu(SEED))).sw).toBe(0x9000);
      });
    });
    expect(token.code(NOW)).toBe(totp("SHA256", SEED, { time: NOW, period: 60 }));
  });

  it("keyroostctl prog config, then prog seed: two runs, each authenticating, each card released with a reset", async () => {
    const token = new SingleProfileToken({ serial: C302I_SERIAL, clock: pinnedClock(NOW) });
    await host!.withCard(token, async (events) => {
      await host!.run("reset", async (send) => {
        await guardModel(send);
        expect(await authenticate(send)).toBe(0x9000);
        expect((await send(writeConfigApdu(CONFIG))).sw).toBe(0x9000);
      });
      await host!.run("reset", async (send) => {
        await guardModel(send);
        expect(await authenticate(send)).toBe(0x9000);
        expect((await send(writeSeedApdu(SEED))).sw).toBe(0x9000);
      });
      // A later `prog config` keeps the seed on a C302-i (unrestricted) …
      await host!.run("reset", async (send) => {
        await guardModel(send);
        expect(await authenticate(send)).toBe(0x9000);
        expect((await send(writeConfigApdu({ ...CONFIG, time: NOW + 60 }))).sw).toBe(0x9000);
      });
      expect(events).toContain("reset");
    });
    expect(token.code(NOW + 60)).toBe(totp("SHA1", SEED, { time: NOW + 60 }));

    // … and erases it on an OTPC-P2-i (restricted): valid on the wire, the hazard of §2.10.
    const restricted = new SingleProfileToken({ clock: pinnedClock(NOW) });
    await host!.withCard(restricted, async () => {
      for (const write of [writeSeedApdu(SEED), writeConfigApdu(CONFIG)]) {
        await host!.run("reset", async (send) => {
          await guardModel(send);
          expect(await authenticate(send)).toBe(0x9000);
          expect((await send(write)).sw).toBe(0x9000);
        });
      }
    });
    expect(restricted.code(NOW)).toBeNull();
  });

  it("no official host writes in a later connection than it authenticated in, which the emulator refuses (A-1)", async () => {
    const token = new SingleProfileToken({ clock: pinnedClock(NOW) });
    await host!.withCard(token, async () => {
      for (const release of ["unpower", "reset"] as const) {
        await host!.run(release, async (send) => {
          expect(await authenticate(send)).toBe(0x9000);
        });
        await host!.run("leave", async (send) => {
          expect((await send(writeSeedApdu(SEED))).sw).toBe(0x6983);
        });
      }
    });
    expect(token.code(NOW)).toBeNull();
  });
});
