/**
 * HostClockGuard against SNTP responders of our own on 127.0.0.1: a passing answer is reused (a
 * batch does not ask the server at every tap), a failing one never is, and the refusal names the
 * override its caller offers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { HostClockGuard } from "../../src/service/host-clock.js";
import { closeSntpResponders, sntpResponder } from "../fixtures/sntp.js";
import { rejection } from "../fixtures/errors.js";

afterEach(closeSntpResponders);

describe("HostClockGuard", () => {
  it("reuses a passing check: the server may go away and the next write still goes ahead", async () => {
    const port = await sntpResponder(200);
    const guard = new HostClockGuard({ ntp: { host: "127.0.0.1", port } });
    const first = await guard.check(false);
    expect(Math.abs(first.offsetMs! - 200)).toBeLessThan(100);
    await closeSntpResponders();
    expect(await guard.check(false)).toBe(first);
  });

  it("asks again after a failure, and names the override of its caller", async () => {
    const port = await sntpResponder(5_000);
    const guard = new HostClockGuard({ ntp: { host: "127.0.0.1", port }, forceHint: "--force burns anyway" });
    const refused = await rejection(guard.check(false));
    expect(refused.reason).toBe("CLOCK_UNTRUSTED");
    expect(refused.message).toMatch(/behind 127\.0\.0\.1 \(limit 2 s\); not burning \(--force burns anyway\)$/);
    const forced = await guard.check(true);
    expect(forced.overridden).toEqual([expect.stringMatching(/^the system clock is 5\.\d s behind 127\.0\.0\.1/)]);
    // Not cached: the same server refuses again.
    expect((await rejection(guard.check(false))).reason).toBe("CLOCK_UNTRUSTED");
  });
});
