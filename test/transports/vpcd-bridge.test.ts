/**
 * The vpcd wire protocol of the card bridge, against a TCP server playing vpcd's side, so that
 * frame boundaries can be placed where vpcd would never put them on loopback (a length prefix split
 * across segments, several frames in one). The bridge with the real vpcd is in pcsc.e2e.test.ts.
 */
import { createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { insertCard } from "../../src/transports/vpcd-bridge.js";
import { EchoCard, counterApdu, echoApdu } from "../fixtures/cards.js";

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const frame = (payload: Uint8Array): Buffer => Buffer.concat([Buffer.from([payload.length >> 8, payload.length & 0xff]), payload]);

let server: Server | undefined;
afterEach(() => server?.close());

/** Listens like vpcd; resolves with the port and the first connection. */
async function fakeVpcd(): Promise<{ port: number; peer: Promise<Socket> }> {
  let accept!: (socket: Socket) => void;
  const peer = new Promise<Socket>((resolve) => (accept = resolve));
  server = createServer((socket) => accept(socket));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as AddressInfo).port, peer };
}

/** Reads `count` framed replies. */
function replies(socket: Socket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    let pending = Buffer.alloc(0);
    const out: string[] = [];
    const onData = (chunk: Buffer): void => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
        out.push(pending.subarray(2, 2 + pending.readUInt16BE(0)).toString("hex"));
        pending = pending.subarray(2 + pending.readUInt16BE(0));
      }
      if (out.length >= count) {
        socket.off("data", onData);
        resolve(out);
      }
    };
    socket.on("data", onData);
  });
}

describe("vpcd card bridge", () => {
  it("answers control messages and APDUs however the frames are cut", async () => {
    const { port, peer } = await fakeVpcd();
    const card = new EchoCard();
    const slot = await insertCard(card, { host: "127.0.0.1", port });
    const vpcd = await peer;
    const wire = Buffer.concat([
      frame(Uint8Array.of(0x01)), // power on: no reply
      frame(Uint8Array.of(0x04)), // get ATR
      frame(echoApdu(Uint8Array.of(0xab, 0xcd))),
      frame(Uint8Array.of(0x02)), // reset: no reply
      frame(counterApdu()),
      frame(Uint8Array.of(0x00)), // power off: no reply
    ]);
    const answers = replies(vpcd, 3);
    // One byte at a time: every boundary, the length prefix included, falls between segments.
    for (const byte of wire) {
      vpcd.write(Buffer.of(byte));
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(await answers).toEqual([hex(card.atr), "abcd9000", "000000019000"]);
    expect(card.powerEvents).toEqual(["on", "reset", "off"]);
    await slot.remove();
  });

  it("answers 6F00 when the card's emulator throws, as a real card answers something", async () => {
    const { port, peer } = await fakeVpcd();
    const broken: VirtualCard = {
      atr: Uint8Array.of(0x3b, 0x00),
      transmit: () => {
        throw new Error("emulator bug");
      },
    };
    const slot = await insertCard(broken, { host: "127.0.0.1", port });
    const vpcd = await peer;
    const answers = replies(vpcd, 1);
    vpcd.write(frame(counterApdu()));
    expect(await answers).toEqual(["6f00"]);
    await slot.remove();
  });

  it("resolves `gone` when vpcd drops the card, and refuses a port nobody listens on", async () => {
    const { port, peer } = await fakeVpcd();
    const slot = await insertCard(new EchoCard(), { host: "127.0.0.1", port });
    (await peer).destroy();
    await slot.gone;
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const error = await insertCard(new EchoCard(), { host: "127.0.0.1", port }).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("READER_GONE");
    expect((error as Error).message).toBe(`no vpcd reader listens on 127.0.0.1:${port}`);
    await expect(insertCard(new EchoCard(), { port: 70_000 })).rejects.toThrow(RangeError);
  });
});
