/**
 * Browser pairing, end to end: a page's connection (ws with an Origin header) asks for pairing,
 * the user approves the code with the real `otpbridge pair` command in another process, the page
 * uses what it was granted (and nothing more), the user revokes it, and the page is refused again.
 */
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/pcscd.js";
import { RpcClient, startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

const run = promisify(execFile);
const ORIGIN = "https://helpdesk.example.com";

async function pair(d: DaemonProcess, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  try {
    const r = await run(process.execPath, [join(REPO_ROOT, "test/transports/helpers/run-ts.mjs"), join(REPO_ROOT, "test/fixtures/cli-child.ts"), "pair", ...args, "--data-dir", d.dataDir], { cwd: REPO_ROOT });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, out: e.stdout, err: e.stderr };
  }
}

describe("browser pairing through the CLI", () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
  });
  afterAll(async () => {
    await d.stop();
  });

  it("goes pending, approved, used, revoked, refused again", async () => {
    const page = await RpcClient.open(d.port, { Origin: ORIGIN });
    const hello = await page.call("hello", { apiVersion: 1 });
    expect(hello.result).toMatchObject({ paired: false, capabilities: [], client: { kind: "browser", origin: ORIGIN } });
    expect((await page.call("devices.list")).error).toMatchObject({ code: -32000, data: { reason: "NOT_PAIRED" } });

    // Pending: the page gets a short code to show; the user sees it with `pair list`.
    const request = await page.call("pairing.request", { capabilities: ["read", "burn"] });
    expect(request.result.code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    const listed = await pair(d, "list");
    expect(listed.out).toContain(`pending   ${request.result.code}  ${ORIGIN}  read,burn`);
    expect(statSync(join(d.dataDir, "pairings.json")).mode & 0o077).toBe(0);
    expect(statSync(join(d.dataDir, "daemon.token")).mode & 0o777).toBe(0o600);

    // A wrong code approves nothing.
    expect((await pair(d, "approve", "ZZZZZZZZ")).code).toBe(2);

    // Approved with read only (narrower than asked): reads work at once, burns are denied.
    const approved = await pair(d, "approve", request.result.code, "--capabilities", "read");
    expect(approved.out.trim()).toBe(`approved ${ORIGIN} with read`);
    const devices = await page.call("devices.list");
    expect(devices.result.devices.length).toBeGreaterThan(0);
    const sp = devices.result.devices.find((x: any) => x.family === "single-profile");
    const lease = await page.call("device.acquire", { id: sp.id, previous: null });
    expect((await page.call("token.info", { session: lease.result.session })).result.serial).toBe(sp.serial);
    expect((await page.call("token.burn", { session: lease.result.session })).error).toMatchObject({
      code: -32004, data: { reason: "CAPABILITY_DENIED", capability: "burn" },
    });
    expect((await page.call("journal.export", { batchId: 1 })).error.data.reason).toBe("CAPABILITY_DENIED");

    // A new page of the same origin is paired too; a code is used once.
    const again = await RpcClient.open(d.port, { Origin: ORIGIN });
    expect((await again.call("hello", { apiVersion: 1 })).result).toMatchObject({ paired: true, capabilities: ["read"] });
    expect((await pair(d, "approve", request.result.code)).code).toBe(2);

    // Revoked: both pages are refused from the next call on.
    expect((await pair(d, "revoke", ORIGIN)).out.trim()).toBe(`revoked ${ORIGIN}`);
    expect((await page.call("devices.list")).error.data.reason).toBe("NOT_PAIRED");
    expect((await again.call("token.info", { session: lease.result.session })).error.data.reason).toBe("NOT_PAIRED");
    expect((await pair(d, "list")).out.trim()).toBe("no pairings");
    page.close();
    again.close();
  });

  it("lets a plain-http page pair only from a loopback origin", async () => {
    const local = await RpcClient.open(d.port, { Origin: `http://localhost:8080` });
    await local.call("hello", { apiVersion: 1 });
    expect((await local.call("pairing.request", {})).result.capabilities).toEqual(["read"]);
    local.close();
    await expect(RpcClient.open(d.port, { Origin: "http://192.168.1.10" })).rejects.toMatchObject({ status: 403 });
  });

  it("keeps pairing for browsers: a native client cannot request it", async () => {
    const native = await RpcClient.native(d);
    expect((await native.call("pairing.request", {})).error.data.reason).toBe("INVALID_INPUT");
    native.close();
  });
});
