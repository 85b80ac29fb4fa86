import { describe, expect, it } from "vitest";
import { hotp, totp } from "../../src/crypto/index.js";
import { OtpAppletSession } from "../../src/drivers/otp-applet.js";
import { OtpAppletHidDevice } from "../../src/emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { reasonOf } from "../../src/lib/errors.js";
import type { OtpEntryWrite } from "../../src/protocol/otp-entries.js";
import { MemoryHidTransport } from "../../src/transports/hid-memory.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { EchoCard } from "../fixtures/cards.js";
import { rejection } from "../fixtures/errors.js";

const T = 1_700_000_000;
const seedOf = (n: number, length = 20): Uint8Array => Uint8Array.from({ length }, (_, i) => (n * 31 + i) & 0xff);

function totpEntry(n: number, extra: Partial<OtpEntryWrite> = {}): OtpEntryWrite {
  return {
    type: "TOTP",
    algorithm: "SHA1",
    period: 30,
    digits: 6,
    buttonRequired: false,
    app: `Issuer number ${n}`,
    account: `user${n}@example.com`,
    seed: seedOf(n),
    ...extra,
  };
}

/** Records the P1 P2 of every OTP command (CLA 80 INS C5) and every SELECT the card gets. */
function recording(card: VirtualCard): { card: VirtualCard; log: string[] } {
  const log: string[] = [];
  const hex = (a: Uint8Array, from: number, to: number) => Buffer.from(a.subarray(from, to)).toString("hex").toUpperCase();
  return {
    log,
    card: {
      atr: card.atr,
      transmit(apdu) {
        log.push(hex(apdu, 0, 4));
        return card.transmit(apdu);
      },
    },
  };
}

type Opener = (key: OtpAppletKey) => Promise<OtpAppletSession>;
const LINKS: Array<[string, Opener]> = [
  ["PC/SC", (key) => OtpAppletSession.openPcsc(new MemoryTransport(key))],
  ["HID", async (key) => await OtpAppletSession.openHid(new MemoryHidTransport(new OtpAppletHidDevice(key)))],
];

describe.each(LINKS)("OtpAppletSession over %s (§4)", (_name, open) => {
  it("adds entries, lists them over several pages with the key's codes, computes one, deletes one", async () => {
    const key = new OtpAppletKey({ serial: Uint8Array.of(0xca, 0xfe, 0x01) });
    const session = await open(key);
    expect(await session.list(T)).toEqual([]);
    for (let n = 0; n < 6; n++) await session.add(totpEntry(n));
    await session.add(totpEntry(6, { type: "HOTP", period: 0, digits: 8, algorithm: "SHA256" }));
    await session.add(totpEntry(7, { buttonRequired: true }));
    const listed = await session.list(T);
    expect(listed).toHaveLength(8); // 8 records of about 50 bytes: more than one 200-byte page
    for (let n = 0; n < 6; n++) {
      expect(listed[n]).toMatchObject({ app: `Issuer number ${n}`, account: `user${n}@example.com`, code: totp("SHA1", seedOf(n), { time: T }) });
    }
    expect(listed[6]).toMatchObject({ type: "HOTP", algorithm: "SHA256", digits: 8, code: null });
    expect(listed[7]).toMatchObject({ buttonRequired: true, code: null });
    const one = await session.code("Issuer number 3", "user3@example.com", T + 30);
    expect(one.code).toBe(totp("SHA1", seedOf(3), { time: T + 30 }));
    expect((await session.code("Issuer number 6", "user6@example.com")).code).toBe(hotp("SHA256", seedOf(6), 0, 8));
    await session.delete("Issuer number 3", "user3@example.com");
    expect((await session.list(T)).map((e) => e.account)).not.toContain("user3@example.com");
    expect(key.state().entries).toHaveLength(7);
  });

  it("replaces an entry written again, and maps not-found and full to their reasons", async () => {
    const key = new OtpAppletKey({ maxEntries: 2 });
    const session = await open(key);
    await session.add(totpEntry(1));
    await session.add(totpEntry(1, { seed: seedOf(9), digits: 8 }));
    expect(key.state().entries).toHaveLength(1);
    expect((await session.code("Issuer number 1", "user1@example.com", T)).code).toBe(totp("SHA1", seedOf(9), { time: T, digits: 8 }));
    await session.add(totpEntry(2));
    expect(reasonOf(await rejection(session.add(totpEntry(3))))).toBe("STORAGE_FULL");
    expect(reasonOf(await rejection(session.delete("nobody", "none")))).toBe("ENTRY_NOT_FOUND");
    const missing = await rejection(session.code("nobody", "none"));
    expect(reasonOf(missing)).toBe("ENTRY_NOT_FOUND");
    expect(missing.message).toMatch(/^code of nobody\/none: the key has no such entry \(6A8[03]\)$/);
    expect(reasonOf(await rejection(session.add(totpEntry(4, { seed: new Uint8Array(0) }))))).toBe("INVALID_INPUT");
  });

  it("reads the settings block and the serial, and keeps working afterwards", async () => {
    const key = new OtpAppletKey({ serial: Uint8Array.of(0x12, 0x34, 0xab) });
    const session = await open(key);
    const settings = await session.settings();
    expect(settings.extension).toMatchObject({ totp: true, ccid: true });
    expect(settings.flags?.hotpSupported).toBe(true);
    expect(await session.serial()).toEqual({ hex: "1234AB", bytes: Uint8Array.of(0x12, 0x34, 0xab) });
    await session.add(totpEntry(1)); // over PC/SC this needs the OTP applet selected again (§4.8)
    expect(await session.list(T)).toHaveLength(1);
  });
});

describe("OtpAppletSession over PC/SC (§4.1, §4.4, §4.10)", () => {
  it("selects the OTP applet first and fetches the device key before every seal", async () => {
    const { card, log } = recording(new OtpAppletKey());
    const session = await OtpAppletSession.openPcsc(new MemoryTransport(card));
    await session.add(totpEntry(1));
    await session.add(totpEntry(2));
    await session.delete("Issuer number 1", "user1@example.com");
    expect(log).toEqual(["00A40400", "80C50100", "80C50502", "80C50100", "80C50502", "80C50100", "80C50502"]);
    for (let n = 10; n < 16; n++) await session.add(totpEntry(n));
    log.length = 0;
    expect(await session.list(T)).toHaveLength(7);
    // READ_ALL, then ENUM_CODES_CONTINUE while the more-pages bit is set (§4.5).
    expect(log[0]).toBe("80C50500");
    expect(log.slice(1).every((c) => c === "80C50501") && log.length >= 2).toBe(true);
  });

  it("accepts a SELECT answered with 61XX (some PIN+ keys), through GET RESPONSE", async () => {
    const key = new OtpAppletKey();
    const card: VirtualCard = {
      atr: key.atr,
      transmit(apdu) {
        if (apdu[1] === 0xa4) return key.transmit(apdu)[0] === 0x90 ? Uint8Array.of(0x61, 0x02) : Uint8Array.of(0x6a, 0x82);
        if (apdu[1] === 0xc0) return Uint8Array.of(0x6f, 0x00, 0x90, 0x00);
        return key.transmit(apdu);
      },
    };
    const session = await OtpAppletSession.openPcsc(new MemoryTransport(card));
    await session.add(totpEntry(5));
    expect(await session.list(T)).toHaveLength(1);
  });

  it("reports APPLET_NOT_FOUND on a card without the applet", async () => {
    const error = await rejection(OtpAppletSession.openPcsc(new MemoryTransport(new EchoCard())));
    expect(reasonOf(error)).toBe("APPLET_NOT_FOUND");
    expect(error.detail).toEqual({ sw: 0x6e00 });
  });
});
