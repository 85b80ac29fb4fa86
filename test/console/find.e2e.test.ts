/**
 * The console's Find screen in headless Chromium against a real daemon on the real PC/SC stack: a
 * CSV batch burns three emulated tokens through pcscd and vpcd, then the code one token's display
 * shows, typed with the keyboard alone, finds exactly its serial and item; a wrong code finds
 * nothing; a bad code shows its reason's fix; and two tokens that show the same code are told
 * apart by the next code the page asks for. Holds the PC/SC test lock throughout.
 */
import { createHmac } from "node:crypto";
import base32 from "hi-base32";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatCode } from "../../src/crypto/index.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { CardRig } from "../batch/_card-rig.js";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";
import { ensurePcscd, lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { ensureConsoleBuilt, hasChromium, launchBrowser, loggedIn, screenshot, seriousViolations } from "./_console.js";

const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD 00 00")!;
const STEP = 30;

/** RFC 4226 HOTP-SHA1, 6 digits: the test's own, checked against the emulator's display below. */
function hotp(seed: Buffer, counter: number): string {
  const c = Buffer.alloc(8);
  c.writeBigUInt64BE(BigInt(counter));
  const h = createHmac("sha1", seed).update(c).digest();
  const o = h[19]! & 0xf;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

/**
 * A seed that shows, at one of the steps `step - 2 .. step + 2`, the code `seed` shows at `step`:
 * two tokens the first code alone cannot tell apart (about 200,000 tries).
 */
function collidingSeed(seed: Buffer, step: number): Buffer {
  const target = hotp(seed, step);
  const candidate = Buffer.alloc(20, 0x5a);
  for (let i = 0; ; i++) {
    candidate.writeUInt32BE(i, 0);
    for (let k = -2; k <= 2; k++) if (hotp(candidate, step + k) === target) return Buffer.from(candidate);
  }
}

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined)("console: Find a token by its code", () => {
  let release = (): void => {};
  let d: DaemonProcess;
  let rig: CardRig;
  let browser: Browser;
  let page: Page;
  let consoleErrors: string[];
  const seedA = Buffer.alloc(20, 0x11);
  let collisionStep = 0;
  let seeds: Buffer[] = [];
  const tokens = [1, 2, 3].map((i) => new SingleProfileToken({ serial: `8659612100090${i}` }));
  /** The token that holds row `i`'s seed (items are numbered from 1 in the CSV's order). */
  const holder = (i: number): SingleProfileToken => tokens.find((t) => Buffer.from(t.state().seed).equals(seeds[i]!))!;

  beforeAll(async () => {
    ensureConsoleBuilt();
    release = await lockPcscd(600_000);
    ensurePcscd();
    // Two steps ahead of now (once the lock is held): the tokens are burned by then, and a
    // window of ±10 steps around the lookup still holds it.
    collisionStep = Math.floor(Date.now() / 1000 / STEP) + 2;
    seeds = [seedA, Buffer.alloc(20, 0x22), collidingSeed(seedA, collisionStep)];
    rig = await CardRig.open([READER.name]);
    d = await startDaemonProcess({ simulate: false });
    const native = await RpcClient.native(d);
    const csv = `${["upn,secret,digits,period", ...seeds.map((s, i) => `user${i + 1}@example.com,${base32.encode(s).replace(/=/g, "")},6,${STEP}`)].join("\n")}\n`;
    const created = await native.call("batch.create", { name: "helpdesk", csv });
    expect(created.error).toBeUndefined();
    const batchId = created.result.batch.id;
    await native.call("batch.start", { batchId });
    for (const token of tokens) {
      const slot = await rig.insert(token, READER);
      const done = await waitForEvent(native, "batch.item", (p) => p.serial === token.state().serial, 15_000);
      expect(done?.params).toMatchObject({ outcome: "committed", batchId });
      await rig.remove(slot, READER.name);
    }
    native.close();
    browser = await launchBrowser();
    ({ page, consoleErrors } = await loggedIn(browser, d.dataDir));
    await page.getByRole("link", { name: "Find", exact: true }).click();
    await page.getByRole("heading", { name: "Find a token", exact: true }).waitFor();
  }, 660_000);

  afterAll(async () => {
    await browser?.close();
    await rig?.close();
    if (d !== undefined) expect(await d.stop()).toBe(0);
    release();
  });

  const summary = () => page.getByTestId("find-summary");

  it("the code a burned token shows, typed with the keyboard alone, finds exactly its serial and item", async () => {
    // Every token holds one row's seed, and the test's HOTP agrees with what the display shows.
    expect(tokens.every((t) => seeds.some((s) => Buffer.from(t.state().seed).equals(s)))).toBe(true);
    const now = Math.floor(Date.now() / 1000);
    expect(hotp(seeds[1]!, Math.floor(now / STEP))).toBe(holder(1).code(now));

    await page.getByRole("link", { name: "Find", exact: true }).focus();
    for (let i = 0; i < 12 && (await page.evaluate("document.activeElement?.id")) !== "find-code"; i++) await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.id")).toBe("find-code");
    await page.keyboard.type(holder(1).code(Math.floor(Date.now() / 1000))!);
    await page.keyboard.press("Enter");
    await summary()
      .getByText(/^Found: /)
      .waitFor();
    const serial = holder(1).state().serial;
    expect(await summary().textContent()).toBe(`Found: item 2, serial ${serial} (3 seeds searched within ±2 steps).`);
    const matches = page.locator("li[data-serial]");
    expect(await matches.count()).toBe(1);
    expect(await matches.getByTestId("find-serial").textContent()).toBe(serial);
    expect(await matches.getByTestId("find-item").textContent()).toBe("2");
    expect(await matches.textContent()).toContain("user2@example.com");
    expect(await matches.textContent()).toContain("#1 helpdesk");
    expect(await matches.textContent()).toMatch(/Clock offset[−+]?\d steps?: the token's clock is/);
    // The focus stays in the code box for the next lookup.
    expect(await page.evaluate("document.activeElement?.id")).toBe("find-code");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "find");

    await page.setViewportSize({ width: 420, height: 800 });
    expect(await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")).toBe(true);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "find-narrow");
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  it("with the batch filter it finds the same token; a code no token shows finds nothing", async () => {
    await page.getByLabel("Batch", { exact: true }).selectOption("1");
    await page.getByLabel("Code the token shows").fill(holder(0).code(Math.floor(Date.now() / 1000))!);
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await summary()
      .getByText(`Found: item 1, serial ${holder(0).state().serial}`)
      .waitFor();
    expect(await page.locator("li[data-serial]").count()).toBe(1);

    // The codes the three seeds show within ±2 steps of now (and of the next step, should it turn).
    const step = Math.floor(Date.now() / 1000 / STEP);
    const shown = new Set(seeds.flatMap((s) => [-2, -1, 0, 1, 2, 3].map((k) => hotp(s, step + k))));
    let wrong = 0;
    while (shown.has(formatCode(wrong, 6))) wrong++;
    await page.getByLabel("Batch", { exact: true }).selectOption("");
    await page.getByLabel("Code the token shows").fill(formatCode(wrong, 6));
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await summary()
      .getByText(/^No match: /)
      .waitFor();
    expect(await summary().textContent()).toBe("No match: no token in the journal shows this code (3 seeds searched within ±2 steps).");
    expect(await page.locator("li[data-serial]").count()).toBe(0);
  });

  it("a code that is not digits shows the daemon's reason and its fix, and never the code", async () => {
    await page.getByLabel("Code the token shows").fill("12a456");
    await page.getByRole("button", { name: "Find", exact: true }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toContain("(INVALID_INPUT)");
    expect(await alert.locator(".fix").textContent()).toMatch(/^Fix: \S/);
    expect(await alert.textContent()).not.toContain("12a456");
    // A failed lookup leaves no earlier result on screen.
    expect(await summary().count()).toBe(0);
  });

  it("two tokens showing the same code: the page asks for the next code and finds the one token", async () => {
    await page.getByLabel("Window (± steps)").fill("10");
    await page.getByLabel("Code the token shows").fill(hotp(seedA, collisionStep));
    await page.getByRole("button", { name: "Find", exact: true }).click();
    await summary().getByText("2 tokens show this code: type the code the token shows next to tell them apart.").waitFor();
    const serials = await page.locator("li[data-serial]").evaluateAll((els) => els.map((e) => e.getAttribute("data-serial")));
    expect(serials.sort()).toEqual([holder(0).state().serial, holder(2).state().serial].sort());
    expect(await seriousViolations(page)).toEqual([]);

    // The token whose clock shows collisionStep now shows the next step's code.
    await page.getByLabel("Next code the token shows (once it has changed)").fill(hotp(seedA, collisionStep + 1));
    await page.getByRole("button", { name: "Find with this code too" }).click();
    await summary()
      .getByText(/^Found: /)
      .waitFor();
    expect(await summary().textContent()).toBe(`Found: item 1, serial ${holder(0).state().serial} (3 seeds searched within ±10 steps).`);
    expect(await page.getByRole("heading", { name: "Result with 2 codes" }).count()).toBe(1);
    expect(await page.locator("li[data-serial]").count()).toBe(1);
    // Back to one code: the first box asks again.
    await page.getByRole("button", { name: "Start over" }).click();
    await page.getByLabel("Code the token shows").waitFor();
    expect(consoleErrors).toEqual([]);
  });
});
