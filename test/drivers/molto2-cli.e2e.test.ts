/**
 * `otpbridge molto2 ...` through main() against the real pcscd: the emulated Molto2 behind a vpcd
 * reader, and the reader choice among the real vpcd readers. Holds the PC/SC test lock.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REASONS } from "../../src/lib/errors.js";
import { runCli } from "../fixtures/cli.js";
import { lockPcscd, missingPcscStack } from "../fixtures/pcscd.js";

const missing = missingPcscStack();

describe.skipIf(missing !== undefined)("otpbridge molto2 through pcscd", () => {
  let release: () => void = () => {};
  const previous = process.env.OTPBRIDGE_SIMULATE_LINK;
  beforeAll(async () => {
    release = await lockPcscd();
    process.env.OTPBRIDGE_SIMULATE_LINK = "vpcd";
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.OTPBRIDGE_SIMULATE_LINK;
    else process.env.OTPBRIDGE_SIMULATE_LINK = previous;
    release();
  });

  it("lists the simulated token behind a vpcd reader", async () => {
    const r = await runCli(["molto2", "list", "--simulate"]);
    expect(r.code).toBe(0);
    expect(r.err[0]).toMatch(/^simulated Molto2 \(pcscd, Virtual PCD .*\)$/);
    expect(r.out.at(-1)).toBe("0 of 100 profiles in use");
  });

  it("names no reader or several readers with the device reasons, opening none", async () => {
    const none = await runCli(["molto2", "list", "--reader", "no such reader"]);
    expect(none.code).toBe(REASONS.NO_DEVICE.exitCode);
    expect(none.err.at(-1)).toBe('otpbridge: no reader name contains "no such reader"');
    const several = await runCli(["molto2", "list", "--reader", "Virtual PCD"]);
    expect(several.code).toBe(REASONS.AMBIGUOUS_DEVICE.exitCode);
    expect(several.err.at(-1)).toMatch(/^otpbridge: several readers match "Virtual PCD" \(Virtual PCD 00 00, .*\): name one with --reader$/);
  });

});
