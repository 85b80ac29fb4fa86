import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import { EchoCard, counterApdu, echoApdu } from "../fixtures/cards.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

describe("MemoryTransport", () => {
  it("passes APDUs to the card and returns its full answer, data and status word", async () => {
    const card = new EchoCard();
    const transport = new MemoryTransport(card);
    expect(hex(await transport.transmit(echoApdu(Uint8Array.of(1, 2, 3))))).toBe("0102039000");
    expect(hex(await transport.transmit(counterApdu()))).toBe("000000029000");
    expect(hex(await transport.transmit(Uint8Array.of(0x80, 0x99, 0, 0)))).toBe("6d00");
    expect(transport.sent).toBe(3);
    expect(card.commands.map(hex)).toEqual(["801000000301020300", "8020000004", "80990000"]);
  });

  it("copies both ways, so neither side can change the other's buffer afterwards", async () => {
    const card = new EchoCard();
    const transport = new MemoryTransport(card);
    const apdu = echoApdu(Uint8Array.of(7));
    const response = await transport.transmit(apdu);
    apdu.fill(0);
    expect(hex(card.commands[0]!)).toBe("80100000010700");
    response.fill(0);
    expect(hex(await transport.transmit(echoApdu(Uint8Array.of(7))))).toBe("079000");
  });

  it("injects a removal: the card answers N APDUs, then every transmit fails with CARD_REMOVED", async () => {
    const card = new EchoCard();
    const transport = new MemoryTransport(card, { removeAfter: 2 });
    await transport.transmit(counterApdu());
    await transport.transmit(counterApdu());
    for (let i = 0; i < 2; i++) {
      const error = await transport.transmit(counterApdu()).catch((e: unknown) => e);
      expect(reasonOf(error)).toBe("CARD_REMOVED");
    }
    expect(card.commands).toHaveLength(2);
  });

  it("refuses use after close and bad input at the boundary", async () => {
    const transport = new MemoryTransport(new EchoCard());
    await expect(transport.transmit(Uint8Array.of(0x80, 0x10))).rejects.toThrow(/apdu must be at least 4 bytes, got 2/);
    await transport.close();
    await transport.close();
    await expect(transport.transmit(counterApdu())).rejects.toThrow(/closed/);
    expect(() => new MemoryTransport(new EchoCard(), { removeAfter: -1 })).toThrow(RangeError);
  });
});
