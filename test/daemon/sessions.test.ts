/**
 * Device sessions (trezord-go style leases) against the real daemon process, in-memory readers:
 * contention, compare-and-swap acquire, take-over, release on close, and the burn's journal
 * record. One call in flight and no take-over during a call are in core.test.ts (deterministic). The disconnect in the middle of a burn is in pcsc.e2e.test.ts (vpcd makes a
 * burn long enough to be cut).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";

describe("device sessions", () => {
  let d: DaemonProcess;
  let a: RpcClient;
  let b: RpcClient;
  let deviceId: string;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    a = await RpcClient.native(d);
    b = await RpcClient.native(d);
    deviceId = (await a.call("devices.list")).result.devices.find((x: any) => x.family === "single-profile").id;
  });
  afterAll(async () => {
    a.close();
    b.close();
    await d.stop();
  });

  it("gives the second of two contending clients DEVICE_BUSY, and the device to it once released", async () => {
    const first = await a.call("device.acquire", { id: deviceId, previous: null });
    expect(first.result.session).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect((await b.call("device.acquire", { id: deviceId, previous: null })).error).toMatchObject({ code: -32030, data: { reason: "DEVICE_BUSY" } });
    // The other client's session id is no key to the device.
    expect((await b.call("token.info", { session: first.result.session })).error).toMatchObject({ code: -32005, data: { reason: "NOT_ACQUIRED" } });
    const listed = (await b.call("devices.list")).result.devices.find((x: any) => x.id === deviceId);
    expect(listed.session).toBe(first.result.session);
    expect((await a.call("device.release", { session: first.result.session })).result).toEqual({ released: true });
    const second = await b.call("device.acquire", { id: deviceId, previous: null });
    expect(second.result.session).not.toBe(first.result.session);
    expect((await a.call("token.info", { session: first.result.session })).error.data.reason).toBe("NOT_ACQUIRED");
    await b.call("device.release", { session: second.result.session });
  });

  it("refuses a compare-and-swap acquire with a stale previous, and takes over with the current one", async () => {
    const s1 = (await a.call("device.acquire", { id: deviceId, previous: null })).result.session;
    const s2 = (await a.call("device.acquire", { id: deviceId, previous: s1 })).result.session;
    expect(s2).not.toBe(s1);
    expect((await b.call("device.acquire", { id: deviceId, previous: s1 })).error).toMatchObject({ code: -32006, data: { reason: "WRONG_PREVIOUS_SESSION" } });
    const s3 = await b.call("device.acquire", { id: deviceId, previous: s2 });
    expect(s3.result.session).toBeDefined();
    const ended = await waitForEvent(a, "device.sessionEnded", (p) => p.session === s2, 1_000);
    expect(ended?.params).toEqual({ session: s2, id: deviceId, reason: "taken-over" });
    expect((await a.call("token.info", { session: s2 })).error.data.reason).toBe("NOT_ACQUIRED");
    await b.call("device.release", { session: s3.result.session });
    expect((await a.call("device.acquire", { id: deviceId, previous: s3.result.session })).error.data.reason).toBe("WRONG_PREVIOUS_SESSION");
  });

  it("burns a daemon-generated seed through the journal and returns it only to an export", async () => {
    const s = (await a.call("device.acquire", { id: deviceId, previous: null })).result.session;
    const burned = await a.call("token.burn", { session: s, label: "alice@example.com" });
    const text = JSON.stringify(burned);
    expect(burned.result.codes.current).toMatch(/^\d{6}$/);
    expect(text).not.toMatch(/seed/i);
    const item = await a.call("journal.item", { itemId: burned.result.journal.itemId });
    expect(item.result.item).toMatchObject({ state: "committed", serial: burned.result.serial, label: "alice@example.com", algorithm: "SHA1", period: 30 });
    const exported = await a.call("journal.export", { batchId: burned.result.journal.batchId });
    expect(exported.result.uris).toHaveLength(1);
    expect(exported.result.uris[0]).toMatch(/^otpauth:\/\/totp\/alice%40example\.com\?secret=[A-Z2-7]{32}&/);
    // The daemon's log never carries the seed.
    const secret = /secret=([A-Z2-7]+)/.exec(exported.result.uris[0])![1]!;
    expect(d.stderr.join("\n")).not.toContain(secret);
    await a.call("device.release", { session: s });
  });

  it("burns a seed the client sends, exactly as sent", async () => {
    const s = (await a.call("device.acquire", { id: deviceId, previous: null })).result.session;
    const seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // RFC 6238's "12345678901234567890"
    const burned = await a.call("token.burn", { session: s, seed, label: "bob" });
    expect(burned.result.journal.state).toBe("committed");
    const exported = await a.call("journal.export", { batchId: burned.result.journal.batchId });
    expect(exported.result.uris[0]).toContain(`secret=${seed}&`);
    expect((await a.call("token.burn", { session: s, seed: "GEZDGNBV" })).error).toMatchObject({ code: -32602, data: { reason: "INVALID_INPUT" } });
    expect((await a.call("token.burn", { session: s, seed: "not base32!" })).error.data.reason).toBe("INVALID_SECRET_FORMAT");
    await a.call("device.release", { session: s });
  });

  it("answers bad params with INVALID_INPUT and a wrong family with WRONG_FAMILY", async () => {
    const molto2 = (await a.call("devices.list")).result.devices.find((x: any) => x.family === "molto2").id;
    const s = (await a.call("device.acquire", { id: molto2, previous: null })).result.session;
    expect((await a.call("token.burn", { session: s })).error).toMatchObject({ code: -32009, data: { reason: "WRONG_FAMILY" } });
    expect((await a.call("token.burn", { session: s, period: 45 })).error).toMatchObject({ code: -32602, data: { reason: "INVALID_INPUT" } });
    // The simulated Molto2 has the factory key: the result says so (docs/PROTOCOL.md §3.2).
    expect((await a.call("molto2.write", { session: s, profile: 3, title: "GitHub", seed: "JBSWY3DPEHPK3PXP" })).result).toEqual({
      profile: 3,
      written: ["seed", "title", "config"],
      entry: { profile: 3, title: "GitHub", flag: 32, seedPresent: true, algorithm: "SHA1", digits: 6, period: 30 },
      warnings: [{ code: "default-key", message: expect.stringMatching(/still uses the public factory customer key/) }],
    });
    const listed = await a.call("molto2.list", { session: s });
    expect(listed.result.warnings).toBeUndefined(); // public reads only: no authentication
    expect(listed.result.profiles.find((p: any) => p.profile === 3).title).toBe("GitHub");
    expect((await a.call("device.acquire", { id: "pcsc:No Such Reader", previous: null })).error.data.reason).toBe("NO_DEVICE");
    await a.call("device.release", { session: s });
  });

  it("logs structured JSON lines only, none of them with a seed or a URI", async () => {
    expect(d.stderr.length).toBeGreaterThan(5);
    for (const line of d.stderr) {
      const entry = JSON.parse(line);
      expect(typeof entry.msg).toBe("string");
      expect(line).not.toMatch(/secret=|otpauth:|JBSWY3DPEHPK3PXP/);
    }
  });

  it("releases a client's sessions when its socket closes", async () => {
    const c = await RpcClient.native(d);
    await c.call("device.acquire", { id: deviceId, previous: null });
    expect((await a.call("device.acquire", { id: deviceId, previous: null })).error.data.reason).toBe("DEVICE_BUSY");
    c.close();
    await c.closed();
    const deadline = Date.now() + 2_000;
    let got: any;
    do got = await a.call("device.acquire", { id: deviceId, previous: null });
    while (got.error !== undefined && Date.now() < deadline);
    expect(got.result.session).toBeDefined();
    await a.call("device.release", { session: got.result.session });
  });
});
