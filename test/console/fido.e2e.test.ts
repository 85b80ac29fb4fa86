/**
 * The console's FIDO-key screen, in headless Chromium against a real daemon on the real PC/SC
 * stack, with the test's emulated Token2 key (OTP applet, reached over PC/SC through pcscd and
 * vpcd: this machine has no HID): add an entry (sealed for the key), read its code, a touch-only
 * entry refused without a touch (with its fix) and shown with one, delete.
 */
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/otp.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { hasChromium, openPcscConsole, screenshot, seriousViolations, type PcscConsole } from "./_console.js";

const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD D 00 01")!;
const SEED = Buffer.from("12345678901234567890");

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined)("console: FIDO keys", () => {
  let ui: PcscConsole | undefined;
  let page: Page;
  let consoleErrors: string[];
  const key = new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x42) });

  beforeAll(async () => {
    ui = await openPcscConsole({
      readers: [READER.name],
      screen: "FIDO keys",
      daemonArgs: ["--family", `${READER.name}=otp-applet`],
      insert: (rig) => rig.insert(key, READER),
    });
    ({ page, consoleErrors } = ui);
  }, 660_000);

  afterAll(async () => {
    if (ui !== undefined) expect(await ui.close()).toBe(0);
  });

  const status = (text: string | RegExp) => page.getByRole("status").getByText(text).waitFor({ timeout: 15_000 });

  async function add(app: string, account: string, touch: boolean): Promise<void> {
    await page.getByLabel("Issuer (app)").fill(app);
    await page.getByLabel("Account").fill(account);
    await page.getByLabel("Seed (base32, otpauth URI or export)").fill("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    await page.getByLabel("Needs a touch for each code").setChecked(touch);
    await page.getByRole("button", { name: "Add", exact: true }).click();
    await status(`added ${app}:${account}`);
  }

  it("adds an entry, sealed for the key, and shows the code the key computes", async () => {
    await page.getByRole("button", { name: "Read entries" }).click();
    await page.getByText("The key holds no entry.").waitFor();
    await add("GitHub", "alice", false);
    const entry = key.state().entries.find((e) => e.app === "GitHub" && e.account === "alice")!;
    expect(Buffer.from(entry.seed).equals(SEED)).toBe(true);
    const before = Math.floor(Date.now() / 1000);
    const shown = await page.locator('tr[data-entry="GitHub:alice"] td.code-cell').textContent();
    const after = Math.floor(Date.now() / 1000);
    expect([before, after].map((t) => totp("SHA1", SEED, { time: t, period: 30, digits: 6 }))).toContain(shown);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "fido");
  });

  it("an entry that needs a touch: refused with its fix without one, shown with one", async () => {
    await add("Bank", "bob", true);
    expect(await page.locator('tr[data-entry="Bank:bob"] td.code-cell').textContent()).toBe("touch needed");
    await page.getByRole("button", { name: "Show code of Bank:bob" }).click();
    const alert = page.locator(".error");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/not touched in time.*BUTTON_TIMEOUT.*Fix: /s);
    key.touch();
    await page.getByRole("button", { name: "Show code of Bank:bob" }).click();
    await status(/^Bank:bob shows \d{6}$/);
  });

  it("deletes an entry", async () => {
    await page.getByRole("button", { name: "Delete GitHub:alice" }).click();
    await status("deleted GitHub:alice");
    expect(key.state().entries.map((e) => `${e.app}:${e.account}`)).toEqual(["Bank:bob"]);
    expect(await page.locator("tr[data-entry]").count()).toBe(1);
    expect(consoleErrors).toEqual([]);
  });
});
