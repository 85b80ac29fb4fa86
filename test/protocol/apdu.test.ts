import { describe, expect, it } from "vitest";
import { decodeCommandApdu, decodeResponseApdu, encodeCommandApdu, encodeResponseApdu } from "../../src/protocol/apdu.js";
import { SW, isSuccess, swName, triesLeft } from "../../src/protocol/status-words.js";
import { reasonOf } from "../../src/lib/errors.js";
import { expectMalformed, thrown } from "./_expect.js";
import { hex, toHex } from "./_vectors.js";

describe("command APDUs", () => {
  it("encodes the four short cases", () => {
    expect(toHex(encodeCommandApdu({ cla: 0x80, ins: 0xc5, p1: 5, p2: 2 }))).toBe("80C50502");
    expect(toHex(encodeCommandApdu({ cla: 0x80, ins: 0x41, p1: 0, p2: 0, le: 256 }))).toBe("8041000000");
    expect(toHex(encodeCommandApdu({ cla: 0x80, ins: 0x4b, p1: 8, p2: 0, data: Uint8Array.of(0) }))).toBe("804B08000100");
    expect(toHex(encodeCommandApdu({ cla: 0x80, ins: 0xc5, p1: 2, p2: 0, data: Uint8Array.of(7), le: 64 }))).toBe("80C50200010740");
  });

  it("encodes the extended form the OTP applet also takes", () => {
    const data = new Uint8Array(300).fill(0xaa);
    const apdu = encodeCommandApdu({ cla: 0x80, ins: 0xc5, p1: 5, p2: 2, data, le: 65536 }, { extended: true });
    expect(toHex(apdu.subarray(0, 7))).toBe("80C50502" + "00012C");
    expect(toHex(apdu.subarray(-2))).toBe("0000");
    expect(decodeCommandApdu(apdu)).toMatchObject({ le: 65536, extended: true, data });
  });

  it("round-trips every case through the device-side decoder", () => {
    for (const data of [undefined, Uint8Array.of(1), new Uint8Array(255).fill(3)]) {
      for (const le of [undefined, 1, 200, 256]) {
        for (const extended of [false, true]) {
          const cmd = { cla: 0x84, ins: 0xd4, p1: 1, p2: 99, ...(data ? { data } : {}), ...(le ? { le } : {}) };
          const decoded = decodeCommandApdu(encodeCommandApdu(cmd, { extended }));
          expect(decoded).toMatchObject({ cla: 0x84, ins: 0xd4, p1: 1, p2: 99, le: le ?? null });
          expect(toHex(decoded.data)).toBe(toHex(data ?? new Uint8Array(0)));
          expect(decoded.extended).toBe(extended && (data !== undefined || le !== undefined));
        }
      }
    }
  });

  it("rejects bad inputs with INVALID_INPUT and bad wire bytes with a typed error naming the field", () => {
    expect(reasonOf(thrown(() => encodeCommandApdu({ cla: 256, ins: 0, p1: 0, p2: 0 })))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, data: new Uint8Array(256) })))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => encodeCommandApdu({ cla: 0, ins: 0, p1: 0, p2: 0, le: 0 })))).toBe("INVALID_INPUT");
    expectMalformed(() => decodeCommandApdu(hex("80CE00")), "MALFORMED_COMMAND", /header/);
    expectMalformed(() => decodeCommandApdu(hex("80CE00001000")), "MALFORMED_COMMAND", /Lc/);
    expectMalformed(() => decodeCommandApdu(hex("80CE000000AA")), "MALFORMED_COMMAND", /extended length/);
    expectMalformed(() => decodeCommandApdu(hex("80CE0000000000AA")), "MALFORMED_COMMAND", /extended Lc/);
    expectMalformed(() => decodeCommandApdu(hex("80CE0000000002AA")), "MALFORMED_COMMAND", /extended Lc/);
  });
});

describe("response APDUs and status words", () => {
  it("splits data and SW, and builds them back", () => {
    expect(decodeResponseApdu(hex("0102039000"))).toEqual({ data: hex("010203"), sw: 0x9000 });
    expect(toHex(encodeResponseApdu(hex("AB"), SW.WAITING_FOR_BUTTON))).toBe("AB9060");
    expectMalformed(() => decodeResponseApdu(hex("90")), "MALFORMED_RESPONSE", /status word/);
  });

  it("names status words, including the parametrised ones", () => {
    expect(swName(0x6983)).toBe("AUTH_METHOD_BLOCKED (6983)");
    expect(swName(0x6105)).toBe("BYTES_AVAILABLE(5) (6105)");
    expect(swName(0x6c00)).toBe("WRONG_LE(256) (6C00)");
    expect(swName(0x6303)).toBe("TRIES_LEFT(3) (6303)");
    expect(swName(0x6f00)).toBe("UNKNOWN (6F00)");
    expect(triesLeft(0x6307)).toBe(7);
    expect(triesLeft(0x9000)).toBeNull();
    expect(isSuccess(0x9060)).toBe(true);
    expect(isSuccess(0x6a80)).toBe(false);
  });
});
