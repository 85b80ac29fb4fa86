/** examples/burn-token.mjs, run as a user would, against the real daemon (--simulate, in memory). */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/pcscd.js";
import { startDaemonProcess } from "../fixtures/daemon.js";

it("lists the devices and burns a token", async () => {
  const d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, "examples/burn-token.mjs"), "--port", String(d.port), "--data-dir", d.dataDir]);
    expect(stdout).toMatch(/^connected to otpbridge \S+ \(capabilities: read, burn, batch, export\)$/m);
    expect(stdout).toMatch(/pcsc:Simulated Molto2\s+molto2/);
    expect(stdout).toMatch(/^burned OTPC-P2-i 86596221000001: it should show \d{6} now \(journal item 1, committed\)$/m);
  } finally {
    await d.stop();
  }
});
