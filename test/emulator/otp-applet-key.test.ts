import { describe, expect, it } from "vitest";
import { hotp, totp } from "../../src/crypto/index.js";
import { prng } from "../fixtures/prng.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { encodeCommandApdu } from "../../src/protocol/apdu.js";
import {
  continueApdu,
  DISABLE_CCID,
  eraseAllApdu,
  FIDO_AID,
  getEcdhPubkeyApdu,
  optionApdu,
  OTP_AID,
  OTP_CMD,
  parseDeviceConfig,
  parseSerialResponse,
  readAllApdu,
  readConfigApdu,
  readOneApdu,
  readSerialApdu,
  selectApdu,
  setDeviceTypeApdu,
} from "../../src/protocol/otp-applet.js";
import { parseEntryPage, parseEntryRecord, type OtpEntryRecord, type OtpEntryWrite } from "../../src/protocol/otp-entries.js";
import { hex, toHex } from "../protocol/_vectors.js";
import { call, deleteEntry, writeEntry, writeHotpSlot, type Send } from "./_otp-host.js";

function selected(options: ConstructorParameters<typeof OtpAppletKey>[0] = {}): { key: OtpAppletKey; send: Send } {
  const key = new OtpAppletKey({ rng: prng(9).bytes, ...options });
  const send: Send = (apdu) => key.transmit(apdu);
  expect(call(send, selectApdu(OTP_AID)).sw).toBe(0x9000);
  return { key, send };
}

function entry(i: number, overrides: Partial<OtpEntryWrite> = {}): OtpEntryWrite {
  return {
    type: "TOTP",
    algorithm: i % 2 === 0 ? "SHA1" : "SHA256",
    period: i % 3 === 0 ? 60 : 30,
    digits: 6 + (i % 3) * 2,
    buttonRequired: false,
    app: `Issuer ${i}`,
    account: `user${i}@example.com`,
    seed: prng(100 + i).bytes(1 + ((i * 7) % 64)),
    ...overrides,
  };
}

/** READ_ALL plus every continuation page. */
function readAll(send: Send, time: number): { records: OtpEntryRecord[]; pages: number; sw: number } {
  let r = call(send, readAllApdu(time));
  if (r.sw !== 0x9000) return { records: [], pages: 0, sw: r.sw };
  const records: OtpEntryRecord[] = [];
  let pages = 0;
  for (;;) {
    pages++;
    const page = parseEntryPage(r.data);
    records.push(...page.records);
    if (!page.morePages) return { records, pages, sw: r.sw };
    r = call(send, continueApdu(time));
    expect(r.sw).toBe(0x9000);
  }
}

describe("OtpAppletKey over PC/SC (§4.10)", () => {
  it("needs the OTP applet selected; GET_ECDH_PUBKEY needs its Le", () => {
    const key = new OtpAppletKey();
    const send: Send = (a) => key.transmit(a);
    expect(call(send, getEcdhPubkeyApdu()).sw).toBe(0x6a86);
    expect(call(send, selectApdu(OTP_AID)).sw).toBe(0x9000);
    expect(toHex(call(send, getEcdhPubkeyApdu()).data)).toBe(toHex(key.publicKey));
    expect(call(send, hex("80C50100")).data.length).toBe(0);
    expect(call(send, selectApdu(hex("A000000527210101"))).sw).toBe(0x6a81);
    key.powerOff();
    expect(call(send, getEcdhPubkeyApdu()).sw).toBe(0x6a86);
  });

  it("writes entries with seeds of 1..64 bytes; READ_ALL pages them with codes equal to totp() at the host's time", () => {
    const { key, send } = selected();
    const written = Array.from({ length: 12 }, (_, i) => entry(i));
    for (const e of written) expect(writeEntry(send, e)).toBe(0x9000);
    const time = 1_700_000_123;
    const { records, pages } = readAll(send, time);
    expect(pages).toBeGreaterThan(1);
    expect(records).toHaveLength(written.length);
    for (const [i, e] of written.entries()) {
      const { seed, ...params } = e;
      expect(records[i]).toEqual({ ...params, code: totp(e.algorithm, seed, { time, period: e.period, digits: e.digits }) });
    }
    expect(key.state().entries.map((e) => e.seed.length)).toEqual(written.map((e) => e.seed.length));
    expect(call(send, continueApdu(time)).sw).toBe(0x6a80);
  });

  it("READ_ONE always returns the code; HOTP counts per entry; a button entry waits for a touch", () => {
    const { key, send } = selected();
    const h = entry(1, { type: "HOTP", period: 0, app: "", account: "hotp" });
    const b = entry(2, { buttonRequired: true, account: "button" });
    writeEntry(send, h);
    writeEntry(send, b);
    for (const counter of [0, 1, 2]) {
      const r = call(send, readOneApdu(5, "", "hotp"));
      expect(parseEntryRecord(r.data).code).toBe(hotp(h.algorithm, h.seed, counter, h.digits));
    }
    const all = readAll(send, 0).records;
    expect(all.map((r) => r.code)).toEqual([null, null]);
    expect(call(send, readOneApdu(90, b.app, "button")).sw).toBe(0x6ff9);
    key.touch();
    const r = call(send, readOneApdu(90, b.app, "button"));
    expect(parseEntryRecord(r.data).code).toBe(totp(b.algorithm, b.seed, { time: 90, period: b.period, digits: b.digits }));
    expect(key.state().touchArmed).toBe(false);
    expect(call(send, readOneApdu(90, "nobody", "here")).sw).toBe(0x6a83);
  });

  it("replaces an existing (app, account), deletes, answers 6A84 when full and 6A83 when empty", () => {
    const { key, send } = selected({ maxEntries: 2 });
    expect(writeEntry(send, entry(1))).toBe(0x9000);
    expect(writeEntry(send, entry(2))).toBe(0x9000);
    expect(writeEntry(send, entry(3))).toBe(0x6a84);
    expect(writeEntry(send, entry(2, { digits: 10 }))).toBe(0x9000);
    expect(key.state().entries.map((e) => e.digits)).toEqual([8, 10]);
    expect(deleteEntry(send, "Issuer 1", "user1@example.com")).toBe(0x9000);
    expect(deleteEntry(send, "Issuer 1", "user1@example.com")).toBe(0x6a83);
    expect(call(send, eraseAllApdu()).sw).toBe(0x6ff9);
    key.touch();
    expect(call(send, eraseAllApdu()).sw).toBe(0x9000);
    expect(readAll(send, 0).sw).toBe(0x6a83);
  });

  it("writes and clears the button-HOTP slot; models without it answer 6A86", () => {
    const { key, send } = selected();
    expect(writeHotpSlot(send, { digits: 8, seed: hex("0102030405") })).toBe(0x9000);
    expect(key.state().hotpSlot).toEqual({ digits: 8, seed: hex("0102030405") });
    expect(parseDeviceConfig(call(send, readConfigApdu()).data).flags?.hotpSlotOccupied).toBe(true);
    expect(writeHotpSlot(send, null)).toBe(0x9000);
    expect(key.state().hotpSlot).toBeNull();
    expect(writeHotpSlot(selected({ hotpSlotSupported: false }).send, { digits: 6, seed: hex("01") })).toBe(0x6a86);
  });

  it("reports and changes the device settings (§4.6, §4.7)", () => {
    const { send } = selected();
    expect(call(send, setDeviceTypeApdu(DISABLE_CCID)).sw).toBe(0x9000);
    expect(call(send, optionApdu(OTP_CMD.CFG_HOTP_ENTER, 1)).sw).toBe(0x9000);
    expect(call(send, optionApdu(OTP_CMD.CFG_HOTP_TOUCH, 1)).sw).toBe(0x9000);
    expect(call(send, optionApdu(OTP_CMD.CFG_HOTP_KBD_TYPE, 1)).sw).toBe(0x9000);
    expect(call(send, optionApdu(OTP_CMD.ENABLE_TOTP, 0)).sw).toBe(0x9000);
    const config = parseDeviceConfig(call(send, readConfigApdu(10)).data);
    expect(config.disabled).toEqual({ fido: false, keyboard: false, ccid: true });
    expect(config.flags).toMatchObject({ hotpNoEnter: true, hotpLongPress: true, hotpSupported: true });
    expect(config.extension).toMatchObject({ hotpNumericKeypad: true, totp: false, fido21: true });
    expect(call(send, readConfigApdu(1)).data.length).toBe(1);
    expect(call(send, encodeCommandApdu({ cla: 0x80, ins: 0xc5, p1: 2, p2: 2, data: hex("02") })).sw).toBe(0x6a80);
  });

  it("serves the serial on the FIDO applet; OTP commands then need a new SELECT (§4.8)", () => {
    const { send } = selected({ serial: hex("0A1B2C3D4E") });
    expect(call(send, readSerialApdu()).sw).toBe(0x6a86);
    expect(call(send, selectApdu(FIDO_AID)).sw).toBe(0x9000);
    expect(parseSerialResponse(call(send, readSerialApdu()).data).hex).toBe("0A1B2C3D4E");
    expect(call(send, getEcdhPubkeyApdu()).sw).toBe(0x6a86);
    expect(call(send, selectApdu(OTP_AID)).sw).toBe(0x9000);
    expect(call(send, getEcdhPubkeyApdu()).sw).toBe(0x9000);
  });

  it("accepts the extended-length form the vendor reference describes (§4.2)", () => {
    const { send } = selected();
    writeEntry(send, entry(4));
    const body = readAllApdu(1000).subarray(5);
    const extended = encodeCommandApdu({ cla: 0x80, ins: 0xc5, p1: 5, p2: 0, data: body }, { extended: true });
    expect(toHex(extended.subarray(4, 7))).toBe("000009");
    expect(parseEntryPage(call(send, extended).data).records[0]!.account).toBe("user4@example.com");
  });
});
