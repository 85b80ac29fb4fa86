import { describe, expect, it } from "vitest";
import { busyReport, fragmentMessage, HidReassembler, withReportId } from "../../src/protocol/hid-frame.js";
import { getEcdhPubkeyApdu } from "../../src/protocol/otp-applet.js";
import { expectMalformed } from "./_expect.js";
import { hex, toHex, vec } from "./_vectors.js";

function frame(header: string): Uint8Array {
  const report = new Uint8Array(64);
  report.set(hex(header));
  return report;
}

describe("Token2 HID vendor framing (§4.9)", () => {
  it("writes GET_ECDH_PUBKEY as one 65-byte report (P1)", () => {
    const reports = fragmentMessage(getEcdhPubkeyApdu());
    expect(reports).toHaveLength(1);
    expect(toHex(withReportId(reports[0]!))).toBe(vec("P1.frame0"));
  });

  it("splits a 62-byte APDU into 61 + 1 (P2)", () => {
    const reports = fragmentMessage(new Uint8Array(62).fill(0xaa)).map(withReportId);
    expect(reports).toHaveLength(2);
    expect(toHex(reports[0]!.subarray(0, 4))).toBe(vec("P2.hdr0"));
    expect(toHex(reports[1]!.subarray(0, 5))).toBe(vec("P2.hdr1"));
  });

  it("reassembles a response after busy frames (P3)", () => {
    const r = new HidReassembler("response");
    for (let i = 0; i < 3; i++) expect(r.push(frame("21C0"))).toEqual({ kind: "busy" });
    expect(r.push(frame("2120020102"))).toEqual({ kind: "partial" });
    const done = r.push(frame("2101030390 00".replace(" ", "")));
    expect(done.kind).toBe("complete");
    const message = (done as { message: Uint8Array }).message;
    expect(toHex(message.subarray(0, -2))).toBe(vec("P3.data"));
    expect(toHex(message.subarray(-2))).toBe(vec("P3.sw"));
  });

  it("round-trips lengths 0..1000 with the sequence wrapping past 15, with and without a report ID", () => {
    const r = new HidReassembler("command");
    for (const n of [0, 1, 60, 61, 62, 122, 123, 61 * 16, 61 * 16 + 1, 1000]) {
      const message = Uint8Array.from({ length: n }, (_, i) => (i * 7 + n) & 0xff);
      const reports = fragmentMessage(message);
      expect(reports).toHaveLength(Math.max(1, Math.ceil(n / 61)));
      let last;
      for (const [i, report] of reports.entries()) last = r.push(i % 2 === 0 ? withReportId(report) : report);
      expect(last).toEqual({ kind: "complete", message });
      expect(r.inProgress).toBe(false);
    }
  });

  it("rejects wrong magic, sequence, flags, length, size and busy-from-host, then starts afresh", () => {
    const host = new HidReassembler("command", { maxMessage: 100 });
    expectMalformed(() => host.push(frame("2200")), "MALFORMED_COMMAND", /magic/);
    expectMalformed(() => host.push(frame("2101")), "MALFORMED_COMMAND", /sequence/);
    expectMalformed(() => host.push(frame("2140")), "MALFORMED_COMMAND", /flags/);
    expectMalformed(() => host.push(busyReport()), "MALFORMED_COMMAND", /flags/);
    expectMalformed(() => host.push(frame("21003E")), "MALFORMED_COMMAND", /chunk length/);
    expectMalformed(() => host.push(new Uint8Array(63)), "MALFORMED_COMMAND", /report/);
    expect(host.push(frame("21203D")).kind).toBe("partial");
    expect(host.inProgress).toBe(true);
    expectMalformed(() => host.push(frame("21213D")), "MALFORMED_COMMAND", /message/);
    expect(host.inProgress).toBe(false);
    expect(host.push(frame("210001AB"))).toEqual({ kind: "complete", message: hex("AB") });
  });
});
