/**
 * The official Molto2 tools' command sequences, played against the Molto2Token emulator through the
 * real PC/SC stack (the pcsclite binding -> libpcsclite -> pcscd -> vpcd -> the emulator), with the
 * connection handling each tool has (docs/PROTOCOL.md §3.16, "What ends a pending ▲ action"):
 *   - token2/molto2-tools molto2.py: pyscard connects SHARED and its disconnect unpowers the card
 *     (SCARD_UNPOWER_CARD, pyscard's default disposition), so the tool has exited and the card is
 *     off before the user presses ▲;
 *   - gui.py / gui-single.py: the same, plus a poll every 2 s that connects and reads the info;
 *   - token2/keyroost keyroostctl: the pcsc crate releases the card with SCARD_RESET_CARD.
 * The sequences are written from the tools' documented flows with our own codecs (src/protocol).
 * Skipped only when pcscd or vpcd is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import {
  molto2ChallengeApdu,
  molto2ChangeKeyApdu,
  molto2FactoryResetApdu,
  molto2InfoApdu,
  molto2Key,
  molto2SyncTimeApdu,
  molto2WriteSeedApdu,
  molto2WriteTitleApdu,
  parsePublicRead,
  publicReadApdu,
  MOLTO2_DEFAULT_CUSTOMER_KEY,
} from "../../src/protocol/molto2.js";
import { parseTokenInfo } from "../../src/protocol/token-info.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import { VPCD_READERS, missingPcscStack } from "../fixtures/pcscd.js";
import { OfficialHost, until, type Release, type Send } from "./_official-host.js";

const missing = missingPcscStack();
if (missing) console.warn(`Molto2 official-flow tests skipped: ${missing}`);
const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD B 00 01")!;
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const OWNER_KEY = ascii("owner key 2026");
const NEW_KEY = ascii("rotated key 2027");
const SEED = Uint8Array.from({ length: 20 }, (_, i) => 0x30 + i);

describe.skipIf(missing !== undefined)("the official Molto2 tools' flows through pcscd and vpcd", () => {
  let host: OfficialHost | undefined;

  const run = (how: Release, commands: (send: Send) => Promise<void>): Promise<void> => host!.run(how, commands);

  /** molto2.py's authenticate(): challenge, answer; the SW says success or 63 NN. */
  async function authenticate(send: Send, customerKey: Uint8Array): Promise<number> {
    const challenge = await send(molto2ChallengeApdu());
    expect(challenge.sw).toBe(0x9000);
    return (await send(authFinishApdu(molto2Key(customerKey), challenge.data))).sw;
  }

  /** gui.py's and gui-single.py's 2-second poll: connect, read the info, let the connection go. */
  const guiPoll = (): Promise<void> =>
    run("unpower", async (send) => {
      expect((await send(molto2InfoApdu())).sw).toBe(0x9000);
    });

  beforeAll(async () => {
    host = await OfficialHost.open(READER);
  }, 150_000); // OfficialHost.open waits up to 120 s for the machine-wide PC/SC lock

  afterAll(() => host?.close());

  it("molto2.py --factoryreset: 9060, exit, the card unpowered; ▲ later wipes the profiles and restores the factory key", async () => {
    const token = new Molto2Token({ customerKey: OWNER_KEY });
    await host!.withCard(token, async (events) => {
      // An earlier run: --keyascii … --profile 7 --seedbase32 … --title …
      await run("unpower", async (send) => {
        expect(parseTokenInfo((await send(molto2InfoApdu())).data).serial).toBe("000000000000001");
        expect(await authenticate(send, OWNER_KEY)).toBe(0x9000);
        expect(parsePublicRead((await send(publicReadApdu(7))).data).seedPresent).toBe(false);
        expect((await send(molto2WriteSeedApdu(molto2Key(OWNER_KEY), 7, SEED))).sw).toBe(0x9000);
        expect((await send(molto2WriteTitleApdu(molto2Key(OWNER_KEY), 7, "VPN"))).sw).toBe(0x9000);
      });

      events.length = 0;
      await run("unpower", async (send) => {
        expect((await send(molto2FactoryResetApdu())).sw).toBe(0x9060);
      });
      await until(() => events.includes("off"), "pcscd to power the card off");
      expect(token.state().pending).toBe("reset");

      expect(token.pressButton()).toBe("reset");
      await run("unpower", async (send) => {
        expect(parsePublicRead((await send(publicReadApdu(7))).data)).toMatchObject({ seedPresent: false, title: "" });
        expect(await authenticate(send, MOLTO2_DEFAULT_CUSTOMER_KEY)).toBe(0x9000);
      });
    });
  });

  it("molto2.py --setkeyascii from the GUI: 9060, exit; polls and a session under the old key come before ▲; then only the new key works", async () => {
    const token = new Molto2Token({ customerKey: OWNER_KEY, tries: 10 });
    await host!.withCard(token, async (events) => {
      events.length = 0;
      await run("unpower", async (send) => {
        expect((await send(molto2InfoApdu())).sw).toBe(0x9000);
        expect(await authenticate(send, OWNER_KEY)).toBe(0x9000);
        expect((await send(molto2ChangeKeyApdu(molto2Key(OWNER_KEY), NEW_KEY))).sw).toBe(0x9060);
      });
      await guiPoll();
      await guiPoll();
      await until(() => events.filter((e) => e === "off").length >= 3, "three power-offs");

      // Not pressed yet: nothing has changed, and another run under the old key does not cancel it.
      await run("unpower", async (send) => {
        expect(await authenticate(send, OWNER_KEY)).toBe(0x9000);
      });
      expect(token.state().pending).toBe("setKey");

      expect(token.pressButton()).toBe("setKey");
      await run("unpower", async (send) => {
        expect(await authenticate(send, OWNER_KEY)).toBe(0x6309);
        expect(await authenticate(send, NEW_KEY)).toBe(0x9000);
      });
    });
  });

  it("molto2.py --setkey --synctime: the sync goes out under the old key after the key change, and both take effect", async () => {
    const token = new Molto2Token({ customerKey: OWNER_KEY });
    const time = 0x6a000000;
    await host!.withCard(token, async () => {
      await run("unpower", async (send) => {
        await send(molto2InfoApdu());
        expect(await authenticate(send, OWNER_KEY)).toBe(0x9000);
        expect((await send(molto2ChangeKeyApdu(molto2Key(OWNER_KEY), NEW_KEY))).sw).toBe(0x9060);
        expect((await send(molto2SyncTimeApdu(molto2Key(OWNER_KEY), 4, time))).sw).toBe(0x9000);
      });
      expect(token.pressButton()).toBe("setKey");
      await run("unpower", async (send) => {
        expect(await authenticate(send, NEW_KEY)).toBe(0x9000);
        expect(parsePublicRead((await send(publicReadApdu(4))).data).timeB).toBe(time);
      });
    });
  });

  it("keyroostctl molto reset --yes: info, 9060, the card released with a reset; ▲ later wipes the token", async () => {
    const token = new Molto2Token({ customerKey: OWNER_KEY });
    await host!.withCard(token, async (events) => {
      await run("reset", async (send) => {
        expect(await authenticate(send, OWNER_KEY)).toBe(0x9000);
        expect((await send(molto2WriteSeedApdu(molto2Key(OWNER_KEY), 0, SEED))).sw).toBe(0x9000);
      });
      events.length = 0;
      await run("reset", async (send) => {
        expect((await send(molto2InfoApdu())).sw).toBe(0x9000);
        expect((await send(molto2FactoryResetApdu())).sw).toBe(0x9060);
      });
      await until(() => events.length > 0, "pcscd to reset the card");
      expect(token.pressButton()).toBe("reset");
      expect(token.state().profiles[0]!.seed.length).toBe(0);
      await run("reset", async (send) => {
        expect(await authenticate(send, MOLTO2_DEFAULT_CUSTOMER_KEY)).toBe(0x9000);
      });
    });
  });
});
