/**
 * The device manager over in-memory readers and emulated cards: family rules, identification by
 * GET INFO alone, change events, busy cards, HID listing, and recovery from cards and readers
 * going away mid-identification.
 */
import { afterEach, describe, expect, it } from "vitest";
import { DeviceManager, familyOfReader, type DeviceEvent, type DeviceInfo } from "../../src/drivers/device-manager.js";
import { MemoryReaders } from "../../src/simulation/simulation.js";
import { SingleProfileSession } from "../../src/drivers/single-profile.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import type { Token2HidDevice } from "../../src/transports/hid.js";
import { EchoCard } from "../fixtures/cards.js";
import { GET_INFO, RecordingCard, WRITE_CONFIG } from "./_cards.js";
import { OtpbridgeError } from "../../src/lib/errors.js";

const managers: DeviceManager[] = [];
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});

function start(readers: MemoryReaders, options: ConstructorParameters<typeof DeviceManager>[0] = {}): DeviceManager {
  const manager = new DeviceManager({ pcsc: readers, busyRetryMs: 30, ...options });
  managers.push(manager);
  return manager;
}

const byReader = (manager: DeviceManager, reader: string): DeviceInfo | undefined => manager.list().find((d) => d.reader === reader);

async function until(check: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe("familyOfReader", () => {
  it("takes an exact rule first, then a substring rule, then `molto` in the name, else nothing", () => {
    const rules = [
      { reader: "Virtual PCD C", family: "single-profile" },
      { reader: "Virtual PCD C 00 01", match: "exact", family: "molto2" },
    ] as const;
    expect(familyOfReader("Virtual PCD C 00 01", rules)).toEqual({ family: "molto2", source: "config" });
    expect(familyOfReader("Virtual PCD C 00 00", rules)).toEqual({ family: "single-profile", source: "config" });
    expect(familyOfReader("TOKEN2 Molto2 [CCID Interface] 00 00", rules)).toEqual({ family: "molto2", source: "reader-name" });
    expect(familyOfReader("ACS ACR122U PICC Interface 00 00", rules)).toBeNull();
  });
});

describe("DeviceManager over PC/SC", () => {
  it("lists every reader with family, model, serial and state; identifies with GET INFO only; never opens a Molto2", async () => {
    const readers = new MemoryReaders();
    for (const name of ["NFC 1", "NFC 2", "NFC 3", "TOKEN2 Molto2 00 00", "Mapped 00 00", "Empty"]) readers.addReader(name);
    const p2 = new RecordingCard(new SingleProfileToken({ serial: "86596220000007" }));
    const unknown = new RecordingCard(new SingleProfileToken({ serial: "86596230000001" }));
    const bank = new RecordingCard(new EchoCard());
    const molto = new RecordingCard(new Molto2Token());
    const mapped = new RecordingCard(new Molto2Token());
    readers.insert("NFC 1", p2);
    readers.insert("NFC 2", unknown);
    readers.insert("NFC 3", bank);
    readers.insert("TOKEN2 Molto2 00 00", molto);
    readers.insert("Mapped 00 00", mapped);
    const manager = start(readers, { families: [{ reader: "Mapped", family: "molto2" }] });
    await manager.settled(0);
    expect(manager.list()).toEqual([
      {
        id: "pcsc:NFC 1",
        link: "pcsc",
        reader: "NFC 1",
        family: "single-profile",
        familySource: "probe",
        model: "OTPC-P2-i",
        serial: "86596220000007",
        state: "ready",
      },
      {
        id: "pcsc:NFC 2",
        link: "pcsc",
        reader: "NFC 2",
        family: null,
        familySource: null,
        model: null,
        serial: "86596230000001",
        state: "unsupported",
        message: "serial matches no known programmable model",
      },
      {
        id: "pcsc:NFC 3",
        link: "pcsc",
        reader: "NFC 3",
        family: null,
        familySource: null,
        model: null,
        serial: null,
        state: "unsupported",
        message: "not a Token2 programmable token (GET INFO answered INS_NOT_SUPPORTED (6D00))",
      },
      {
        id: "pcsc:TOKEN2 Molto2 00 00",
        link: "pcsc",
        reader: "TOKEN2 Molto2 00 00",
        family: "molto2",
        familySource: "reader-name",
        model: "Molto2",
        serial: null,
        state: "ready",
      },
      {
        id: "pcsc:Mapped 00 00",
        link: "pcsc",
        reader: "Mapped 00 00",
        family: "molto2",
        familySource: "config",
        model: "Molto2",
        serial: null,
        state: "ready",
      },
      { id: "pcsc:Empty", link: "pcsc", reader: "Empty", family: null, familySource: null, model: null, serial: null, state: "no-card" },
    ]);
    expect(p2.steps).toEqual([GET_INFO]);
    expect(unknown.steps).toEqual([GET_INFO]);
    expect(bank.steps).toEqual([GET_INFO]);
    expect(molto.steps).toEqual([]);
    expect(mapped.steps).toEqual([]);
  });

  it("reads a Molto2's serial with its Info command alone when asked (devices), and nothing else", async () => {
    const readers = new MemoryReaders();
    for (const name of ["TOKEN2 Molto2 00 00", "Mapped 00 00"]) readers.addReader(name);
    const sent: string[] = [];
    const cards = ["000000000001234", "000000000005678"].map((serial) => {
      const card = new RecordingCard(new Molto2Token({ serial }));
      card.intercept = (_step, apdu) => {
        sent.push(Buffer.from(apdu).toString("hex"));
        return undefined;
      };
      return card;
    });
    readers.insert("TOKEN2 Molto2 00 00", cards[0]!);
    readers.insert("Mapped 00 00", cards[1]!);
    const manager = start(readers, { families: [{ reader: "Mapped", family: "molto2" }], readMolto2Info: true });
    await manager.settled(0);
    expect(manager.list().map((d) => [d.reader, d.family, d.familySource, d.model, d.serial, d.state])).toEqual([
      ["TOKEN2 Molto2 00 00", "molto2", "reader-name", "Molto2", "000000000001234", "ready"],
      ["Mapped 00 00", "molto2", "config", "Molto2", "000000000005678", "ready"],
    ]);
    // Info, 80 41 00 00 00 (docs/PROTOCOL.md §3.3), once per token: no SELECT, no key, nothing written.
    expect(sent).toEqual(["8041000000", "8041000000"]);
  });

  it("emits a change event for each insertion, identification, removal and unplugged reader", async () => {
    const readers = new MemoryReaders();
    const manager = start(readers);
    const events: DeviceEvent[] = [];
    manager.on((e) => events.push(e));
    readers.addReader("R");
    readers.insert("R", new SingleProfileToken({ serial: "86596120000001" }));
    await manager.settled(0);
    readers.remove("R");
    readers.removeReader("R");
    expect(events.map((e) => e.devices.map((d) => `${d.reader}:${d.state}:${d.model ?? "-"}`).join(","))).toEqual([
      "R:no-card:-",
      "R:identifying:-",
      "R:ready:OTPC-P1-i",
      "R:no-card:-",
      "",
    ]);
  });

  it("queues its users' sessions behind its own identification, so a burn right after insertion is not refused as busy", async () => {
    const readers = new MemoryReaders();
    readers.addReader("R");
    const manager = start(readers);
    const token = new SingleProfileToken({ serial: "86596320000001" });
    readers.insert("R", token);
    const info = await manager.withReader("R", async (t) => (await SingleProfileSession.open(t)).info);
    expect(info.model.name).toBe("C302-i");
  });

  it("marks a card held by another client busy, and identifies it once released", async () => {
    const readers = new MemoryReaders();
    readers.addReader("R");
    readers.insert("R", new SingleProfileToken({ serial: "86596010000001" }));
    const manager = start(readers);
    await manager.settled(0);
    let release!: () => void;
    const held = readers.withCard("R", () => new Promise<void>((resolve) => (release = resolve)));
    manager.reidentify("R");
    await until(() => byReader(manager, "R")?.state === "busy");
    expect(byReader(manager, "R")?.message).toMatch(/in use/);
    release();
    await held;
    await until(() => byReader(manager, "R")?.state === "ready");
    expect(byReader(manager, "R")?.model).toBe("miniOTP-3-i");
  });

  it("settles after one look again at a card another client held for a moment, not for one held on", async () => {
    const readers = new MemoryReaders();
    readers.addReader("R");
    readers.addReader("S");
    readers.insert("R", new SingleProfileToken({ serial: "86596010000001" }));
    readers.insert("S", new SingleProfileToken({ serial: "86596220000002" }));
    let releaseR!: () => void;
    let releaseS!: () => void;
    // Another program identifying the fresh cards: R for a moment, S until the end of the test.
    const heldR = readers.withCard("R", () => new Promise<void>((resolve) => (releaseR = resolve)));
    const heldS = readers.withCard("S", () => new Promise<void>((resolve) => (releaseS = resolve)));
    const manager = start(readers);
    setTimeout(() => releaseR(), 10);
    await manager.settled(0);
    expect(byReader(manager, "R")).toMatchObject({ state: "ready", model: "miniOTP-3-i" });
    // S was looked at again once, found still held, and is listed busy: a listing does not hang on it.
    expect(byReader(manager, "S")?.state).toBe("busy");
    releaseS();
    await Promise.all([heldR, heldS]);
    await until(() => byReader(manager, "S")?.state === "ready");
  });

  it("recovers when the card or the reader leaves during identification", async () => {
    const readers = new MemoryReaders();
    readers.addReader("R");
    readers.addReader("S");
    const manager = start(readers);
    readers.insert("R", new SingleProfileToken({ serial: "86596220000001" }));
    readers.remove("R"); // before its GET INFO ran
    readers.insert("S", new SingleProfileToken({ serial: "86596220000002" }));
    readers.removeReader("S");
    await manager.settled(0);
    expect(manager.list().map((d) => `${d.reader}:${d.state}`)).toEqual(["R:no-card"]);
    readers.insert("R", new SingleProfileToken({ serial: "86596220000003" }));
    readers.addReader("S");
    readers.insert("S", new SingleProfileToken({ serial: "86596220000004" }));
    await manager.settled(0);
    expect(manager.list().map((d) => `${d.reader}:${d.state}:${d.serial}`)).toEqual(["R:ready:86596220000003", "S:ready:86596220000004"]);
  });
});

describe("DeviceManager during a burn", () => {
  const options = { seed: new Uint8Array(20).fill(6), algorithm: "SHA1", period: 30, display: 30 } as const;

  it("reader unplugged between config and seed: READER_GONE saying the token is seedless; listed again once back", async () => {
    const readers = new MemoryReaders();
    readers.addReader("R");
    const token = new SingleProfileToken({ serial: "86596220000005" });
    const card = new RecordingCard(token);
    card.intercept = (step, apdu, inner) => {
      if (step !== WRITE_CONFIG) return undefined;
      const answer = inner.transmit(apdu);
      readers.removeReader("R");
      return answer;
    };
    readers.insert("R", card);
    const manager = start(readers);
    await manager.settled(0);
    const error = await manager.withReader("R", async (t) => (await SingleProfileSession.open(t)).burn(options)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OtpbridgeError);
    expect(error).toMatchObject({ reason: "READER_GONE", detail: { stage: "seed", seedState: "wiped" } });
    expect(token.state().seed).toHaveLength(0);
    expect(manager.list()).toEqual([]);
    card.intercept = () => undefined;
    readers.addReader("R");
    readers.insert("R", card);
    await manager.settled(0);
    const result = await manager.withReader("R", async (t) => (await SingleProfileSession.open(t)).burn(options));
    expect(token.code(result.codes.time)).toBe(result.codes.current);
  });
});

describe("DeviceManager over HID", () => {
  const key: Token2HidDevice = {
    path: "/dev/hidraw3",
    vendorId: 0x349e,
    productId: 0x0022,
    product: "TOKEN2 FIDO2 Security Key",
    serialNumber: "T2A1",
    matchedBy: "usagePage",
  };

  it("lists the FIDO keys' HID interfaces as OTP-applet devices, polled, never opened", async () => {
    let attached: Token2HidDevice[] = [key];
    const manager = start(new MemoryReaders(), { hid: { list: async () => attached, intervalMs: 10 } });
    await until(() => manager.list().length === 1);
    expect(manager.list()).toEqual([
      {
        id: "hid:/dev/hidraw3",
        link: "hid",
        path: "/dev/hidraw3",
        family: "otp-applet",
        familySource: "usb",
        model: "TOKEN2 FIDO2 Security Key",
        serial: "T2A1",
        state: "ready",
      },
    ]);
    attached = [];
    await until(() => manager.list().length === 0);
    expect(manager.status()).toEqual({ pcsc: "ready", hid: "ok" });
  });

  it("keeps PC/SC going when HID cannot be listed", async () => {
    const readers = new MemoryReaders();
    readers.addReader("R");
    const manager = start(readers, { hid: { list: async () => Promise.reject(new Error("libusb-1.0.so.0 missing")), intervalMs: 10 } });
    await until(() => manager.status().hid === "unavailable");
    expect(manager.status()).toEqual({ pcsc: "ready", hid: "unavailable", hidMessage: "libusb-1.0.so.0 missing" });
    readers.insert("R", new SingleProfileToken({ serial: "86596220000001" }));
    await manager.settled(0);
    expect(byReader(manager, "R")?.state).toBe("ready");
  });
});
