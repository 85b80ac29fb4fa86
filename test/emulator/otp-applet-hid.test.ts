import { describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/index.js";
import { OtpAppletHidDevice } from "../../src/emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { busyReport, fragmentMessage, HidReassembler, withReportId } from "../../src/protocol/hid-frame.js";
import { eraseAllApdu, getEcdhPubkeyApdu, readAllApdu, readSerialApdu, parseSerialResponse } from "../../src/protocol/otp-applet.js";
import { parseEntryPage } from "../../src/protocol/otp-entries.js";
import { hex, toHex } from "../protocol/_vectors.js";
import { call, writeEntry, type Send } from "./_otp-host.js";

/**
 * Host side over reports: fragments the APDU, writes 65-byte reports, reads input reports, polls
 * while busy. Returns the reassembled response and how many busy frames it saw.
 */
function exchange(device: OtpAppletHidDevice, apdu: Uint8Array, onBusy?: (n: number) => void): { response: Uint8Array; busy: number } {
  const reader = new HidReassembler("response");
  let queue: Uint8Array[] = [];
  for (const report of fragmentMessage(apdu)) queue.push(...device.handleReport(withReportId(report)));
  let busy = 0;
  for (let guard = 0; guard < 1000; guard++) {
    if (queue.length === 0) queue = device.poll();
    const report = queue.shift();
    if (report === undefined) throw new Error("device went silent");
    const step = reader.push(report);
    if (step.kind === "busy") onBusy?.(++busy);
    if (step.kind === "complete") return { response: step.message, busy };
  }
  throw new Error("no answer");
}

describe("OtpAppletHidDevice (§4.9)", () => {
  it("serves APDUs over frames with no SELECT, including multi-frame seals and pages", () => {
    const key = new OtpAppletKey({ serial: hex("0102030405") });
    const device = new OtpAppletHidDevice(key);
    const send: Send = (apdu) => exchange(device, apdu).response;
    expect(toHex(call(send, getEcdhPubkeyApdu()).data)).toBe(toHex(key.publicKey));
    const seed = new Uint8Array(64).fill(7);
    const e = { type: "TOTP", algorithm: "SHA256", period: 30, digits: 8, buttonRequired: false, app: "A".repeat(64), account: "B".repeat(64), seed } as const;
    expect(writeEntry(send, e)).toBe(0x9000); // a 64 + 208-byte blob, extended Lc: 5 frames
    const page = parseEntryPage(call(send, readAllApdu(1_700_000_000)).data);
    expect(page.records[0]!.code).toBe(totp("SHA256", seed, { time: 1_700_000_000, digits: 8 }));
    expect(parseSerialResponse(call(send, readSerialApdu()).data).hex).toBe("0102030405");
  });

  it("sends busy frames until a touch, then the answer (P3 shape)", () => {
    const key = new OtpAppletKey();
    const device = new OtpAppletHidDevice(key);
    const { response, busy } = exchange(device, eraseAllApdu(), (n) => {
      if (n === 3) key.touch();
    });
    expect(busy).toBe(3);
    expect(toHex(response)).toBe("9000");
    expect(device.waitingForTouch).toBe(false);
  });

  it("answers 6FF9 once the touch timeout passes", () => {
    let now = 1000;
    const device = new OtpAppletHidDevice(new OtpAppletKey(), { clock: () => now, touchTimeout: 20 });
    const { response, busy } = exchange(device, eraseAllApdu(), () => (now += 5));
    expect(busy).toBe(4);
    expect(toHex(response)).toBe("6FF9");
  });

  it("ignores CTAPHID traffic, answers a broken Token2 frame with 6700, and stays usable", () => {
    const device = new OtpAppletHidDevice(new OtpAppletKey());
    const ctap = new Uint8Array(64).fill(0xff);
    expect(device.handleReport(ctap)).toEqual([]);
    const bad = fragmentMessage(getEcdhPubkeyApdu())[0]!;
    bad[1] = 0x03; // sequence 3 at the start of a message
    const [answer] = device.handleReport(bad);
    expect(toHex(answer!.subarray(0, 5))).toBe("2100026700");
    expect(exchange(device, getEcdhPubkeyApdu()).response.length).toBe(66);
    expect(busyReport()[1]).toBe(0xc0);
  });
});
