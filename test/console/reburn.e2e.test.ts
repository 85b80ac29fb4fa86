/**
 * Re-burning one item from the console, in headless Chromium against a real daemon on the real PC/SC
 * stack (one vpcd reader, emulated tokens): an item is committed; its Re-burn button arms it; the same
 * token tapped again takes the same seed (the journal counts a second attempt and records an
 * item.reburn); then a blank token takes over the item of a "lost" token: it holds the item's seed,
 * the journal binds the item to the new serial and keeps the old one in the event, and the export
 * lists the new token only.
 */
import { join } from "node:path";
import Database from "better-sqlite3";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { CardRig } from "../batch/_card-rig.js";
import { RpcClient, startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";
import { ensurePcscd, lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { ensureConsoleBuilt, hasChromium, launchBrowser, loggedIn, seriousViolations } from "./_console.js";

const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD 00 00")!;

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined)("console: re-burning one item", () => {
  let release = (): void => {};
  let d: DaemonProcess;
  let rig: CardRig;
  let browser: Browser;
  let page: Page;
  let native: RpcClient;
  let consoleErrors: string[];
  let batchId: number;
  let slot: InsertedCard | undefined;
  let stopped = false;
  const first = new SingleProfileToken({ serial: "86596121000301" });
  const blank = new SingleProfileToken({ serial: "86596121000302" });

  beforeAll(async () => {
    ensureConsoleBuilt();
    release = await lockPcscd(600_000);
    ensurePcscd();
    rig = await CardRig.open([READER.name]);
    d = await startDaemonProcess({ simulate: false });
    native = await RpcClient.native(d);
    batchId = (await native.call("batch.create", { name: "Reburn desk", items: [{ label: "alice@example.com" }, { label: "bob@example.com" }] })).result.batch
      .id;
    browser = await launchBrowser();
    ({ page, consoleErrors } = await loggedIn(browser, d.dataDir));
    await page.getByRole("link", { name: "Batches" }).click();
    await page.getByRole("button", { name: "Open batch Reburn desk" }).click();
  }, 660_000);

  afterAll(async () => {
    native?.close();
    await browser?.close();
    await rig?.close();
    if (d !== undefined && !stopped) expect(await d.stop()).toBe(0);
    release();
  });

  async function tap(token: SingleProfileToken): Promise<void> {
    if (slot !== undefined) await rig.remove(slot, READER.name);
    slot = await rig.insert(token, READER);
  }

  const item = async (itemId: number) => (await native.call("journal.item", { itemId })).result.item;

  it("commits an item, re-burns it on the same token: the same seed, a second attempt in the journal", async () => {
    await page.getByRole("button", { name: "Start" }).click();
    await page.getByRole("button", { name: "Pause" }).waitFor();
    await tap(first);
    await page.getByTestId("batch-count").getByText("1 of 2", { exact: true }).waitFor({ timeout: 20_000 });
    const seed = Buffer.from(first.state().seed);
    expect(seed.length).toBe(20);
    const button = page.getByRole("button", { name: /^Re-burn item \d+$/ });
    const itemId = Number((await button.textContent())!.replace(/\D+/g, ""));
    expect(await item(itemId)).toMatchObject({ serial: first.state().serial, state: "committed", attempts: 1 });

    await button.click();
    await page.getByTestId("reburn-armed").getByText(`Re-burning item ${itemId}`).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await tap(first);
    await page.getByTestId("reburn-armed").waitFor({ state: "detached", timeout: 20_000 });
    await expect.poll(async () => (await item(itemId)).state, { timeout: 20_000 }).toBe("committed");
    expect(await item(itemId)).toMatchObject({ serial: first.state().serial, attempts: 2 });
    expect(Buffer.from(first.state().seed).equals(seed)).toBe(true);
    // The pending item was not taken: the re-burn went to the chosen item.
    expect(await page.getByTestId("batch-count").textContent()).toBe("1 of 2");
  });

  it("a blank token takes over a lost token's item: same seed, new serial in the journal and the export", async () => {
    const itemId = Number((await page.getByRole("button", { name: /^Re-burn item \d+$/ }).textContent())!.replace(/\D+/g, ""));
    const seed = Buffer.from(first.state().seed);
    await page.getByRole("button", { name: `Re-burn item ${itemId}` }).click();
    await page.getByTestId("reburn-armed").waitFor();
    await tap(blank);
    await page.getByTestId("reburn-armed").waitFor({ state: "detached", timeout: 20_000 });
    await expect.poll(async () => (await item(itemId)).serial, { timeout: 20_000 }).toBe(blank.state().serial);
    await expect.poll(async () => (await item(itemId)).state, { timeout: 20_000 }).toBe("committed");
    expect(Buffer.from(blank.state().seed).equals(seed)).toBe(true);

    const reply = await native.call("batch.export", { batchId, format: "entra-csv" });
    expect(reply.error).toBeUndefined();
    const exported = reply.result;
    expect(exported.count).toBe(1);
    expect(exported.content).toContain(blank.state().serial);
    expect(exported.content).not.toContain(first.state().serial);

    expect(consoleErrors).toEqual([]);
    // The journal's events say which token the item left and which took it (read once the daemon has let go of the file).
    native.close();
    await browser.close();
    expect(await d.stop()).toBe(0);
    stopped = true;
    const db = new Database(join(d.dataDir, "journal.sqlite"), { readonly: true, fileMustExist: true });
    const events = (db.prepare("SELECT kind, detail FROM events WHERE item_id = ? ORDER BY id").all(itemId) as { kind: string; detail: string }[]).map((e) => ({
      kind: e.kind,
      ...JSON.parse(e.detail),
    }));
    db.close();
    const reburns = events.filter((e) => e.kind === "item.reburn");
    expect(reburns).toEqual([
      { kind: "item.reburn", serial: first.state().serial, from: "committed", attempts: 2 },
      { kind: "item.reburn", serial: blank.state().serial, from: "committed", attempts: 3, replacedSerial: first.state().serial },
    ]);
  });
});
