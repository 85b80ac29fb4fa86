/**
 * Fuzz: 100,000 random and mutated APDUs into OtpAppletKey (PC/SC and HID paths), and random and
 * mutated reports into OtpAppletHidDevice (seeded, reproducible). Nothing may throw; every answer
 * ends in a status word §4.11 lists, or 6D00/6E00 for unknown INS/CLA (§3.16's "not supported").
 */
import { describe, expect, it } from "vitest";
import { OtpAppletHidDevice } from "../../src/emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { fragmentMessage, HID_MAGIC } from "../../src/protocol/hid-frame.js";
import {
  continueApdu,
  eraseAllApdu,
  FIDO_AID,
  getEcdhPubkeyApdu,
  IV_HOTP_SEED,
  IV_WRITE_SEED,
  optionApdu,
  OTP_AID,
  OTP_CMD,
  readAllApdu,
  readConfigApdu,
  readOneApdu,
  readSerialApdu,
  sealedWriteApdu,
  selectApdu,
  setDeviceTypeApdu,
} from "../../src/protocol/otp-applet.js";
import { encodeEntryDelete, encodeEntryWrite, encodeHotpSlot } from "../../src/protocol/otp-entries.js";
import { seal } from "../../src/protocol/otp-seal.js";
import { prng } from "../fixtures/prng.js";
import { mutate, randomApdu } from "./_fuzz.js";

const ALLOWED = new Set([0x9000, 0x6700, 0x6a80, 0x6a81, 0x6a83, 0x6a84, 0x6a86, 0x6ff9, 0x6d00, 0x6e00]);

function corpusFor(key: OtpAppletKey): Uint8Array[] {
  const pub = key.publicKey;
  const entry = (i: number) =>
    ({
      type: i % 2 === 0 ? "TOTP" : "HOTP",
      algorithm: "SHA1",
      period: i % 2 === 0 ? 30 : 0,
      digits: 6,
      buttonRequired: i % 3 === 0,
      app: `app${i}`,
      account: `acct${i}`,
      seed: new Uint8Array(1 + i * 9).fill(i),
    }) as const;
  return [
    selectApdu(OTP_AID),
    selectApdu(FIDO_AID),
    getEcdhPubkeyApdu(),
    readConfigApdu(),
    setDeviceTypeApdu(2),
    optionApdu(OTP_CMD.ENABLE_TOTP, 1),
    optionApdu(OTP_CMD.CFG_HOTP_TOUCH, 0),
    readAllApdu(1_700_000_000),
    continueApdu(1_700_000_000),
    readOneApdu(1_700_000_000, "app0", "acct0"),
    readOneApdu(0, "app1", "acct1"),
    eraseAllApdu(),
    readSerialApdu(),
    ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => sealedWriteApdu("entry", seal(pub, encodeEntryWrite(entry(i)), IV_WRITE_SEED))),
    sealedWriteApdu("entry", seal(pub, encodeEntryDelete("app1", "acct1"), IV_WRITE_SEED)),
    sealedWriteApdu("hotp", seal(pub, encodeHotpSlot({ digits: 6, seed: new Uint8Array(20).fill(1) }), IV_HOTP_SEED)),
    sealedWriteApdu("hotp", seal(pub, encodeHotpSlot(null), IV_HOTP_SEED)),
  ];
}

describe("fuzzing the OTP-applet emulator", () => {
  it("OtpAppletKey: 100,000 APDUs over PC/SC and HID paths, no throw, only listed status words", () => {
    const key = new OtpAppletKey({ maxEntries: 6, serial: Uint8Array.of(1, 2, 3) });
    const corpus = corpusFor(key);
    const r = prng(0x5eed03);
    const seen = new Map<number, number>();
    for (let i = 0; i < 100_000; i++) {
      const roll = r.int(100);
      if (roll < 2) key.touch();
      if (roll === 2) key.powerOff();
      const apdu = roll < 35 ? randomApdu(r, [0x00, 0x80], [0xa4, 0xc5, 0x33]) : roll < 60 ? r.pick(corpus) : mutate(r, r.pick(corpus));
      let response: Uint8Array;
      try {
        response = r.chance(0.5) ? key.transmit(apdu) : key.transmitHid(apdu);
      } catch (error) {
        throw new Error(`input ${i} (${Buffer.from(apdu).toString("hex")}) threw: ${String(error)}`);
      }
      const sw = (response[response.length - 2]! << 8) | response[response.length - 1]!;
      if (!ALLOWED.has(sw)) throw new Error(`input ${i} (${Buffer.from(apdu).toString("hex")}): SW ${sw.toString(16)}`);
      seen.set(sw, (seen.get(sw) ?? 0) + 1);
    }
    for (const sw of ALLOWED) expect(seen.get(sw) ?? 0, `SW ${sw.toString(16)} never reached`).toBeGreaterThan(0);
  });

  it("OtpAppletHidDevice: 30,000 random and mutated reports, no throw, only well-formed frames out", () => {
    let now = 0;
    const key = new OtpAppletKey();
    const device = new OtpAppletHidDevice(key, { clock: () => now });
    const reports = corpusFor(key).flatMap((apdu) => fragmentMessage(apdu));
    const r = prng(0x5eed04);
    for (let i = 0; i < 30_000; i++) {
      now += r.int(3);
      if (r.chance(0.02)) key.touch();
      const report = r.chance(0.2) ? r.bytes(r.pick([64, 65, r.int(80)])) : r.chance(0.5) ? r.pick(reports) : mutate(r, r.pick(reports));
      const out = r.chance(0.1) ? device.poll() : device.handleReport(report);
      for (const frame of out) {
        expect(frame.length).toBe(64);
        expect(frame[0]).toBe(HID_MAGIC);
        expect([0x00, 0x20, 0xc0]).toContain(frame[1]! & 0xf0);
      }
    }
  });
});
