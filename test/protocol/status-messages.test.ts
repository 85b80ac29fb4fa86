/**
 * The status-word messages: every word docs/PROTOCOL.md lists for a family (§2.8, §3.14 with the [EMU]
 * words of §3.16, §4.11) has a message for every operation of that family, the patterns 61XX /
 * 6CXX / 63NN are read, and anything else is raw hex with the --debug hint.
 */
import { describe, expect, it } from "vitest";
import { SW_OPERATIONS, describeSw, listedStatusWords, type SwFamily, type SwOperation } from "../../src/protocol/status-messages.js";

// Transcribed from the spec tables, not from the module: the test fails if a word loses its message.
const SPEC: Record<SwFamily, number[]> = {
  "single-profile": [0x9000, 0x6700, 0x6983, 0x6a80, 0x6d00, 0x6e00], // §2.8
  molto2: [0x9000, 0x9060, 0x6a83, 0x6ffb, 0x6982, 0x6a80, 0x6988, 0x6a86, 0x6d00, 0x6e00], // §3.14, §3.16
  "otp-applet": [0x9000, 0x6a80, 0x6a83, 0x6a84, 0x6a86, 0x6a81, 0x6ff9, 0x6700], // §4.11
};
const FAMILIES = Object.keys(SPEC) as SwFamily[];
const UNKNOWN = /^unknown status word [0-9A-F]{4} \(run with --debug for the exchange\)$/;

function ops(family: SwFamily): Array<SwOperation<SwFamily>> {
  return [...SW_OPERATIONS[family]];
}

describe("describeSw", () => {
  it("explains every listed status word of each family, for every operation, naming the word", () => {
    for (const family of FAMILIES) {
      for (const sw of SPEC[family]) {
        expect(listedStatusWords(family), `${family} ${sw.toString(16)}`).toContain(sw);
        for (const op of ops(family)) {
          const text = describeSw(family, sw, op as never);
          expect(text, `${family} ${sw.toString(16)} ${op}`).not.toMatch(UNKNOWN);
          if (sw !== 0x9000 && sw !== 0x9060) expect(text).toContain(sw.toString(16).toUpperCase());
        }
      }
    }
  });

  it("says what a word means for the operation where the family gives it several meanings", () => {
    expect(describeSw("single-profile", 0x6983, "auth")).toMatch(/key is locked, or it is not a single-profile token; do not retry/);
    expect(describeSw("single-profile", 0x6983, "seed")).toMatch(/authentication was lost or the MAC did not match/);
    expect(describeSw("single-profile", 0x6a80, "auth")).toMatch(/no challenge armed/);
    expect(describeSw("single-profile", 0x6a80, "seed")).toMatch(/length or padding/);
    expect(describeSw("otp-applet", 0x6a83, "list")).toMatch(/holds no entries/);
    expect(describeSw("otp-applet", 0x6a83, "code")).toMatch(/no such entry/);
    expect(describeSw("molto2", 0x6d00, "screen-lock")).toMatch(/firmware 2\.1 or later/);
  });

  it("reads 61XX and 6CXX on every family, and the Molto2's 63NN tries left", () => {
    for (const family of FAMILIES) {
      expect(describeSw(family, 0x6110, ops(family)[0] as never)).toMatch(/^16 response bytes are still waiting \(6110\)/);
      expect(describeSw(family, 0x6100, ops(family)[0] as never)).toMatch(/^256 response bytes/);
      expect(describeSw(family, 0x6c08, ops(family)[0] as never)).toMatch(/Le = 8 \(6C08\)/);
    }
    expect(describeSw("molto2", 0x6303, "auth")).toBe("wrong customer key (6303): 3 tries left before the token locks; check the key before trying again");
    expect(describeSw("molto2", 0x6300, "auth")).toMatch(/accepts no customer key any more \(6300\): only a factory reset/);
    // 63NN means nothing in the other families' specs: shown raw.
    expect(describeSw("single-profile", 0x6303, "auth")).toMatch(UNKNOWN);
  });

  it("shows any other word as raw hex with the --debug hint", () => {
    expect(describeSw("single-profile", 0x6f12, "seed")).toBe("unknown status word 6F12 (run with --debug for the exchange)");
    for (const family of FAMILIES) {
      for (const sw of [0x6f00, 0x6985, 0x9001, 0x0000, 0xffff]) {
        if (SPEC[family].includes(sw)) continue;
        expect(describeSw(family, sw, ops(family)[0] as never)).toMatch(UNKNOWN);
      }
    }
    // A word one family lists is still unknown to another.
    expect(describeSw("single-profile", 0x6a84, "seed")).toBe("unknown status word 6A84 (run with --debug for the exchange)");
  });
});
