/**
 * The examples, run as a user would, against the real daemon (--simulate, in memory):
 * burn-token.mjs over the daemon's Unix socket, tcp-proof.mjs over TCP with the token proof.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { REPO_ROOT } from "../fixtures/pcscd.js";
import { startDaemonProcess } from "../fixtures/daemon.js";

it("lists the devices and burns a token", async () => {
  const d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, "examples/burn-token.mjs"), "--data-dir", d.dataDir]);
    expect(stdout).toMatch(/^connected to otpbridge \S+ \(capabilities: read, burn, batch, export\)$/m);
    expect(stdout).toMatch(/pcsc:Simulated Molto2\s+molto2/);
    expect(stdout).toMatch(/^burned OTPC-P2-i 86596221000001: it should show \d{6} now \(journal item 1, committed\)$/m);
  } finally {
    await d.stop();
  }
});

it("proves the token over TCP, and tells a port squatter from the daemon without giving it anything", async () => {
  const d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
  const squatter = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  const heard: string[] = [];
  squatter.on("connection", (ws) =>
    ws.on("message", (data) => {
      heard.push(String(data));
      const msg = JSON.parse(String(data));
      const result = msg.method === "auth.challenge" ? { nonce: "B".repeat(43), proof: "C".repeat(43) } : { apiVersion: 1, paired: false, capabilities: [] };
      ws.send(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result }));
    }),
  );
  await new Promise((resolve) => squatter.once("listening", resolve));
  try {
    const example = join(REPO_ROOT, "examples/tcp-proof.mjs");
    const { stdout } = await promisify(execFile)(process.execPath, [example, "--port", String(d.port), "--data-dir", d.dataDir]);
    expect(stdout).toMatch(/^proved the token to the daemon \(capabilities: read, burn, batch, export\)$/m);
    expect(stdout).toMatch(/pcsc:Simulated Molto2\s+molto2/);
    const squatted = await promisify(execFile)(process.execPath, [
      example,
      "--port",
      String((squatter.address() as { port: number }).port),
      "--data-dir",
      d.dataDir,
    ]).catch((error) => error);
    expect(squatted.code).toBe(1);
    expect(squatted.stderr).toMatch(/does not know the token: it is not the daemon/);
    expect(heard.map((m) => JSON.parse(m).method)).toEqual(["hello", "auth.challenge"]);
    expect(heard.join("")).not.toContain(d.token);
  } finally {
    squatter.close();
    await d.stop();
  }
});
