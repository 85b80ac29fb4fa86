/**
 * Who is let in, and what a hostile or broken client cannot do: against the real daemon process
 * (--simulate, in-memory readers) through the real ws client. A browser is a WebSocket client
 * that sends an Origin header; sending that header from ws is what a page's connection does.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

const MEMORY = { OTPBRIDGE_SIMULATE_LINK: "memory" };

describe("daemon upgrade checks", () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    // A rate limit above the 1,000-message burst below: that test is about malformed input.
    d = await startDaemonProcess({ env: MEMORY, args: ["--max-rate", "2000"] });
  });
  afterAll(async () => {
    const code = await d.stop();
    expect(code, d.stderr.slice(-5).join("\n")).toBe(0);
  });

  it.each([
    ["a foreign plain-http origin", { Origin: "http://evil.example" }, 403, "FORBIDDEN_ORIGIN"],
    ["Origin: null", { Origin: "null" }, 403, "FORBIDDEN_ORIGIN"],
    ["a wildcard origin", { Origin: "https://*.example.com" }, 403, "FORBIDDEN_ORIGIN"],
    ["an origin with a path", { Origin: "https://good.example/app" }, 403, "FORBIDDEN_ORIGIN"],
    ["no Origin and no token", {}, 401, "UNAUTHORIZED"],
    ["no Origin and a wrong token", { Authorization: "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, 401, "UNAUTHORIZED"],
  ])("refuses %s before the upgrade", async (_name, headers, status, reason) => {
    await expect(RpcClient.open(d.port, headers as Record<string, string>)).rejects.toMatchObject({ status, reason });
  });

  it("refuses a Host that is not a loopback name (DNS rebinding), even with the right token", async () => {
    await expect(RpcClient.open(d.port, { Host: "attacker.example:80", Authorization: `Bearer ${d.token}` })).rejects.toMatchObject({
      status: 403,
      reason: "FORBIDDEN_HOST",
    });
    const ok = await RpcClient.open(d.port, { Host: `localhost:${d.port}`, Authorization: `Bearer ${d.token}` });
    ok.close();
  });

  it("answers on ::1 too", async () => {
    const c = await RpcClient.open(d.port, { Authorization: `Bearer ${d.token}` }, { host: "[::1]" });
    expect((await c.call("hello", { apiVersion: 1 })).result.apiVersion).toBe(1);
    c.close();
  });

  it("wants hello first, and refuses an apiVersion it does not speak", async () => {
    const c = await RpcClient.open(d.port, { Authorization: `Bearer ${d.token}` });
    expect((await c.call("devices.list")).error.data.reason).toBe("HELLO_REQUIRED");
    expect((await c.call("hello", { apiVersion: 99 })).error).toMatchObject({ code: -32007, data: { reason: "HELLO_REQUIRED", supported: [1] } });
    expect((await c.call("hello", { apiVersion: 1 })).result.capabilities).toEqual(["read", "burn", "batch", "export"]);
    c.close();
  });

  it("closes a socket whose message is over the size limit with 1009", async () => {
    const c = await RpcClient.native(d);
    const closed = c.closed();
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "devices.list", params: { pad: "x".repeat(70_000) } }));
    expect(await closed).toBe(1009);
  });

  it("keeps answering normally after 1,000 malformed messages", async () => {
    const c = await RpcClient.native(d);
    const bad = [
      "{",
      "null",
      "[]",
      "42",
      '"str"',
      '{"jsonrpc":"1.0","id":1,"method":"hello"}',
      '{"jsonrpc":"2.0","id":{},"method":"x"}',
      '{"jsonrpc":"2.0","id":1,"method":"devices.list","params":"nope"}',
      '{"jsonrpc":"2.0","id":1,"method":"no.such"}',
      '{"jsonrpc":"2.0","id":1,"method":"device.acquire","params":{"id":5}}',
      '{"jsonrpc":"2.0","id":1,"method":"token.burn","params":{"session":"x","seed":"!!"}}',
      '{"jsonrpc":"2.0","id":1,"method":"token.burn","params":[1,2]}',
      "\u0000\u0001",
      `{"jsonrpc":"2.0","method":${"[".repeat(500)}`,
    ];
    const replies: any[] = [];
    c.ws.on("message", (m) => replies.push(JSON.parse(String(m))));
    for (let i = 0; i < 1000; i++) c.ws.send(bad[i % bad.length]!);
    const list = await c.call("devices.list");
    expect(list.result.devices.length).toBeGreaterThanOrEqual(4);
    // Every error carries a code and a stable reason; nothing crashed, nothing was rate limited.
    const errors = replies.filter((r) => r.error !== undefined);
    expect(errors.length).toBeGreaterThan(500);
    for (const r of errors) {
      expect(typeof r.error.code).toBe("number");
      expect(typeof r.error.data.reason).toBe("string");
      expect(r.error.data.reason).not.toBe("INTERNAL");
    }
    expect(errors.some((r) => r.error.code === -32700)).toBe(true);
    expect(errors.some((r) => r.error.code === -32600)).toBe(true);
    expect(errors.some((r) => r.error.code === -32601)).toBe(true);
    expect(errors.some((r) => r.error.code === -32602)).toBe(true);
    expect(errors.some((r) => r.error.data?.reason === "RATE_LIMITED")).toBe(false);
    c.close();
  });
});

describe("daemon rate limit", () => {
  it("answers RATE_LIMITED past the limit, then disconnects a client that keeps flooding (1008)", async () => {
    const d = await startDaemonProcess({ env: MEMORY, args: ["--max-rate", "20", "--max-sockets", "3"] });
    try {
      const c = await RpcClient.native(d);
      const limited: any[] = [];
      c.ws.on("message", (m) => {
        const r = JSON.parse(String(m));
        if (r.error?.data?.reason === "RATE_LIMITED") limited.push(r);
      });
      const closed = c.closed();
      for (let i = 0; i < 400 && c.ws.readyState === c.ws.OPEN; i++) c.ws.send('{"jsonrpc":"2.0","id":1,"method":"devices.list"}');
      expect(await closed).toBe(1008);
      expect(limited.length).toBeGreaterThan(0);
      expect(limited[0].error).toMatchObject({ code: -32003, data: { reason: "RATE_LIMITED" } });
      expect(limited[0].error.data.retryAfterMs).toBeGreaterThan(0);
      // Other clients are not affected.
      const other = await RpcClient.native(d);
      expect((await other.call("devices.list")).result.devices.length).toBeGreaterThan(0);
      // The socket limit (3 here, per listener) is checked at the upgrade: 503 for the fourth.
      const more = [await RpcClient.native(d), await RpcClient.native(d)];
      await expect(RpcClient.openLocal(d.socketPath)).rejects.toMatchObject({ status: 503, reason: "RATE_LIMITED" });
      for (const c of [other, ...more]) c.close();
    } finally {
      await d.stop();
    }
  });
});
