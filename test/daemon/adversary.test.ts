/**
 * The adversarial review's findings (docs/API.md "Security"), each reproduced against the real
 * daemon process through real ws clients. The attacker is another local user where the finding
 * needs one: test/fixtures/other-user.mjs run as uid nobody (the suite runs as root).
 */
import { connect } from "node:net";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, pairCommand, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";
import { asOtherUser, CAN_SWITCH_USER } from "../fixtures/other-user.js";

const MEMORY = { OTPBRIDGE_SIMULATE_LINK: "memory" };
const PAIRED = "https://helpdesk.example.com";

async function approve(d: DaemonProcess, code: string): Promise<void> {
  const approved = await pairCommand(d.dataDir, "approve", code, "--yes");
  if (approved.code !== 0) throw new Error(`pair approve exited ${approved.code}: ${approved.err}`);
}

/** Pairs `origin` with every capability through the CLI; resolves with the page's pairing secret. */
async function pairPage(d: DaemonProcess, origin: string): Promise<string> {
  const page = await RpcClient.open(d.port, { Origin: origin });
  await page.call("hello", { apiVersion: 1 });
  const { result } = await page.call("pairing.request", { capabilities: ["read", "burn", "batch", "export"] });
  await approve(d, result.code);
  const granted = await waitForEvent(page, "pairing.approved", () => true, 5_000);
  page.close();
  return granted!.params.secret;
}

describe.skipIf(!CAN_SWITCH_USER)("another local user against a paired origin (finding 1)", () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: MEMORY });
  });
  afterAll(async () => {
    await d.stop();
  });

  it("gets nothing by writing the paired site's Origin, and cannot tell that it is paired", async () => {
    const secret = await pairPage(d, PAIRED);
    const other = asOtherUser({ scenario: "forge", port: d.port, origin: PAIRED, tokenFile: join(d.dataDir, "daemon.token"), socketPath: d.socketPath });
    expect((await other.next("token")).token).toBe("EACCES");
    // The Unix socket is in the 0700 data directory: the other user cannot even reach it.
    expect(await other.next("unix")).toMatchObject({ opened: false, error: "EACCES" });
    const forged = await other.next("forged");
    for (const attempt of [forged.bare, forged.guessed]) {
      // Exactly what an origin that was never paired gets: hello.paired says nothing about the pairing.
      expect(attempt.hello.result).toMatchObject({ paired: false, capabilities: [] });
      expect(attempt.devices.error.data.reason).toBe("NOT_PAIRED");
      expect(attempt.exported.error.data.reason).toBe("NOT_PAIRED");
    }
    await other.finish();
    // The page that holds the secret is paired.
    const page = await RpcClient.open(d.port, { Origin: PAIRED });
    expect((await page.call("hello", { apiVersion: 1, pairing: secret })).result).toMatchObject({
      paired: true,
      capabilities: ["read", "burn", "batch", "export"],
    });
    page.close();
  });
});

describe.skipIf(!CAN_SWITCH_USER)("a flood of pairing requests (findings 2 and 7)", () => {
  it("leaves native clients answered within 1 s, writes nothing, and logs it in a few lines", async () => {
    const d = await startDaemonProcess({ env: MEMORY });
    try {
      const linesBefore = d.stderr.length;
      const flood = asOtherUser({ scenario: "flood", port: d.port, origin: "https://foreign.example", sockets: 20, seconds: 6 });
      // Let the flood build up, then ask as native clients (Unix socket, and TCP with the token proof) while it runs.
      await new Promise((r) => setTimeout(r, 1_500));
      const slowest: number[] = [];
      for (let i = 0; i < 5; i++) {
        for (const connect of [() => RpcClient.native(d), () => RpcClient.proven(d.port, d.token)]) {
          const started = Date.now();
          const c = await connect();
          slowest.push(Date.now() - started);
          c.close();
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      const flooded = await flood.next("flooded");
      await flood.finish();
      expect(flooded.sent).toBeGreaterThan(100);
      expect(Math.max(...slowest)).toBeLessThan(1_000);
      // Pending requests stay in memory: nothing was written.
      expect(existsSync(join(d.dataDir, "pairings.json"))).toBe(false);
      const floodLines = d.stderr.slice(linesBefore).filter((l) => !l.includes('"kind":"native"') && !l.includes('"client gone"') && !l.includes('"hello"'));
      expect(floodLines.length, floodLines.join("\n")).toBeLessThanOrEqual(6);
    } finally {
      await d.stop();
    }
  });

  it("counts every request of a JSON-RPC batch against the rate limit", async () => {
    const d = await startDaemonProcess({ env: MEMORY, args: ["--max-rate", "100"] });
    try {
      const c = await RpcClient.native(d);
      let answered = 0;
      let limited = 0;
      const done = new Promise<void>((resolve) => {
        c.ws.on("message", (data) => {
          const msg = JSON.parse(String(data));
          if (Array.isArray(msg)) answered += msg.filter((m) => m.result !== undefined).length;
          else if (msg.error?.data?.reason === "RATE_LIMITED") limited++;
          if (answered / 16 + limited >= 20) resolve();
        });
      });
      const batch = JSON.stringify(Array.from({ length: 16 }, (_, i) => ({ jsonrpc: "2.0", id: 100 + i, method: "devices.list" })));
      for (let i = 0; i < 20; i++) c.ws.send(batch);
      await done;
      // 320 requests at once against a burst of 200: the batches past the burst are refused.
      expect(answered).toBeLessThanOrEqual(208);
      expect(limited).toBeGreaterThanOrEqual(7);
      c.close();
    } finally {
      await d.stop();
    }
  });
});

describe.skipIf(!CAN_SWITCH_USER)("pending pairings and sockets (findings 3 and 4)", () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: MEMORY, args: ["--hello-timeout", "800", "--ping-interval", "400"] });
  });
  afterAll(async () => {
    await d.stop();
  });

  it("caps pending pairings per origin, and frees them when the sockets close", async () => {
    const other = asOtherUser({ scenario: "hold", port: d.port, origins: ["https://squatter.example"], count: 32, pair: true });
    const held = await other.next("holding");
    expect(held.opened).toBe(16);
    expect(held.pairing).toEqual({ ok: 4, limited: 12 });
    // Another origin is not locked out while they are held...
    const page = await RpcClient.open(d.port, { Origin: "https://victim.example" });
    await page.call("hello", { apiVersion: 1 });
    expect((await page.call("pairing.request", {})).result.code).toBeDefined();
    page.close();
    // ...and the squatter's own slots come back as soon as its sockets close.
    await other.finish();
    await new Promise((r) => setTimeout(r, 200));
    const native = await RpcClient.native(d);
    expect((await native.call("pairing.list", {})).result.pending.filter((p: any) => p.origin === "https://squatter.example")).toEqual([]);
    native.close();
  });

  it("keeps room for native clients when pages take every socket they may", async () => {
    const origins = Array.from({ length: 14 }, (_, i) => `https://o${i}.example`);
    const other = asOtherUser({ scenario: "hold", port: d.port, origins, count: 16 });
    const held = await other.next("holding", 120_000);
    // 256 sockets, 64 of them kept for native clients: pages get 192 at most.
    expect(held.opened).toBe(192);
    expect(held.refused).toEqual({ 503: 14 * 16 - 192 });
    const overTcp = await RpcClient.proven(d.port, d.token);
    const local = await RpcClient.native(d);
    expect((await local.call("devices.list")).result.devices.length).toBeGreaterThan(0);
    overTcp.close();
    local.close();
    await other.finish();
  });

  it("closes a socket that never says hello, and one whose client stopped answering pings", async () => {
    const silent = await RpcClient.open(d.port, { Origin: "https://silent.example" });
    expect(await silent.closed()).toBe(1008);
    // A stopped client (SIGSTOP) holds its sockets until the heartbeat cuts them: its origin's slots come back.
    const other = asOtherUser({ scenario: "hold", port: d.port, origins: ["https://stopped.example"], count: 16, pair: true });
    expect((await other.next("holding")).opened).toBe(16);
    await expect(RpcClient.open(d.port, { Origin: "https://stopped.example" })).rejects.toMatchObject({ status: 503 });
    other.child.kill("SIGSTOP");
    try {
      let back: RpcClient | undefined;
      for (let i = 0; i < 50 && back === undefined; i++) {
        await new Promise((r) => setTimeout(r, 100));
        back = await RpcClient.open(d.port, { Origin: "https://stopped.example" }).catch(() => undefined);
      }
      expect(back).toBeDefined();
      back!.close();
    } finally {
      other.child.kill("SIGKILL");
    }
  });

  it("does not count malformed upgrades against an origin's sockets", async () => {
    for (let i = 0; i < 20; i++) {
      const socket = connect({ host: "127.0.0.1", port: d.port });
      socket.on("error", () => {});
      socket.resume();
      socket.write(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://broken.example\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
      await new Promise((resolve) => socket.once("close", resolve));
    }
    const page = await RpcClient.open(d.port, { Origin: "https://broken.example" });
    page.close();
  });

  it("drops a connection whose request headers never end", async () => {
    const socket = connect({ host: "127.0.0.1", port: d.port });
    socket.write("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n");
    let answer = "";
    socket.on("data", (chunk) => (answer += chunk));
    const closedAfter = await new Promise<number>((resolve) => {
      const started = Date.now();
      socket.on("error", () => {});
      socket.on("close", () => resolve(Date.now() - started));
    });
    // Node's default would hold it for about a minute; the daemon's header deadline is 5 s.
    expect(closedAfter).toBeLessThan(15_000);
    expect(answer).toMatch(/^HTTP\/1.1 408 /);
  });
});

describe.skipIf(!CAN_SWITCH_USER)("a port squatter (finding 5)", () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: MEMORY });
  });
  afterAll(async () => {
    await d.stop();
  });

  it("cannot pass as the daemon: the native client finds out before it proves anything", async () => {
    const squatter = asOtherUser({ scenario: "squat" });
    const { port } = await squatter.next("listening");
    await expect(RpcClient.proven(port, d.token)).rejects.toThrow("not the daemon");
    await squatter.finish();
    const { received } = await squatter.next("received");
    const heard = received.join("\n");
    expect(heard).not.toContain(d.token);
    expect(heard).not.toContain("auth.prove");
  });

  it("cannot relay a native client's proof to the real daemon", async () => {
    const relay = asOtherUser({ scenario: "squat", relay: d.port });
    const { port } = await relay.next("listening");
    // The daemon's proof names the relay's connection, not the client's: a careful client stops there.
    await expect(RpcClient.proven(port, d.token)).rejects.toThrow("not the daemon");
    // A careless client that proves anyway gets nothing either: its proof names its own connection.
    await expect(RpcClient.proven(port, d.token, { careless: true })).rejects.toMatchObject({ reason: "UNAUTHORIZED" });
    await relay.finish();
    expect((await relay.next("received")).received.join("")).not.toContain(d.token);
    // Through the daemon's own port, the same client is let in.
    const direct = await RpcClient.proven(d.port, d.token);
    expect((await direct.call("devices.list")).result.devices.length).toBeGreaterThan(0);
    direct.close();
  });

  it("caps TCP natives that have not proved the token, not those that have", async () => {
    const proven = [];
    for (let i = 0; i < 20; i++) proven.push(await RpcClient.proven(d.port, d.token));
    const unproven = [];
    for (let i = 0; i < 16; i++) unproven.push(await RpcClient.open(d.port, { Authorization: "OtpbridgeProof" }));
    await expect(RpcClient.open(d.port, { Authorization: "OtpbridgeProof" })).rejects.toMatchObject({ status: 503 });
    for (const c of [...proven, ...unproven]) c.close();
  });

  it("keeps the data directory's Unix socket to the daemon's user", () => {
    expect(statSync(d.socketPath).isSocket()).toBe(true);
    expect(statSync(d.socketPath).mode & 0o077).toBe(0);
    expect(statSync(d.dataDir).mode & 0o077).toBe(0);
  });
});
