import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import { withT0Continuations } from "../../src/transports/t0.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { EchoCard, T0Card, counterApdu, echoApdu } from "../fixtures/cards.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const bytes = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);

describe("withT0Continuations", () => {
  it("follows 61XX with GET RESPONSE 00 C0 00 00 XX and joins the chunks (docs/PROTOCOL.md §1.1)", async () => {
    const card = new T0Card(64);
    const t = withT0Continuations(new MemoryTransport(card));
    const data = bytes(200);
    const response = await t.transmit(echoApdu(data));
    expect(hex(response)).toBe(`${hex(data)}9000`);
    // ECHO, then 64 + 64 + 64 + 8 bytes of GET RESPONSE, each asking for what the card announced.
    expect(card.commands.slice(1).map(hex)).toEqual(["00c0000040", "00c0000040", "00c0000040", "00c0000008"]);
  });

  it("asks for 256 bytes when the card announces 61 00", async () => {
    const data = bytes(256);
    const seen: string[] = [];
    const card: VirtualCard = {
      atr: Uint8Array.of(0x3b, 0x00),
      transmit: (apdu) => {
        seen.push(hex(apdu));
        return apdu[1] === 0xc0 ? Uint8Array.of(...data, 0x90, 0x00) : Uint8Array.of(0x61, 0x00);
      },
    };
    const t = withT0Continuations(new MemoryTransport(card));
    expect(hex(await t.transmit(counterApdu()))).toBe(`${hex(data)}9000`);
    expect(seen).toEqual(["8020000004", "00c0000000"]);
  });

  it("resends a command with Le = XX after 6CXX", async () => {
    const card = new T0Card();
    const t = withT0Continuations(new MemoryTransport(card));
    const response = await t.transmit(counterApdu(0x00));
    expect(hex(response)).toBe("000000019000");
    expect(card.commands.map(hex)).toEqual(["8020000000", "8020000004"]);
  });

  it("adds the Le to a case 1 or case 3 command, replaces it in case 2 and case 4", async () => {
    const seen: string[] = [];
    const card: VirtualCard = {
      atr: Uint8Array.of(0x3b, 0x00),
      transmit(apdu) {
        seen.push(hex(apdu));
        return seen.length % 2 === 1 ? Uint8Array.of(0x6c, 0x09) : Uint8Array.of(0x90, 0x00);
      },
    };
    const t = withT0Continuations(new MemoryTransport(card));
    await t.transmit(Uint8Array.of(0x80, 0x01, 0, 0));
    await t.transmit(Uint8Array.of(0x80, 0x02, 0, 0, 0x10));
    await t.transmit(Uint8Array.of(0x80, 0x03, 0, 0, 0x02, 0xaa, 0xbb));
    await t.transmit(Uint8Array.of(0x80, 0x04, 0, 0, 0x02, 0xaa, 0xbb, 0x00));
    expect(seen).toEqual(["80010000", "8001000009", "8002000010", "8002000009", "8003000002aabb", "8003000002aabb09", "8004000002aabb00", "8004000002aabb09"]);
  });

  it("passes every other answer through untouched, errors included", async () => {
    const t = withT0Continuations(new MemoryTransport(new EchoCard()));
    expect(hex(await t.transmit(Uint8Array.of(0x00, 0xa4, 0x04, 0x00)))).toBe("6e00");
    expect(hex(await t.transmit(echoApdu(Uint8Array.of(0x61, 0x10))))).toBe("61109000");
    const removed = withT0Continuations(new MemoryTransport(new T0Card(16), { removeAfter: 2 }));
    const error = await removed.transmit(echoApdu(bytes(40))).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("CARD_REMOVED");
  });

  it("stops a card that never ends 61XX or repeats 6CXX, with MALFORMED_RESPONSE", async () => {
    let sent = 0;
    const endless: VirtualCard = {
      atr: Uint8Array.of(0x3b, 0x00),
      transmit: () => {
        sent++;
        return Uint8Array.of(1, 0x61, 0x01);
      },
    };
    const t = withT0Continuations(new MemoryTransport(endless));
    expect(reasonOf(await t.transmit(counterApdu()).catch((e: unknown) => e))).toBe("MALFORMED_RESPONSE");
    expect(sent).toBe(257);
    const stubborn: VirtualCard = { atr: Uint8Array.of(0x3b, 0x00), transmit: () => Uint8Array.of(0x6c, 0x04) };
    const s = withT0Continuations(new MemoryTransport(stubborn));
    await expect(s.transmit(counterApdu(0))).rejects.toThrow(/asked twice/);
  });

  it("closes the transport below it", async () => {
    const inner = new MemoryTransport(new EchoCard());
    await withT0Continuations(inner).close();
    await expect(inner.transmit(counterApdu())).rejects.toThrow(/closed/);
  });
});
