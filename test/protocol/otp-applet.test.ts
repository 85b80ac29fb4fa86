import { describe, expect, it } from "vitest";
import {
  continueApdu,
  DISABLE_KEYBOARD,
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
  sealedWriteApdu,
  setDeviceTypeApdu,
} from "../../src/protocol/otp-applet.js";
import {
  decodeEntryCommand,
  decodeEnumRequest,
  decodeHotpSlot,
  encodeEntryDelete,
  encodeEntryRecord,
  encodeEntryWrite,
  encodeHotpSlot,
  parseEntryPage,
  parseEntryRecord,
  type OtpEntryWrite,
} from "../../src/protocol/otp-entries.js";
import { reasonOf } from "../../src/lib/errors.js";
import { expectMalformed, thrown } from "./_expect.js";
import { hex, toHex, vbytes, vec } from "./_vectors.js";

const O2_ENTRY: OtpEntryWrite = {
  type: "TOTP",
  algorithm: "SHA1",
  period: 30,
  digits: 6,
  buttonRequired: false,
  app: "Test",
  account: "alice",
  seed: new TextEncoder().encode("Hello"),
};

describe("OTP-applet APDUs (§4.3, vector O1)", () => {
  it("builds every fixed APDU of O1", () => {
    expect(toHex(selectApdu(OTP_AID))).toBe(vec("O1.select_otp"));
    expect(toHex(selectApdu(FIDO_AID))).toBe(vec("O1.select_fido"));
    expect(toHex(getEcdhPubkeyApdu())).toBe(vec("O1.get_ecdh_pubkey"));
    expect(toHex(readConfigApdu(64))).toBe(vec("O1.read_config_64"));
    expect(toHex(readAllApdu(0))).toBe(vec("O1.read_all_t0"));
    expect(toHex(readAllApdu(1700000000))).toBe(vec("O1.read_all_t1700000000"));
    expect(toHex(continueApdu(1700000000))).toBe(vec("O1.continue_t1700000000"));
    expect(toHex(eraseAllApdu())).toBe(vec("O1.erase_all"));
    expect(toHex(setDeviceTypeApdu(DISABLE_KEYBOARD))).toBe(vec("O1.disable_keyboard"));
    expect(toHex(optionApdu(OTP_CMD.ENABLE_TOTP, 1))).toBe(vec("O1.enable_totp"));
    expect(toHex(readSerialApdu())).toBe(vec("O1.read_serial"));
  });

  it("refuses the brick mask and malformed sealed blobs", () => {
    expect(reasonOf(thrown(() => setDeviceTypeApdu(7)))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => sealedWriteApdu("entry", new Uint8Array(81))))).toBe("INVALID_INPUT");
    expect(toHex(sealedWriteApdu("hotp", new Uint8Array(80)).subarray(0, 5))).toBe("80C5000050");
    expect(toHex(sealedWriteApdu("entry", new Uint8Array(240)).subarray(0, 5))).toBe("80C50502F0");
    expect(toHex(sealedWriteApdu("entry", new Uint8Array(272)).subarray(0, 7))).toBe("80C50502000110");
  });

  it("builds READ_ONE with both names", () => {
    const apdu = readOneApdu(1700000000, "Test", "alice");
    expect(toHex(apdu)).toBe("80C5050014" + "01000000006553F100" + "0454657374" + "05616C696365");
    expect(decodeEnumRequest(apdu.subarray(5))).toEqual({ kind: "one", timestamp: 1700000000n, app: "Test", account: "alice" });
    expect(decodeEnumRequest(readAllApdu(5).subarray(5))).toEqual({ kind: "all", timestamp: 5n });
    expect(reasonOf(thrown(() => readOneApdu(0, "Test", "")))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => readOneApdu(0, "Tést", "a")))).toBe("INVALID_INPUT");
  });

  it("parses the device-info block, full or byte-0 only", () => {
    const full = parseDeviceConfig(hex("02 95 00000000 050403 31 000000"));
    expect(full.disabled).toEqual({ fido: false, keyboard: true, ccid: false });
    expect(full.flags).toMatchObject({ hotpNoEnter: true, hotpSupported: true, nfc: true, hotpSlotOccupied: true, pinLocked: false });
    expect(full.extension).toMatchObject({ totp: true, ccid: true, buttonHotpUnsupported: true, fido21: false });
    expect(toHex(full.fidoVersion!)).toBe("050403");
    expect(parseDeviceConfig(hex("04"))).toMatchObject({ disabled: { ccid: true }, flags: null, extension: null });
    expectMalformed(() => parseDeviceConfig(hex("0102")), "MALFORMED_RESPONSE", /READ_CONFIG/);
  });

  it("decodes the serial twice (O5)", () => {
    expect(parseSerialResponse(vbytes("O5.resp")).hex).toBe(vec("O5.serial"));
    expect(toHex(parseSerialResponse(vbytes("O5.resp")).bytes)).toBe("1234567890");
    expectMalformed(() => parseSerialResponse(hex("D10331323")), "MALFORMED_RESPONSE", /serial/);
    expectMalformed(() => parseSerialResponse(hex("D1013132")), "MALFORMED_RESPONSE", /serial length/);
    expectMalformed(() => parseSerialResponse(hex("D103313233")), "MALFORMED_RESPONSE", /serial text/);
    expectMalformed(() => parseSerialResponse(hex("D1025A5A")), "MALFORMED_RESPONSE", /serial text/);
  });
});

describe("OTP-applet entries (§4.5)", () => {
  it("encodes O2 and O3 and decodes them on the device side", () => {
    expect(toHex(encodeEntryWrite(O2_ENTRY))).toBe(vec("O2.cleartext"));
    expect(toHex(encodeEntryDelete("Test", "alice"))).toBe(vec("O3.cleartext"));
    expect(decodeEntryCommand(vbytes("O2.cleartext"))).toEqual({ kind: "write", entry: O2_ENTRY });
    expect(decodeEntryCommand(vbytes("O3.cleartext"))).toEqual({ kind: "delete", app: "Test", account: "alice" });
  });

  it("parses the O4 page: code only for TOTP without button, more-pages bit", () => {
    const { records, morePages } = parseEntryPage(vbytes("O4.page"));
    expect(morePages).toBe(vec("O4.more_pages") === "true");
    expect(records[0]!.type === "TOTP" ? 1 : 0).toBe(Number(vec("O4.first_type")));
    expect(records).toEqual([
      { type: "TOTP", algorithm: "SHA1", period: 30, digits: 6, buttonRequired: false, app: "Test", account: "alice", code: "123456" },
      { type: "HOTP", algorithm: "SHA1", period: 0, digits: 6, buttonRequired: true, app: "a", account: "x", code: null },
    ]);
    const rebuilt = new Uint8Array([...encodeEntryRecord(records[0]!, "123456"), ...encodeEntryRecord(records[1]!, null)]);
    rebuilt[0]! |= 0x80;
    expect(toHex(rebuilt)).toBe(vec("O4.page"));
    expect(parseEntryPage(new Uint8Array(0))).toEqual({ records: [], morePages: false });
  });

  it("parses READ_ONE records, which always carry the code", () => {
    const params = { ...O2_ENTRY, buttonRequired: true };
    const record = parseEntryRecord(encodeEntryRecord(params, "00123456"));
    expect(record.code).toBe("00123456");
    expectMalformed(() => parseEntryRecord(encodeEntryRecord(params, null)), "MALFORMED_RESPONSE", /code length/);
  });

  it("rejects every malformed field with its name", () => {
    const page = vbytes("O4.page");
    const cases: [string, RegExp][] = [
      ["82", /record 0 type/],
      ["01C3", /algorithm/],
      ["01C10000", /step/],
      ["01C1001E03", /digits/],
      ["01C1001E0602", /button/],
      ["01C1001E060041", /app length/],
      ["01C1001E060001FF", /app$/],
      ["01C1001E060000", /account length/],
      ["01C1001E06000000", /account length/],
      ["01C1001E0600000178", /code length/],
      ["01C1001E060000017802414", /code/],
      [toHex(page.subarray(0, page.length - 1)), /record 1 account/],
    ];
    for (const [bytes, field] of cases) expectMalformed(() => parseEntryPage(hex(bytes)), "MALFORMED_RESPONSE", field);
  });

  it("encodes and decodes the button-HOTP slot, and refuses bad device-side commands", () => {
    const seed = hex("48656C6C6F21DEADBEEF");
    expect(toHex(encodeHotpSlot({ digits: 6, seed }))).toBe(vec("E1.cleartext"));
    expect(decodeHotpSlot(vbytes("E1.cleartext"))).toEqual({ digits: 6, seed });
    expect(decodeHotpSlot(encodeHotpSlot(null))).toBeNull();
    expectMalformed(() => decodeHotpSlot(hex("070100")), "MALFORMED_COMMAND", /digits/);
    expectMalformed(() => decodeHotpSlot(hex("0600")), "MALFORMED_COMMAND", /seed length/);
    expectMalformed(() => decodeHotpSlot(hex("06010000")), "MALFORMED_COMMAND", /HOTP slot/);
    expect(expectMalformed(() => decodeEntryCommand(hex("0000000000000001610178")), "MALFORMED_COMMAND").detail.expected).toMatch(/delete/);
    expectMalformed(() => decodeEntryCommand(hex("01C1001E060000017800")), "MALFORMED_COMMAND", /seed length/);
    expectMalformed(() => decodeEntryCommand(new Uint8Array([...encodeEntryWrite(O2_ENTRY), 0])), "MALFORMED_COMMAND", /^entry$/);
    expectMalformed(() => decodeEnumRequest(hex(`02${"00".repeat(8)}`)), "MALFORMED_COMMAND", /sub-command/);
    expectMalformed(() => decodeEnumRequest(hex(`03${"00".repeat(7)}`)), "MALFORMED_COMMAND", /timestamp/);
    expect(reasonOf(thrown(() => encodeEntryWrite({ ...O2_ENTRY, seed: new Uint8Array(65) })))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => encodeEntryWrite({ ...O2_ENTRY, digits: 11 })))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => encodeEntryWrite({ ...O2_ENTRY, period: 0 })))).toBe("INVALID_INPUT");
  });
});
