/**
 * A CSV batch from the console, in headless Chromium against a real daemon on the real PC/SC stack
 * with four vpcd readers and the test's emulated tokens: the preview names the bad line before
 * anything is written; the fixed file's 20 items burn across the 4 readers with a lane each;
 * pause holds the next tokens, resume takes them; the Entra CSV and the PSKC downloads parse back
 * to the seeds the tokens hold (the PSKC decrypts with its password).
 */
import { readFileSync } from "node:fs";
import base32 from "hi-base32";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import type { CardRig } from "../batch/_card-rig.js";
import { RpcClient, type DaemonProcess } from "../fixtures/daemon.js";
import { missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { hasChromium, openPcscConsole, screenshot, seriousViolations, type PcscConsole } from "./_console.js";
import { readPasswordPskc } from "../fixtures/pskc.js";

const READERS = ["Virtual PCD 00 00", "Virtual PCD 00 01", "Virtual PCD B 00 00", "Virtual PCD B 00 01"].map(
  (name) => VPCD_READERS.find((r) => r.name === name)!,
);
/** 20 distinct 20-byte seeds. */
const SEEDS = Array.from({ length: 20 }, (_, i) => Buffer.alloc(20, i + 1));
const PASSWORD = "correct horse battery staple";

function csv(badLine?: number): string {
  const rows = SEEDS.map((seed, i) => `user${i + 1}@example.com,${base32.encode(seed).replace(/=/g, "")},${i + 2 === badLine ? 8 : 6},30`);
  return `${["upn,secret,digits,period", ...rows].join("\n")}\n`;
}

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined)("console: a CSV batch across four readers", () => {
  let ui: PcscConsole | undefined;
  let d: DaemonProcess;
  let rig: CardRig;
  let page: Page;
  let consoleErrors: string[];
  const tokens: SingleProfileToken[] = [];
  const slots: Array<InsertedCard | undefined> = [undefined, undefined, undefined, undefined];
  let serial = 0;

  beforeAll(async () => {
    ui = await openPcscConsole({ readers: READERS.map((r) => r.name), screen: "Batches" });
    ({ daemon: d, rig, page, consoleErrors } = ui);
  }, 660_000);

  afterAll(async () => {
    if (ui !== undefined) expect(await ui.close()).toBe(0);
  });

  /** Takes the tokens out and puts a fresh one in each reader (at most `count`). */
  async function tapRound(count: number): Promise<void> {
    for (let i = 0; i < READERS.length; i++) {
      if (slots[i] !== undefined) await rig.remove(slots[i]!, READERS[i]!.name);
      slots[i] = undefined;
      if (i >= count) continue;
      const token = new SingleProfileToken({ serial: `865961210002${String(++serial).padStart(2, "0")}` });
      tokens.push(token);
      slots[i] = await rig.insert(token, READERS[i]!);
    }
  }

  const count = (n: number) => page.getByTestId("batch-count").getByText(`${n} of 20`, { exact: true }).waitFor({ timeout: 20_000 });

  it("previews the CSV with the bad line named, and creates nothing until the file is fixed", async () => {
    await page.getByLabel("Name").fill("March hires");
    await page
      .getByLabel("CSV file (columns upn, secret, algorithm, digits, period)")
      .setInputFiles({ name: "march.csv", mimeType: "text/csv", buffer: Buffer.from(csv(8)) });
    await page.getByTestId("lint-summary").getByText("1 line has a problem").waitFor();
    const problems = page.getByRole("list", { name: "Problems" });
    expect(await problems.textContent()).toContain("line 8: single-profile tokens show 6 digits, not 8");
    expect(await page.locator("tr.bad-line td").first().textContent()).toBe("8");
    expect(await page.getByRole("button", { name: "Create batch" }).isDisabled()).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "batch-preview");
    await page
      .getByLabel("CSV file (columns upn, secret, algorithm, digits, period)")
      .setInputFiles({ name: "march.csv", mimeType: "text/csv", buffer: Buffer.from(csv()) });
    await page.getByTestId("lint-summary").getByText("20 items, no problem").waitFor();
    await page.getByRole("button", { name: "Create batch" }).click();
    await page.getByRole("heading", { name: "March hires (created)" }).waitFor();
  });

  it("runs across four readers with a lane each, pauses and resumes mid-run, and finishes", async () => {
    await page.getByRole("button", { name: "Start" }).click();
    await page.getByRole("button", { name: "Pause" }).waitFor();
    await tapRound(4);
    await count(4);
    for (const r of READERS) expect(await page.locator(`li.lane[data-reader="${r.name}"]`).textContent()).toContain("done: remove it");
    await screenshot(page, "batch-run");
    await tapRound(4);
    await count(8);

    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByRole("button", { name: "Resume" }).waitFor();
    await tapRound(4);
    // Paused: the new tokens wait in their readers, nothing is written.
    for (const r of READERS) await page.locator(`li.lane[data-reader="${r.name}"]`).getByText("token seen, not taken yet").waitFor({ timeout: 10_000 });
    expect(await page.getByTestId("batch-count").textContent()).toBe("8 of 20");
    expect(tokens.slice(8).every((t) => t.state().seed.length === 0)).toBe(true);
    await page.getByRole("button", { name: "Resume" }).click();
    await count(12);
    await tapRound(4);
    await count(16);
    await tapRound(4);
    await count(20);
    await page.getByTestId("batch-summary").waitFor();
    expect(await page.getByTestId("batch-summary").textContent()).toContain("20 committed");
    // Every token holds one of the file's seeds, each seed on one token.
    const held = tokens.map((t) => Buffer.from(t.state().seed).toString("hex")).sort();
    expect(held).toEqual(SEEDS.map((s) => s.toString("hex")).sort());
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "batch-done");
  });

  it("checks a typed code for one item", async () => {
    const input = page.getByLabel(/Code on item \d+'s token/);
    const itemId = Number((await input.getAttribute("id"))!.replace("code-", ""));
    const native = await RpcClient.native(d);
    const { item } = (await native.call("journal.item", { itemId })).result;
    native.close();
    const token = tokens.find((t) => t.state().serial === item.serial)!;
    await input.fill(token.code(Math.floor(Date.now() / 1000))!);
    await page.getByRole("button", { name: "Check", exact: true }).click();
    await page
      .getByRole("status")
      .getByText(/^match/)
      .waitFor();
  });

  it("downloads the Entra CSV and the PSKC, which parse back to the tokens' seeds", async () => {
    const bySerial = new Map(tokens.map((t) => [t.state().serial, Buffer.from(t.state().seed)]));
    await page.getByLabel("Format").selectOption("entra-csv");
    const [entra] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
    const lines = readFileSync((await entra.path())!, "utf8")
      .trim()
      .split(/\r?\n/);
    expect(lines[0]).toBe("upn,serial number,secret key,time interval,manufacturer,model");
    expect(lines).toHaveLength(21);
    for (const line of lines.slice(1)) {
      const [upn, serialNo, secret, interval] = line.split(",");
      expect(upn).toMatch(/^user\d+@example\.com$/);
      expect(interval).toBe("30");
      expect(Buffer.from(base32.decode.asBytes(secret!)).equals(bySerial.get(serialNo!)!)).toBe(true);
    }
    await page.getByLabel("Format").selectOption("pskc");
    await page.getByLabel("PSKC password").fill(PASSWORD);
    const [pskc] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download" }).click()]);
    const xml = readFileSync((await pskc.path())!, "utf8");
    const keys = readPasswordPskc(xml, PASSWORD);
    expect(keys.size).toBe(20);
    for (const [serialNo, seed] of keys) expect(seed.equals(bySerial.get(serialNo)!)).toBe(true);
    expect(() => readPasswordPskc(xml, "wrong")).toThrow();
    expect(consoleErrors).toEqual([]);
  });
});
