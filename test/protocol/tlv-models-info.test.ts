import { describe, expect, it } from "vitest";
import { concatBytes, decodeSingleTlv, decodeTlvs, encodeTlv, TAG } from "../../src/protocol/tlv.js";
import { modelOfSerial, requireModel, SINGLE_PROFILE_MODELS } from "../../src/protocol/models.js";
import { encodeTokenInfo, parseTokenInfo } from "../../src/protocol/token-info.js";
import { reasonOf } from "../../src/lib/errors.js";
import { expectMalformed, thrown } from "./_expect.js";
import { hex, toHex, vbytes, vec } from "./_vectors.js";

describe("TLV with one-byte tags", () => {
  it("treats 1F as a plain tag and nests containers (the S2 config TLV)", () => {
    const inner = concatBytes(encodeTlv(TAG.TOTP_HMAC, Uint8Array.of(2)), encodeTlv(TAG.TIME_STEP, Uint8Array.of(0x3c)));
    const body = concatBytes(encodeTlv(TAG.DISPLAY_TIMEOUT, Uint8Array.of(2)), encodeTlv(TAG.UTC_TIME, hex("65432100")), encodeTlv(TAG.TOTP_PARAM, inner));
    const tlv = encodeTlv(TAG.SYS_CONFIG, body);
    expect(toHex(tlv)).toBe(vec("S2.tlv"));
    const outer = decodeSingleTlv(tlv, TAG.SYS_CONFIG, 17);
    expect(decodeTlvs(outer).map((t) => t.tag)).toEqual([0x1f, 0x0f, 0x86]);
  });

  it("reads and writes the long length forms", () => {
    for (const n of [0, 127, 128, 255, 256, 1000]) {
      const value = new Uint8Array(n).fill(n & 0xff);
      const [item] = decodeTlvs(encodeTlv(0x70, value));
      expect(item!.value).toEqual(value);
    }
    expect(toHex(encodeTlv(0x70, new Uint8Array(200)).subarray(0, 3))).toBe("7081C8");
    expect(toHex(encodeTlv(0x70, new Uint8Array(300)).subarray(0, 4))).toBe("7082012C");
  });

  it("rejects truncation and bad length bytes, naming the element", () => {
    expectMalformed(() => decodeTlvs(hex("81")), "MALFORMED_RESPONSE", /element 0 .*length/);
    expectMalformed(() => decodeTlvs(hex("1F0101" + "0F0465")), "MALFORMED_RESPONSE", /element 1 .*value/);
    expectMalformed(() => decodeTlvs(hex("708301")), "MALFORMED_RESPONSE", /length/);
    expectMalformed(() => decodeTlvs(hex("7082FF"), "command"), "MALFORMED_COMMAND", /length/);
    expectMalformed(() => decodeSingleTlv(hex("700100"), 0x95), "MALFORMED_RESPONSE", /tag/);
    expectMalformed(() => decodeSingleTlv(hex("700100"), 0x70, 2), "MALFORMED_RESPONSE", /length/);
    expectMalformed(() => decodeSingleTlv(hex("7001007000"), 0x70), "MALFORMED_RESPONSE", /TLV 70/);
  });
});

describe("single-profile models (§2.1)", () => {
  it("identifies every model of the table and its time-sync class", () => {
    expect(SINGLE_PROFILE_MODELS).toHaveLength(8);
    for (const model of SINGLE_PROFILE_MODELS) expect(modelOfSerial(`  ${model.prefix}1234567 `)).toBe(model);
    expect(modelOfSerial("86596220000001")).toMatchObject({ name: "OTPC-P2-i", restrictedSync: true });
    expect(modelOfSerial("86596320000001")).toMatchObject({ name: "C302-i", restrictedSync: false });
    expect(SINGLE_PROFILE_MODELS.filter((m) => !m.restrictedSync).map((m) => m.name)).toEqual(["OTPC-P1-i", "miniOTP-2-i", "C302-i"]);
  });

  it("refuses unknown and non-programmable serials (8659623 is a C202/C203)", () => {
    expect(modelOfSerial("86596230000001")).toBeNull();
    expect(modelOfSerial("")).toBeNull();
    expect(reasonOf(thrown(() => requireModel("86596230000001")))).toBe("UNKNOWN_MODEL");
  });
});

describe("GET INFO data (§2.4, §3.4)", () => {
  it("parses the firmware core's answer (S7) and builds it back", () => {
    const resp = vbytes("S7.resp");
    const info = parseTokenInfo(resp.subarray(0, resp.length - 2));
    expect(info).toEqual({ serial: "86596220000001", clock: 1700000000 });
    expect(`${toHex(encodeTokenInfo(info.serial, info.clock))}9000`).toBe(vec("S7.resp"));
  });

  it("ignores the header and separator bytes, so the TLV form parses the same", () => {
    const tlv = encodeTokenInfo("123456789012345", 0xfedcba98, "tlv");
    expect(toHex(tlv.subarray(0, 4))).toBe("9517020F");
    expect(parseTokenInfo(tlv)).toEqual({ serial: "123456789012345", clock: 0xfedcba98 });
    expect(parseTokenInfo(concatBytes(tlv, hex("AABB"))).serial).toBe("123456789012345");
  });

  it("rejects short data and non-ASCII serials", () => {
    expectMalformed(() => parseTokenInfo(hex("000000")), "MALFORMED_RESPONSE", /GET INFO/);
    expectMalformed(() => parseTokenInfo(hex("0000000E3836")), "MALFORMED_RESPONSE", /GET INFO/);
    expectMalformed(() => parseTokenInfo(hex("00000001FF00006553F100")), "MALFORMED_RESPONSE", /serial byte 0/);
    expect(reasonOf(thrown(() => encodeTokenInfo("x".repeat(17), 0)))).toBe("INVALID_INPUT");
  });
});
