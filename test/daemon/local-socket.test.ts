/**
 * The daemon's Unix socket at start: a socket a dead daemon left behind is removed, a live daemon on
 * the same data directory stops the second one with a clear reason, and a data directory too deep
 * for a socket path is refused naming the path. Real daemon processes.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RpcClient, startDaemonProcess } from "../fixtures/daemon.js";

const MEMORY = { OTPBRIDGE_SIMULATE_LINK: "memory" };

describe("the daemon's Unix socket", () => {
  it("replaces the socket of a daemon that died, and refuses to start beside a live one", async () => {
    const first = await startDaemonProcess({ env: MEMORY });
    first.child.kill("SIGKILL");
    await first.stop();
    expect(existsSync(first.socketPath)).toBe(true);
    const second = await startDaemonProcess({ env: MEMORY, dataDir: first.dataDir });
    try {
      const c = await RpcClient.native(second);
      expect((await c.call("devices.list")).result.devices.length).toBeGreaterThan(0);
      c.close();
      await expect(startDaemonProcess({ env: MEMORY, dataDir: first.dataDir })).rejects.toThrow(
        /exited 75: [\s\S]*another otpbridge daemon answers on .*daemon\.sock/,
      );
    } finally {
      await second.stop();
    }
    // A clean stop takes its socket away.
    expect(existsSync(second.socketPath)).toBe(false);
  });

  it("refuses a data directory whose socket path would not fit, naming the path", async () => {
    const deep = join(mkdtempSync(join(tmpdir(), "otpb-sock-")), "d".repeat(60), "e".repeat(40));
    mkdirSync(deep, { recursive: true, mode: 0o700 });
    await expect(startDaemonProcess({ env: MEMORY, dataDir: deep })).rejects.toThrow(
      new RegExp(`exited 2: [\\s\\S]*${join(deep, "daemon.sock")} is \\d+ bytes, over the 107`),
    );
  });
});
