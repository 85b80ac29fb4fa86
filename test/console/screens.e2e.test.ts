/**
 * Every screen of the console against a real daemon process with its in-memory simulation (one
 * token of each family; no pcscd needed): axe-core finds no serious or critical violation on any
 * of them, at 1280x720 and in a narrow window (no sideways scrolling there either), the keyboard
 * alone moves between screens, Health shows the doctor's findings and the host clock, and the
 * browser console stays free of errors. Screenshots for docs/console.
 */
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";
import { ensureConsoleBuilt, hasChromium, launchBrowser, loggedIn, screenshot, seriousViolations } from "./_console.js";

const SCREENS: Array<{ link: string; heading: string; ready?: (page: Page) => Promise<void> }> = [
  { link: "Readers", heading: "Readers" },
  { link: "Burn one token", heading: "Burn one token" },
  { link: "Batches", heading: "Batches" },
  { link: "Find", heading: "Find a token", ready: async (page) => void (await page.getByLabel("Code the token shows").waitFor()) },
  {
    link: "Molto2",
    heading: "Molto2",
    ready: async (page) => {
      await page.getByRole("button", { name: "Read profiles" }).click();
      await page.locator("tr[data-profile]").first().waitFor();
    },
  },
  {
    link: "FIDO keys",
    heading: "FIDO keys (OTP applet)",
    ready: async (page) => {
      await page.getByRole("button", { name: "Read entries" }).click();
      await page.getByRole("heading", { name: "Add an entry" }).waitFor();
    },
  },
  { link: "Health", heading: "Health", ready: async (page) => void (await page.getByTestId("clock-state").waitFor()) },
];

describe.skipIf(!hasChromium())("console: every screen", () => {
  let d: DaemonProcess;
  let browser: Browser;

  beforeAll(async () => {
    ensureConsoleBuilt();
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    if (d !== undefined) expect(await d.stop()).toBe(0);
  });

  for (const viewport of [
    { width: 1280, height: 720 },
    { width: 420, height: 800 },
  ]) {
    it(`at ${viewport.width}x${viewport.height}: no serious accessibility violation, no sideways scrolling, no console error`, async () => {
      const { context, page, consoleErrors } = await loggedIn(browser, d.dataDir, viewport);
      for (const screen of SCREENS) {
        await page.getByRole("link", { name: screen.link, exact: true }).click();
        await page.getByRole("heading", { name: screen.heading, exact: true }).waitFor();
        await screen.ready?.(page);
        expect(await seriousViolations(page), screen.link).toEqual([]);
        expect(await page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), `${screen.link} scrolls sideways`).toBe(
          true,
        );
        if (viewport.width === 1280 && (screen.link === "Health" || screen.link === "Molto2"))
          await screenshot(page, screen.link === "Health" ? "health" : "molto2-grid");
        if (viewport.width < 1280 && screen.link === "Burn one token") await screenshot(page, "burn-narrow");
      }
      expect(consoleErrors).toEqual([]);
      await context.close();
    });
  }

  it("the page and its assets transfer in under 120 KB (gzip)", async () => {
    const { context, page } = await loggedIn(browser, d.dataDir);
    await page.getByRole("heading", { name: "Readers", exact: true }).waitFor();
    const bytes = Number(
      await page.evaluate(`[performance.getEntriesByType("navigation")[0], ...performance.getEntriesByType("resource")]
      .reduce((sum, e) => sum + e.transferSize, 0)`),
    );
    console.log(`console page transfer: ${bytes} bytes (html, js, css, icon; gzip where the browser asks for it)`);
    expect(bytes).toBeGreaterThan(10_000);
    expect(bytes).toBeLessThan(120_000);
    await context.close();
  });

  it("Health shows the doctor's findings with their fixes and the host clock", async () => {
    const { context, page } = await loggedIn(browser, d.dataDir);
    await page.getByRole("link", { name: "Health" }).click();
    await page.getByTestId("clock-state").waitFor();
    expect(await page.getByTestId("clock-state").textContent()).toMatch(/^(Trusted|Not trusted): the system says it is (synchronized|unsynchronized|unknown)/);
    const findings = page.locator("li.finding");
    expect(await findings.count()).toBeGreaterThan(2);
    expect(await page.locator('li.finding[data-check="clock"]').count()).toBe(1);
    await context.close();
  });

  it("works from the keyboard alone: Tab reaches the screens' links and Enter opens one", async () => {
    const { context, page } = await loggedIn(browser, d.dataDir);
    let reached = "";
    for (let i = 0; i < 12 && reached !== "Batches"; i++) {
      await page.keyboard.press("Tab");
      reached = String(await page.evaluate("document.activeElement?.textContent ?? ''"));
    }
    expect(reached).toBe("Batches");
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Batches", exact: true }).waitFor();
    // Whatever has the focus shows it.
    await page.keyboard.press("Tab");
    const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
    expect(outline).not.toBe("none");
    await context.close();
  });
});
