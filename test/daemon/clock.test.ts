/**
 * The daemon's host-clock check (`otpbridge daemon --ntp HOST:PORT`) against SNTP responders of our
 * own on loopback, through the real daemon process (in-memory readers) and a real WebSocket: a host
 * 5 s off refuses token.burn, token.syncTime and batch.start before anything is written; `force:
 * true` writes and says what it overrode; within 2 s the burn goes ahead and reports the token's drift.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeSntpResponders, sntpResponder } from "../fixtures/sntp.js";
import { RpcClient, startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

async function daemonWithClockOff(offsetMs: number): Promise<{ d: DaemonProcess; c: RpcClient; session: string }> {
  const port = await sntpResponder(offsetMs);
  const d = await startDaemonProcess({ args: ["--ntp", `127.0.0.1:${port}`], env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
  const c = await RpcClient.native(d);
  const id = (await c.call("devices.list")).result.devices.find((x: any) => x.family === "single-profile" && x.state === "ready").id;
  const session = (await c.call("device.acquire", { id, previous: null })).result.session;
  return { d, c, session };
}

describe("daemon --ntp: the host clock before a token's clock is written", () => {
  const running: Array<{ d: DaemonProcess; c: RpcClient }> = [];
  afterAll(async () => {
    for (const { c, d } of running) {
      c.close();
      await d.stop();
    }
    await closeSntpResponders();
  });

  describe("host 5 s behind the server", () => {
    let rig: Awaited<ReturnType<typeof daemonWithClockOff>>;
    beforeAll(async () => {
      rig = await daemonWithClockOff(5_000);
      running.push(rig);
    });

    it("refuses token.burn and token.syncTime with CLOCK_UNTRUSTED, saying how far off and how to override", async () => {
      const burn = await rig.c.call("token.burn", { session: rig.session, label: "alice" });
      expect(burn.error).toMatchObject({ data: { reason: "CLOCK_UNTRUSTED" } });
      expect(burn.error.message).toMatch(
        /^the system clock is 5\.\d s behind 127\.0\.0\.1 \(limit 2 s\); not burning \(the call's force: true burns anyway\)$/,
      );
      const sync = await rig.c.call("token.syncTime", { session: rig.session, confirmSeedWipe: true });
      expect(sync.error).toMatchObject({ data: { reason: "CLOCK_UNTRUSTED" } });
      // Nothing was claimed: no token.burn batch in the journal.
      expect((await rig.c.call("batch.list")).result.batches).toEqual([]);
    });

    it("burns with force: true and lists what it overrode as warnings", async () => {
      const burn = await rig.c.call("token.burn", { session: rig.session, label: "alice", force: true });
      expect(burn.result.journal.state).toBe("committed");
      expect(burn.result.warnings).toEqual([expect.stringMatching(/^the system clock is 5\.\d s behind 127\.0\.0\.1 \(limit 2 s\)$/)]);
    });

    it("refuses batch.start unless forced", async () => {
      const batch = (await rig.c.call("batch.create", { name: "clock", generate: 1 })).result.batch;
      expect((await rig.c.call("batch.start", { batchId: batch.id })).error).toMatchObject({ data: { reason: "CLOCK_UNTRUSTED" } });
      expect((await rig.c.call("batch.status", { batchId: batch.id })).result.progress.state).toBe("created");
      const forced = await rig.c.call("batch.start", { batchId: batch.id, force: true });
      expect(forced.result.batch.state).toBe("running");
      expect(forced.result.warnings).toHaveLength(1);
      await rig.c.call("batch.cancel", { batchId: batch.id });
    });
  });

  it("burns when the host is within 2 s of the server, and reports the token's drift", async () => {
    const rig = await daemonWithClockOff(300);
    running.push(rig);
    const burn = await rig.c.call("token.burn", { session: rig.session });
    expect(burn.result.journal.state).toBe("committed");
    expect(burn.result.warnings).toBeUndefined();
    // The token counts whole seconds: read back within the same second or the next, so 0 or -1.
    expect(Math.abs(burn.result.clock.driftSeconds)).toBeLessThanOrEqual(1);
    expect(burn.result.clock.message).toMatch(/^token clock (matches the host|is 1 s (ahead of|behind) the host)$/);
  });

  it("refuses with NTP_UNAVAILABLE when the server does not answer", async () => {
    const port = await sntpResponder(0, { silent: true });
    const d = await startDaemonProcess({ args: ["--ntp", `127.0.0.1:${port}`], env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    const c = await RpcClient.native(d);
    running.push({ d, c });
    const id = (await c.call("devices.list")).result.devices.find((x: any) => x.family === "single-profile").id;
    const session = (await c.call("device.acquire", { id, previous: null })).result.session;
    expect((await c.call("token.burn", { session })).error).toMatchObject({ data: { reason: "NTP_UNAVAILABLE" } });
  });
});
