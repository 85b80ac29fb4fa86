import { describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { pinnedClock, repeatingRng } from "../../src/emulator/common.js";
import { authFinishApdu } from "../../src/protocol/token2-auth.js";
import { getChallengeApdu, getInfoApdu, SINGLE_PROFILE_KEY, writeConfigApdu, writeSeedApdu } from "../../src/protocol/single-profile.js";
import { hex, toHex, vec } from "../protocol/_vectors.js";

/** The firmware core's mock HAL: RNG 11..88, clock pinned at 1700000000, factory OTPC-P2-i (Appendix B). */
function firmwareLikeToken(): SingleProfileToken {
  return new SingleProfileToken({ clock: pinnedClock(1700000000), rng: repeatingRng(hex("1122334455667788")) });
}

describe("Appendix B conformance trace", () => {
  it("gives the firmware core's 21 responses byte for byte", () => {
    const token = firmwareLikeToken();
    for (let step = 1; step <= 21; step++) {
      const id = String(step).padStart(2, "0");
      expect(toHex(token.transmit(hex(vec(`T1.c${id}`)))), `step ${step}`).toBe(vec(`T1.r${id}`));
    }
    const state = token.state();
    expect(toHex(state.seed)).toBe("000102030405060708090A0B0C0D0E0F"); // step 18's S4 seed survives
    expect(state).toMatchObject({ alg: 2, step: 0x3c, display: 2, rtc: 0x65432100, authed: false, armed: true });
  });

  it("the host codec regenerates the trace's commands", () => {
    const challenge = hex("1122334455667788");
    expect(toHex(getInfoApdu())).toBe(vec("T1.c01"));
    expect(toHex(getChallengeApdu())).toBe(vec("T1.c05"));
    expect(toHex(authFinishApdu(SINGLE_PROFILE_KEY, challenge))).toBe(vec("T1.c10"));
    expect(toHex(writeConfigApdu({ display: 2, time: 0x65432100, algorithm: "SHA256", period: 60 }))).toBe(vec("T1.c15"));
    const s3 = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
    expect(toHex(writeSeedApdu(s3))).toBe(vec("T1.c16"));
    expect(
      toHex(
        writeSeedApdu(
          Uint8Array.from({ length: 16 }, (_, i) => i),
          { zeroExtend: false },
        ),
      ),
    ).toBe(vec("T1.c18"));
  });
});
