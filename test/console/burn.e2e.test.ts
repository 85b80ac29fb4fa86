/**
 * Burn one token from the console, in headless Chromium against a real daemon on the real PC/SC
 * stack (pcscd, vpcd, the test's emulated tokens): from a pasted secret and from a QR image file,
 * the emulated token then holds the seed and shows the code the page shows, and the page checks a
 * typed code; a code scanned by mistake is refused with the CLI's message and its fix.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import base32 from "hi-base32";
import QRCode from "qrcode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { decodeQrBytes } from "../../src/input/qr.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import type { CardRig } from "../batch/_card-rig.js";
import type { DaemonProcess } from "../fixtures/daemon.js";
import { missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { hasChromium, launchBrowser, loggedIn, openPcscConsole, screenshot, seriousViolations, stillVideo, type PcscConsole } from "./_console.js";

const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD D 00 00")!;
const SEED_B32 = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const SEED = Buffer.from("48656c6c6f21deadbeef48656c6c6f21deadbeef", "hex");
/** RFC 6238's SHA-1 seed, "12345678901234567890". */
const QR_SEED_B32 = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined)("console: burn one token", () => {
  let ui: PcscConsole | undefined;
  let d: DaemonProcess;
  let rig: CardRig;
  let page: Page;
  let consoleErrors: string[];
  let card: InsertedCard | undefined;

  beforeAll(async () => {
    ui = await openPcscConsole({ readers: [READER.name], screen: "Burn one token" });
    ({ daemon: d, rig, page, consoleErrors } = ui);
  }, 660_000);

  afterAll(async () => {
    if (ui !== undefined) expect(await ui.close()).toBe(0);
  });

  /** Puts a fresh emulated token in the reader and waits until the page offers it. */
  async function tap(serial: string): Promise<SingleProfileToken> {
    if (card !== undefined) await rig.remove(card, READER.name);
    const token = new SingleProfileToken({ serial });
    card = await rig.insert(token, READER);
    await page.locator("#burn-reader option", { hasText: serial }).waitFor({ state: "attached", timeout: 10_000 });
    await page.locator("#burn-reader").selectOption({ label: `${READER.name}: OTPC-P1-i ${serial}` });
    return token;
  }

  /** The page's live code equals the token's own display at that moment. */
  async function expectSameCode(token: SingleProfileToken): Promise<void> {
    const before = Math.floor(Date.now() / 1000);
    const shown = await page.getByTestId("live-code").textContent();
    const after = Math.floor(Date.now() / 1000);
    expect([token.code(before), token.code(after)]).toContain(shown);
  }

  it("burns a pasted base32 secret: the token holds it and shows the page's code, and a typed code checks", async () => {
    const token = await tap("86596121000101");
    await page.getByLabel("Base32 secret, otpauth URI or otpauth-migration export").fill(SEED_B32);
    await page.getByLabel("Label (optional: who the token is for)").fill("alice@example.com");
    await page.getByRole("button", { name: "Burn", exact: true }).click();
    await page.getByTestId("burn-result").waitFor();
    expect(Buffer.from(token.state().seed).equals(SEED)).toBe(true);
    await expectSameCode(token);
    await page.getByLabel("Code the token shows").fill(token.code(Math.floor(Date.now() / 1000))!);
    await page.getByRole("button", { name: "Check" }).click();
    await page.getByText("the token holds the seed").waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "burn");
  });

  it("burns the seed of a QR image file", async () => {
    const token = await tap("86596121000102");
    const png = join(mkdtempSync(join(tmpdir(), "otpb-qr-")), "qr.png");
    await QRCode.toFile(png, `otpauth://totp/ACME:bob@example.com?secret=${QR_SEED_B32}&issuer=ACME&period=30`);
    await page.getByRole("radio", { name: "QR image" }).check();
    await page.getByLabel("QR image (or drop one here, or paste a screenshot)").setInputFiles(png);
    await page.getByText("QR code read (otpauth)").waitFor();
    await page.getByRole("button", { name: "Burn", exact: true }).click();
    await page.getByTestId("burn-result").waitFor();
    expect(Buffer.from(token.state().seed).toString()).toBe("12345678901234567890");
    await expectSameCode(token);
  });

  it("burns a seed generated in the daemon, and shows it for enrolment as a QR code and as text", async () => {
    const token = await tap("86596121000104");
    await page.getByRole("radio", { name: "Generate in the daemon" }).check();
    await page.getByRole("button", { name: "Burn", exact: true }).click();
    await page.getByTestId("burn-result").waitFor();
    await expectSameCode(token);
    await page.getByRole("button", { name: "Show the seed for enrolment (QR and text)" }).click();
    await page.getByTestId("enrol").waitFor();
    const seed = Buffer.from(token.state().seed);
    const secret = (await page.getByLabel("Secret (base32)").inputValue()).replace(/ /g, "");
    expect(Buffer.from(base32.decode.asBytes(secret)).equals(seed)).toBe(true);
    // The QR code on screen holds the same seed.
    const uri = decodeQrBytes(await page.locator(".qr").screenshot());
    expect(new URL(uri).searchParams.get("secret")).toBe(secret);
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "burn-enrol");
    await page.getByRole("button", { name: "Hide" }).click();
  });

  it("burns the seed of a QR code held up to the camera", async () => {
    const token = await tap("86596121000105");
    const dir = mkdtempSync(join(tmpdir(), "otpb-camera-"));
    stillVideo(
      await QRCode.toBuffer(`otpauth://totp/ACME:dave@example.com?secret=${QR_SEED_B32}&issuer=ACME`, { type: "png", scale: 8, margin: 4 }),
      join(dir, "qr.y4m"),
    );
    // A browser whose camera is that video, allowed without asking.
    const camera = await launchBrowser([
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      `--use-file-for-fake-video-capture=${join(dir, "qr.y4m")}`,
    ]);
    try {
      const { page: cam, consoleErrors: camErrors } = await loggedIn(camera, d.dataDir);
      await cam.getByRole("link", { name: "Burn one token" }).click();
      await cam.locator("#burn-reader option", { hasText: "86596121000105" }).waitFor({ state: "attached" });
      await cam.getByRole("radio", { name: "Camera" }).check();
      await cam.getByRole("button", { name: "Start the camera" }).click();
      await cam.getByText("QR code read (otpauth)").waitFor({ timeout: 15_000 });
      await cam.getByRole("button", { name: "Burn", exact: true }).click();
      await cam.getByTestId("burn-result").waitFor();
      expect(Buffer.from(token.state().seed).toString()).toBe("12345678901234567890");
      expect(camErrors).toEqual([]);
    } finally {
      await camera.close();
    }
  });

  it("refuses a code scanned by mistake with the CLI's message and its fix, and writes nothing", async () => {
    const token = await tap("86596121000103");
    await page.getByRole("radio", { name: "Paste" }).check();
    await page.getByLabel("Base32 secret, otpauth URI or otpauth-migration export").fill(`otpauth://hotp/ACME:carol?secret=${SEED_B32}&counter=0`);
    await page.getByRole("button", { name: "Burn", exact: true }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/HOTP.*WRONG_CODE_SCANNED.*Fix: /s);
    expect(token.state().seed.length).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
