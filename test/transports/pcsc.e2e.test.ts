/**
 * The PC/SC transport through the real stack: pcsclite binding -> libpcsclite -> pcscd -> vpcd ->
 * TCP -> fixture cards (test/fixtures/cards.ts). Skipped only when pcscd or vpcd is not installed.
 */
import { execFile, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reasonOf, type OtpbridgeError } from "../../src/lib/errors.js";
import { PcscManager } from "../../src/transports/pcsc.js";
import { withT0Continuations } from "../../src/transports/t0.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { EchoCard, T0Card, counterApdu, echoApdu } from "../fixtures/cards.js";
import { REPO_ROOT, VPCD_READERS, ensurePcscd, lockPcscd, missingPcscStack } from "../fixtures/pcscd.js";
import { is, nextEvent } from "../fixtures/pcsc-events.js";

const missing = missingPcscStack();
if (missing) console.warn(`PC/SC end-to-end tests skipped: ${missing}`);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");
const run = promisify(execFile);

describe.skipIf(missing !== undefined)("PC/SC through pcscd and vpcd", () => {
  let manager: PcscManager;
  let release: () => void = () => {};
  const inserted: InsertedCard[] = [];

  /** Inserts a card into a vpcd reader and waits until pcscd reports it. */
  async function insert(card: EchoCard, reader: { name: string; port: number }): Promise<InsertedCard> {
    const seen = nextEvent(manager, is("card-inserted", reader.name));
    const slot = await insertCard(card, { port: reader.port });
    inserted.push(slot);
    await seen;
    return slot;
  }

  async function remove(slot: InsertedCard, reader: string): Promise<void> {
    const gone = nextEvent(manager, is("card-removed", reader));
    await slot.remove();
    await gone;
  }

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
    manager = await PcscManager.start();
    const names = VPCD_READERS.map((r) => r.name);
    const deadline = Date.now() + 5_000;
    while (!names.every((name) => manager.readers().some((r) => r.name === name)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  afterAll(async () => {
    await Promise.all(inserted.map((slot) => slot.remove()));
    await manager?.close();
    release();
  });

  it("lists the 14 vpcd readers, none in use, and is ready", () => {
    expect(manager.status).toEqual({ state: "ready" });
    const names = manager.readers().map((r) => r.name);
    for (const { name } of VPCD_READERS) expect(names).toContain(name);
    expect(manager.readers().every((r) => !r.inUse)).toBe(true);
  });

  it("reports a card inserted and removed as events within 1 s", async () => {
    const reader = VPCD_READERS[2]!;
    const card = new EchoCard();
    const t0 = performance.now();
    const seen = nextEvent(manager, is("card-inserted", reader.name));
    const slot = await insertCard(card, { port: reader.port });
    inserted.push(slot);
    const { event, at } = await seen;
    expect(at - t0).toBeLessThan(1_000);
    expect(event.type === "card-inserted" && hex(event.atr)).toBe(hex(card.atr));
    expect(manager.readers().find((r) => r.name === reader.name)).toMatchObject({ cardPresent: true, inUse: false });

    const t1 = performance.now();
    const gone = nextEvent(manager, is("card-removed", reader.name));
    await slot.remove();
    expect((await gone).at - t1).toBeLessThan(1_000);
    expect(manager.readers().find((r) => r.name === reader.name)?.cardPresent).toBe(false);
  });

  it("round-trips APDUs through pcscd, and the card sees exactly what was sent", async () => {
    const reader = VPCD_READERS[3]!;
    const card = new EchoCard();
    const slot = await insert(card, reader);
    const data = Uint8Array.from({ length: 255 }, (_, i) => i);
    const before = card.commands.length;
    const answers = await manager.withCard(reader.name, async (t) => [
      await t.transmit(echoApdu(Uint8Array.of(0xca, 0xfe))),
      await t.transmit(echoApdu(data)),
      await t.transmit(counterApdu()),
    ]);
    expect(answers.map(hex)).toEqual(["cafe9000", `${hex(data)}9000`, `${hex(Uint8Array.of(0, 0, 0, card.commands.length))}9000`]);
    expect(card.commands.slice(before).map(hex)).toEqual([hex(echoApdu(Uint8Array.of(0xca, 0xfe))), hex(echoApdu(data)), "8020000004"]);
    expect(card.powerEvents).toContain("on");
    await remove(slot, reader.name);
  });

  it("passes 61XX/6CXX up unchanged, and the T=0 processor completes them through pcscd", async () => {
    const reader = VPCD_READERS[4]!;
    const card = new T0Card(64);
    const slot = await insert(card, reader);
    const data = Uint8Array.from({ length: 150 }, (_, i) => 255 - i);
    await manager.withCard(reader.name, async (raw) => {
      expect(hex(await raw.transmit(echoApdu(data)))).toBe("6140");
      const t = withT0Continuations(raw);
      expect(hex(await t.transmit(echoApdu(data)))).toBe(`${hex(data)}9000`);
      expect(hex(await t.transmit(counterApdu(0)))).toMatch(/^[0-9a-f]{8}9000$/);
    });
    expect(card.commands.slice(-6).map(hex)).toEqual([hex(echoApdu(data)), "00c0000040", "00c0000040", "00c0000016", "8020000000", "8020000004"]);
    await remove(slot, reader.name);
  });

  it("holds the card exclusively: another PC/SC client and another session are refused until it ends", async () => {
    const reader = VPCD_READERS[5]!;
    const card = new EchoCard();
    const slot = await insert(card, reader);
    const client = async (): Promise<{ stage: string; error?: string; response?: string }> => {
      const { stdout } = await run(process.execPath, ["test/transports/helpers/second-client.cjs", reader.name], { cwd: REPO_ROOT });
      return JSON.parse(stdout.trim());
    };
    await manager.withCard(reader.name, async (t) => {
      const sentBefore = card.commands.length;
      const other = await client();
      expect(other).toEqual({ stage: "connect", error: expect.stringMatching(/Sharing violation.*0x8010000b/i) });
      expect(card.commands.length).toBe(sentBefore);
      expect(reasonOf(await manager.connect(reader.name).catch((e: unknown) => e))).toBe("DEVICE_BUSY");
      expect(manager.readers().find((r) => r.name === reader.name)?.inUse).toBe(true);
      expect(hex(await t.transmit(echoApdu(Uint8Array.of(1))))).toBe("019000");
    });
    // The same client succeeds once the session has ended: it was refused for the session only.
    expect(await client()).toMatchObject({ stage: "transmit", response: expect.stringMatching(/9000$/) });
    await remove(slot, reader.name);
  });

  it("is refused with DEVICE_BUSY while another PC/SC client holds the card", async () => {
    const reader = VPCD_READERS[5]!;
    const slot = await insert(new EchoCard(), reader);
    const holder = spawn(process.execPath, ["test/transports/helpers/second-client.cjs", reader.name, "hold"], {
      cwd: REPO_ROOT,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const lines = createInterface({ input: holder.stdout })[Symbol.asyncIterator]();
    expect(JSON.parse((await lines.next()).value)).toEqual({ stage: "held" });
    const error = await manager.connect(reader.name).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("DEVICE_BUSY");
    expect((error as OtpbridgeError).detail).toMatchObject({ reader: reader.name, pcscCode: "0x8010000b" });
    expect(manager.readers().find((r) => r.name === reader.name)?.inUse).toBe(false);
    holder.stdin.end();
    expect(JSON.parse((await lines.next()).value)).toEqual({ stage: "released" });
    const answer = await manager.withCard(reader.name, (t) => t.transmit(counterApdu()));
    expect(hex(answer).endsWith("9000")).toBe(true);
    await remove(slot, reader.name);
  });

  it("fails a session whose card is pulled out with CARD_REMOVED, without hanging", async () => {
    const reader = VPCD_READERS[6]!;
    const card = new EchoCard();
    const slot = await insert(card, reader);
    const t = await manager.connect(reader.name);
    expect(hex(await t.transmit(counterApdu())).endsWith("9000")).toBe(true);
    await slot.remove();
    const t0 = performance.now();
    const error = await t.transmit(counterApdu()).catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("CARD_REMOVED");
    expect(performance.now() - t0).toBeLessThan(2_000);
    await t.close();
    expect(reasonOf(await manager.connect(reader.name).catch((e: unknown) => e))).toBe("CARD_REMOVED");
    expect(reasonOf(await manager.connect("No Such Reader 00 00").catch((e: unknown) => e))).toBe("READER_GONE");
    // The reader is usable again once a card is back.
    const back = await insert(card, reader);
    const answer = await manager.withCard(reader.name, (s) => s.transmit(counterApdu()));
    expect(hex(answer).endsWith("9000")).toBe(true);
    await remove(back, reader.name);
  });

  it("runs sessions on several readers in parallel, each card getting only its own APDUs", async () => {
    const readers = [VPCD_READERS[2]!, VPCD_READERS[3]!, VPCD_READERS[7]!];
    const cards = readers.map(() => new EchoCard());
    const slots = await Promise.all(readers.map((reader, i) => insert(cards[i]!, reader)));
    const rounds = 100;
    const t0 = performance.now();
    await Promise.all(
      readers.map((reader, i) =>
        manager.withCard(reader.name, async (t) => {
          for (let n = 0; n < rounds; n++) {
            expect(hex(await t.transmit(echoApdu(Uint8Array.of(i, n))))).toBe(`${hex(Uint8Array.of(i, n))}9000`);
          }
        }),
      ),
    );
    const elapsed = performance.now() - t0;
    cards.forEach((card, i) => {
      const echoes = card.commands.filter((c) => c[1] === 0x10);
      expect(echoes).toHaveLength(rounds);
      expect(echoes.every((c) => c[5] === i)).toBe(true);
    });
    console.info(`${readers.length} readers x ${rounds} APDUs in parallel: ${elapsed.toFixed(0)} ms`);
    await Promise.all(slots.map((slot, i) => remove(slot, readers[i]!.name)));
  });
});
