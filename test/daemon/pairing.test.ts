/**
 * Browser pairing, end to end: a page's connection (ws with an Origin header) asks for pairing,
 * the user approves the code with the real `otpbridge pair` command in another process (which asks
 * the running daemon over its Unix socket), the page receives the pairing secret and uses what it was
 * granted (and nothing more), the user revokes it, and the page is refused again.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, pairCommand, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";

const ORIGIN = "https://helpdesk.example.com";

const pair = (d: DaemonProcess, ...args: string[]): ReturnType<typeof pairCommand> => pairCommand(d.dataDir, ...args);

describe("browser pairing through the CLI", () => {
  let d: DaemonProcess;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
  });
  afterAll(async () => {
    await d.stop();
  });

  it("goes pending, approved (secret to the asking page), used, revoked, refused again", async () => {
    const page = await RpcClient.open(d.port, { Origin: ORIGIN });
    const hello = await page.call("hello", { apiVersion: 1 });
    expect(hello.result).toMatchObject({ paired: false, capabilities: [], client: { kind: "browser", origin: ORIGIN } });
    expect((await page.call("devices.list")).error).toMatchObject({ code: -32000, data: { reason: "NOT_PAIRED" } });

    // Pending: the page gets a short code to show (and no ready-made command); the user sees it with `pair list`.
    const request = await page.call("pairing.request", { capabilities: ["read", "burn"] });
    expect(request.result.code).toMatch(/^[2-9A-HJKMNP-Z]{8}$/);
    expect(request.result.approveWith).toBeUndefined();
    const listed = await pair(d, "list");
    expect(listed.out).toContain(`pending   ${request.result.code}  ${ORIGIN}  read,burn`);
    // Pending requests are not written anywhere.
    expect(existsSync(join(d.dataDir, "pairings.json"))).toBe(false);
    expect(statSync(join(d.dataDir, "daemon.token")).mode & 0o777).toBe(0o600);

    // A wrong code approves nothing; without a terminal and without --yes, nothing is approved either,
    // and the user is shown the origin and capabilities before any approval.
    expect((await pair(d, "approve", "ZZZZZZZZ", "--yes")).code).toBe(2);
    const unconfirmed = await pair(d, "approve", request.result.code);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.err).toContain(`The page at ${ORIGIN} asks for: read, burn.`);
    expect((await page.call("devices.list")).error.data.reason).toBe("NOT_PAIRED");

    // Approved with read only (narrower than asked): the asking page gets the secret and reads at once; burns are denied.
    const approved = await pair(d, "approve", request.result.code, "--capabilities", "read", "--yes");
    expect(approved.out.trim()).toBe(`approved ${ORIGIN} with read`);
    const granted = await waitForEvent(page, "pairing.approved", () => true, 5_000);
    expect(granted?.params).toMatchObject({ origin: ORIGIN, capabilities: ["read"] });
    const secret: string = granted!.params.secret;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(join(d.dataDir, "pairings.json"), "utf8")).not.toContain(secret);
    expect(statSync(join(d.dataDir, "pairings.json")).mode & 0o077).toBe(0);
    const devices = await page.call("devices.list");
    expect(devices.result.devices.length).toBeGreaterThan(0);
    const sp = devices.result.devices.find((x: any) => x.family === "single-profile");
    const lease = await page.call("device.acquire", { id: sp.id, previous: null });
    expect((await page.call("token.info", { session: lease.result.session })).result.serial).toBe(sp.serial);
    expect((await page.call("token.burn", { session: lease.result.session })).error).toMatchObject({
      code: -32004,
      data: { reason: "CAPABILITY_DENIED", capability: "burn" },
    });
    expect((await page.call("journal.export", { batchId: 1 })).error.data.reason).toBe("CAPABILITY_DENIED");

    // A new page of the same origin is paired when it presents the secret (from its storage), not by its Origin.
    const bare = await RpcClient.open(d.port, { Origin: ORIGIN });
    expect((await bare.call("hello", { apiVersion: 1 })).result).toMatchObject({ paired: false, capabilities: [] });
    const again = await RpcClient.open(d.port, { Origin: ORIGIN });
    expect((await again.call("hello", { apiVersion: 1, pairing: secret })).result).toMatchObject({ paired: true, capabilities: ["read"] });
    expect((await pair(d, "approve", request.result.code, "--yes")).code).toBe(2);

    // Revoked: both pages are refused from the next call on, and the page's session ended at once.
    expect((await pair(d, "revoke", ORIGIN)).out.trim()).toBe(`revoked ${ORIGIN}`);
    expect((await page.call("devices.list")).error.data.reason).toBe("NOT_PAIRED");
    expect((await again.call("token.info", { session: lease.result.session })).error.data.reason).toBe("NOT_PAIRED");
    expect(await waitForEvent(page, "pairing.revoked", () => true, 5_000)).toBeDefined();
    const native = await RpcClient.native(d);
    const taken = await native.call("device.acquire", { id: sp.id, previous: null });
    expect(taken.result.session).toBeDefined();
    expect((await pair(d, "list")).out.trim()).toBe("no pairings");
    for (const c of [page, bare, again, native]) c.close();
  });

  it("gives a read-only page no live codes and no walk through the journal (design notes of finding 10)", async () => {
    const native = await RpcClient.native(d);
    const devices = (await native.call("devices.list")).result.devices;
    const applet = devices.find((x: any) => x.family === "otp-applet");
    const held = (await native.call("device.acquire", { id: applet.id, previous: null })).result.session;
    await native.call("otpApplet.add", { session: held, account: "reader-test", seed: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" });
    expect((await native.call("otpApplet.list", { session: held })).result.entries.find((e: any) => e.account === "reader-test").code).toMatch(/^\d{6}$/);
    const burned = await native.call("device.acquire", { id: devices.find((x: any) => x.family === "single-profile").id, previous: null });
    const item = (await native.call("token.burn", { session: burned.result.session })).result.journal.itemId;
    await native.call("device.release", { session: held });
    await native.call("device.release", { session: burned.result.session });
    // The native client sees the codes and the item.
    expect((await native.call("journal.item", { itemId: item })).result.item).toBeDefined();

    const page = await RpcClient.open(d.port, { Origin: "https://reader.example.com" });
    await page.call("hello", { apiVersion: 1 });
    const { code } = (await page.call("pairing.request", { capabilities: ["read"] })).result;
    expect((await pair(d, "approve", code, "--yes")).code).toBe(0);
    await waitForEvent(page, "pairing.approved", () => true, 5_000);
    const session = (await page.call("device.acquire", { id: applet.id, previous: null })).result.session;
    const entries = (await page.call("otpApplet.list", { session })).result.entries;
    const entry = entries.find((e: any) => e.account === "reader-test");
    expect(entry).toBeDefined();
    expect(entry.code).toBeUndefined();
    expect((await page.call("otpApplet.code", { session, account: "reader-test" })).error.data).toMatchObject({
      reason: "CAPABILITY_DENIED",
      capability: "export",
    });
    expect((await page.call("journal.item", { itemId: item })).error.data).toMatchObject({ reason: "CAPABILITY_DENIED", capability: "batch" });
    page.close();
    native.close();
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
