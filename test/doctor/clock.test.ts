import { afterEach, describe, expect, it } from "vitest";
import { checkHostClock, clockSyncState, describeDeviceDrift } from "../../src/doctor/clock.js";
import { sntpQuery } from "../../src/lib/sntp.js";
import { closeSntpResponders, sntpResponder as responder } from "../fixtures/sntp.js";
import { fakeSystem } from "./_system.js";
import { rejection } from "../fixtures/errors.js";

const cleanups: (() => void)[] = [];
afterEach(async () => {
  await closeSntpResponders();
  for (const c of cleanups.splice(0)) c();
});

function view() {
  const f = fakeSystem();
  cleanups.push(f.cleanup);
  return f;
}

describe("SNTP client against a responder on 127.0.0.1", () => {
  it("measures the offset of a server 5 s ahead", async () => {
    const port = await responder(5000);
    const r = await sntpQuery("127.0.0.1", { port });
    expect(r.offsetMs).toBeGreaterThan(4900);
    expect(r.offsetMs).toBeLessThan(5100);
    expect(r.delayMs).toBeGreaterThanOrEqual(0);
    expect(r.stratum).toBe(2);
  });

  it("times out on a server that never answers", async () => {
    const port = await responder(0, { silent: true });
    const error = await rejection(sntpQuery("127.0.0.1", { port, timeoutMs: 200 }));
    expect(error.reason).toBe("NTP_UNAVAILABLE");
    expect(error.message).toMatch(/no valid answer within 200 ms/);
  });

  it("discards a kiss-o'-death (stratum 0)", async () => {
    const port = await responder(0, { stratum: 0 });
    expect((await rejection(sntpQuery("127.0.0.1", { port }))).message).toMatch(/kiss/);
  });
});

describe("checkHostClock before a burn", () => {
  it("+5 s from the --ntp server: refused, and allowed with --force", async () => {
    const port = await responder(5000);
    const { view: v } = view();
    const error = await rejection(checkHostClock({ systemView: v, ntpHost: "127.0.0.1", sntp: { port } }));
    expect(error.reason).toBe("CLOCK_UNTRUSTED");
    expect(error.message).toMatch(/5\.0 s behind 127\.0\.0\.1 \(limit 2 s\).*--force/);
    const forced = await checkHostClock({ systemView: v, ntpHost: "127.0.0.1", sntp: { port }, force: true });
    expect(forced.overridden).toHaveLength(1);
    expect(forced.offsetMs).toBeGreaterThan(4900);
  });

  it("+1 s: accepted", async () => {
    const port = await responder(1000);
    const { view: v } = view();
    const r = await checkHostClock({ systemView: v, ntpHost: "127.0.0.1", sntp: { port } });
    expect(r.overridden).toEqual([]);
    expect(Math.abs(r.offsetMs! - 1000)).toBeLessThan(100);
  });

  it("-3 s (host ahead): refused", async () => {
    const port = await responder(-3000);
    const { view: v } = view();
    expect((await rejection(checkHostClock({ systemView: v, ntpHost: "127.0.0.1", sntp: { port } }))).message).toMatch(/ahead of/);
  });

  it("an unreachable --ntp server refuses unless forced", async () => {
    const port = await responder(0, { silent: true });
    const { view: v } = view();
    expect((await rejection(checkHostClock({ systemView: v, ntpHost: "127.0.0.1", sntp: { port, timeoutMs: 150 } }))).reason).toBe("NTP_UNAVAILABLE");
    const forced = await checkHostClock({ systemView: v, ntpHost: "127.0.0.1", sntp: { port, timeoutMs: 150 }, force: true });
    expect(forced.overridden[0]).toMatch(/no valid answer/);
  });

  it("a system clock known to be unsynchronised refuses; synchronised or unknown passes", async () => {
    const f = fakeSystem({ run: (cmd, args) => (cmd === "timedatectl" && args.includes("NTPSynchronized") ? "no\n" : null) });
    cleanups.push(f.cleanup);
    expect(clockSyncState(f.view).state).toBe("unsynchronized");
    expect((await rejection(checkHostClock({ systemView: f.view }))).message).toMatch(/not synchronised.*timedatectl set-ntp true/);
    f.write("run/systemd/timesync/synchronized");
    expect(clockSyncState(f.view)).toEqual({ state: "synchronized", source: "systemd-timesyncd" });
    expect((await checkHostClock({ systemView: f.view })).sync).toBe("synchronized");
    const { view: unknown } = view();
    expect((await checkHostClock({ systemView: unknown })).sync).toBe("unknown");
  });

  it("reports a token's drift after burning", () => {
    expect(describeDeviceDrift(1_700_000_003, 1_700_000_000_400).message).toBe("token clock is 3 s ahead of the host");
    expect(describeDeviceDrift(1_699_999_990, 1_700_000_000_000).driftSeconds).toBe(-10);
  });
});
