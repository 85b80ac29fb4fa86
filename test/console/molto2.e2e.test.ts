/**
 * The console's Molto2 screen, in headless Chromium against a real daemon on the real PC/SC stack
 * with the test's emulated Molto2 behind a vpcd reader: write profile 42 with a title, delete it,
 * sync all; a key change waits for the ▲ press the test gives the emulator, and the factory-key
 * warning stays until then.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { hasChromium, openPcscConsole, screenshot, seriousViolations, type PcscConsole } from "./_console.js";

const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD C 00 01")!;
const SEED = Buffer.from("12345678901234567890");
const NEW_KEY = "00112233445566778899aabbccddeeff";

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined)("console: Molto2", () => {
  let ui: PcscConsole | undefined;
  let page: Page;
  let consoleErrors: string[];
  const token = new Molto2Token({ serial: "TEST00000000042" });

  beforeAll(async () => {
    ui = await openPcscConsole({
      readers: [READER.name],
      screen: "Molto2",
      daemonArgs: ["--family", `${READER.name}=molto2`],
      insert: (rig) => rig.insert(token, READER),
    });
    ({ page, consoleErrors } = ui);
  }, 660_000);

  afterAll(async () => {
    if (ui !== undefined) expect(await ui.close()).toBe(0);
  }, 120_000);

  const status = (text: string | RegExp) => page.getByRole("status").getByText(text).waitFor({ timeout: 15_000 });

  it("reads the 100 profiles (public data: no key yet)", async () => {
    await page.getByRole("button", { name: "Read profiles" }).click();
    await status(/^100 profiles read from /);
    expect(await page.locator("tr[data-profile]").count()).toBe(100);
  });

  it("writes profile 42 with a title (and then warns that the factory key is in use), deletes it, and syncs all", async () => {
    await page.getByRole("button", { name: "Edit profile 42" }).click();
    await page.getByLabel("Title (up to 12 bytes)").fill("Example 42");
    await page.getByLabel("Seed (base32, otpauth URI or export; empty: keep)").fill("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    await page.getByRole("button", { name: "Write" }).click();
    await status("profile 42: wrote seed, title, config");
    const p42 = token.state().profiles[42]!;
    expect(Buffer.from(p42.seed).equals(SEED)).toBe(true);
    expect(Buffer.from(p42.title).toString("utf8").replace(/\0+$/, "")).toBe("Example 42");
    const row = page.locator('tr[data-profile="42"]');
    expect(await row.textContent()).toMatch(/42Example 42SHA16\s*30 syes/);
    expect(await page.getByTestId("factory-key").textContent()).toContain("factory");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "molto2");

    await page.getByRole("button", { name: "Delete" }).click();
    await status("profile 42 deleted");
    expect(token.state().profiles[42]!.seed.length).toBe(0);
    expect(await row.locator("td").nth(5).textContent()).toBe("no");

    await page.getByRole("button", { name: "Sync all" }).click();
    await status("100 profiles synced to the host clock");
    expect(await page.getByTestId("factory-key").isVisible()).toBe(true);
  });

  it("changes the customer key only once ▲ is pressed at the token; the factory-key warning then goes", async () => {
    const before = Buffer.from(token.state().keyDigest);
    await page.getByLabel("New customer key (hex)").fill(NEW_KEY);
    await page.getByRole("button", { name: "Change key" }).click();
    const prompt = page.getByTestId("button-prompt");
    await prompt.waitFor();
    expect(await prompt.textContent()).toContain("Press ▲ on the token");
    expect(await page.getByTestId("factory-key").isVisible()).toBe(true);
    expect(token.state().pending).toBe("setKey");
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "molto2-button");
    token.pressButton();
    await page.getByRole("button", { name: "I pressed ▲" }).click();
    await status("customer key changed: keep it safe, every later change needs it");
    expect(Buffer.from(token.state().keyDigest).equals(before)).toBe(false);
    expect(await page.getByTestId("factory-key").count()).toBe(0);
    // The page goes on with the new key: the profiles are read with it, no try is lost.
    expect(token.state().triesLeft).toBe(10);
    expect(consoleErrors).toEqual([]);
  });
});
