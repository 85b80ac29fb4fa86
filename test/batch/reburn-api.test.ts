/**
 * batch.reburnItem through the real daemon process (`--simulate` on in-memory readers with two
 * single-profile tokens, a batch of three): only a committed or failed item of the running batch is
 * armed, with its reason otherwise (ITEM_STATE, ITEM_NOT_FOUND, BATCH_STATE, INVALID_INPUT); the
 * armed item shows in batch.status until the batch is cancelled; a page without the `batch`
 * capability is refused. The tap that takes an armed item is proven on pcscd in
 * test/console/reburn.e2e.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, pairCommand, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";

describe("batch.reburnItem", () => {
  let d: DaemonProcess;
  let c: RpcClient;

  beforeAll(async () => {
    d = await startDaemonProcess({ args: ["--simulate-tokens", "2"], env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    c = await RpcClient.native(d);
  }, 60_000);

  afterAll(async () => {
    c?.close();
    if (d !== undefined) await d.stop();
  });

  it("arms a committed item of the running batch, refuses the others with their reasons, and drops the arm on cancel", async () => {
    const batchId = (await c.call("batch.create", { name: "three", generate: 3 })).result.batch.id;
    await c.call("batch.start", { batchId });
    await waitForEvent(c, "batch.progress", (p) => p.batchId === batchId && p.done === 2 && p.inFlight === 0, 10_000);
    const items = c.events.filter((e) => e.method === "batch.item" && e.params.batchId === batchId && e.params.outcome === "committed").map((e) => e.params);
    expect(items).toHaveLength(2);
    const [first, second] = items;
    const pending = Math.max(first.itemId, second.itemId) + 1;

    const armed = await c.call("batch.reburnItem", { batchId, itemId: first.itemId });
    expect(armed.result).toEqual({ batchId, itemId: first.itemId, serial: first.serial, state: "committed" });
    expect((await c.call("batch.status", { batchId })).result.progress.reburnItemId).toBe(first.itemId);
    // A second call replaces the first: one item at a time.
    await c.call("batch.reburnItem", { batchId, itemId: second.itemId });
    expect((await c.call("batch.status", { batchId })).result.progress.reburnItemId).toBe(second.itemId);

    expect((await c.call("batch.reburnItem", { batchId, itemId: pending })).error.data).toMatchObject({ reason: "ITEM_STATE", state: "pending" });
    expect((await c.call("batch.reburnItem", { batchId, itemId: 9999 })).error.data.reason).toBe("ITEM_NOT_FOUND");
    expect((await c.call("batch.reburnItem", { batchId })).error.data.reason).toBe("INVALID_INPUT");
    const other = (await c.call("batch.create", { name: "other", generate: 1 })).result.batch.id;
    expect((await c.call("batch.reburnItem", { batchId: other, itemId: first.itemId })).error.data.reason).toBe("ITEM_NOT_FOUND");

    await c.call("batch.pause", { batchId });
    expect((await c.call("batch.reburnItem", { batchId, itemId: first.itemId })).error.data.reason).toBe("BATCH_STATE");
    await c.call("batch.cancel", { batchId });
    expect((await c.call("batch.status", { batchId })).result.progress.reburnItemId).toBeUndefined();
    expect((await c.call("batch.reburnItem", { batchId, itemId: first.itemId })).error.data.reason).toBe("BATCH_STATE");
  });

  it("refuses a page paired with `read` only", async () => {
    const page = await RpcClient.open(d.port, { Origin: "https://desk.example.com" });
    await page.call("hello", { apiVersion: 1 });
    const { code } = (await page.call("pairing.request", { capabilities: ["read"] })).result;
    expect((await pairCommand(d.dataDir, "approve", code, "--yes")).code).toBe(0);
    await waitForEvent(page, "pairing.approved", () => true, 5_000);
    expect((await page.call("batch.reburnItem", { batchId: 1, itemId: 1 })).error.data).toMatchObject({ reason: "CAPABILITY_DENIED", capability: "batch" });
    page.close();
  });
});
