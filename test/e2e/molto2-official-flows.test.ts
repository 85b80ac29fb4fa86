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
import { decodeResponseApdu, type ResponseApdu } from "../../src/protocol/apdu.js";
import {
  molto2ChallengeApdu, molto2ChangeKeyApdu, molto2FactoryResetApdu, molto2InfoApdu, molto2Key, molto2SyncTimeApdu,
  molto2WriteSeedApdu, molto2WriteTitleApdu, parsePublicRead, publicReadApdu, MOLTO2_DEFAULT_CUSTOMER_KEY,
} from "../../src/protocol/molto2.js";
import { parseTokenInfo } from "../../src/protocol/token-info.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { VPCD_READERS, ensurePcscd, lockPcscd, missingPcscStack } from "../fixtures/pcscd.js";

const missing = missingPcscStack();
if (missing) console.warn(`Molto2 official-flow tests skipped: ${missing}`);
const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD B 00 01")!;
const ascii = (text: string): Uint8Array => new TextEncoder().encode(text);
const OWNER_KEY = ascii("owner key 2026");
const NEW_KEY = ascii("rotated key 2027");
const SEED = Uint8Array.from({ length: 20 }, (_, i) => 0x30 + i);

/** The parts of the pcsclite binding these tests drive directly, as pyscard drives libpcsclite. */
interface RawReader {
  readonly name: string;
  readonly SCARD_SHARE_SHARED: number;
  readonly SCARD_UNPOWER_CARD: number;
  readonly SCARD_RESET_CARD: number;
  readonly SCARD_STATE_PRESENT: number;
  state?: number;
  on(event: "status", listener: (status: { state: number }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  connect(options: { share_mode: number }, cb: (error: Error | null | undefined, protocol: number) => void): void;
  transmit(data: Buffer, maxLength: number, protocol: number, cb: (error: Error | null | undefined, response: Buffer) => void): void;
  disconnect(disposition: number, cb: (error: Error | null | undefined) => void): void;
  close(): void;
}
interface RawContext {
  readonly readers: Record<string, RawReader>;
  on(event: "reader", listener: (reader: RawReader) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  close(): void;
}

type Send = (apdu: Uint8Array) => Promise<ResponseApdu>;
type Release = "unpower" | "reset";

/** The token as a vpcd card, with the power events pcscd gives it. */
function watched(token: Molto2Token): { card: VirtualCard; events: string[] } {
  const events: string[] = [];
  const card: VirtualCard = {
    atr: token.atr,
    transmit: (apdu) => token.transmit(apdu),
    powerOn: () => void (events.push("on"), token.powerOn()),
    powerOff: () => void (events.push("off"), token.powerOff()),
    reset: () => void (events.push("reset"), token.reset()),
  };
  return { card, events };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.skipIf(missing !== undefined)("the official Molto2 tools' flows through pcscd and vpcd", () => {
  let context: RawContext;
  let reader: RawReader;
  let release: () => void = () => {};
  let slot: InsertedCard | undefined;

  const present = (): boolean => ((reader.state ?? 0) & reader.SCARD_STATE_PRESENT) !== 0;

  /** One tool run: connect SHARED, the tool's commands, then release the card the tool's way. */
  async function run(disposition: Release, commands: (send: Send) => Promise<void>): Promise<void> {
    const protocol = await new Promise<number>((resolve, reject) =>
      reader.connect({ share_mode: reader.SCARD_SHARE_SHARED }, (error, p) => (error ? reject(error) : resolve(p))),
    );
    const send: Send = (apdu) =>
      new Promise((resolve, reject) =>
        reader.transmit(Buffer.from(apdu), 258, protocol, (error, response) =>
          error ? reject(error) : resolve(decodeResponseApdu(Uint8Array.from(response))),
        ),
      );
    try {
      await commands(send);
    } finally {
      const how = disposition === "unpower" ? reader.SCARD_UNPOWER_CARD : reader.SCARD_RESET_CARD;
      await new Promise<void>((resolve) => reader.disconnect(how, () => resolve()));
    }
  }

  /** molto2.py's authenticate(): challenge, answer, and 63 NN reported as the tries left. */
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

  async function withToken(token: Molto2Token, fn: (events: string[]) => Promise<void>): Promise<void> {
    const { card, events } = watched(token);
    slot = await insertCard(card, { port: READER.port });
    try {
      await until(present, "pcscd to see the card");
      await fn(events);
    } finally {
      await slot.remove();
      slot = undefined;
      await until(() => !present(), "pcscd to see the card leave");
    }
  }

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
    const factory = (await import("pcsclite")).default as unknown as () => RawContext;
    context = factory();
    context.on("error", () => {}); // "Command cancelled" on close
    reader = await new Promise<RawReader>((resolve) =>
      context.on("reader", (r) => {
        r.on("error", () => {});
        r.on("status", (status) => void (r.state = status.state));
        if (r.name === READER.name) resolve(r);
      }),
    );
  }, 150_000); // lockPcscd waits up to 120 s for the machine-wide lock

  afterAll(async () => {
    await slot?.remove();
    if (context !== undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      for (const r of Object.values(context.readers)) r.close();
      context.close();
    }
    release();
  });

  it("molto2.py --factoryreset: 9060, exit, the card unpowered; ▲ later wipes the profiles and restores the factory key", async () => {
    const token = new Molto2Token({ customerKey: OWNER_KEY });
    await withToken(token, async (events) => {
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
    await withToken(token, async (events) => {
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
    await withToken(token, async () => {
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
    await withToken(token, async (events) => {
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
