/**
 * Test side of the operator console: the bundle built (npm run build:console when src/console is
 * newer than dist/console), Debian's Chromium driven by playwright-core (headless, no download),
 * the console's login URL read from the daemon's launch file, a console on the real PC/SC stack,
 * axe-core run in the page, and screenshots for docs/console.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { PNG } from "pngjs";
import { CardRig } from "../batch/_card-rig.js";
import { startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";
import { ensurePcscd, lockPcscd, REPO_ROOT } from "../fixtures/pcscd.js";

export const CHROMIUM = "/usr/bin/chromium";
const BUNDLE = join(REPO_ROOT, "dist/console/index.html");
const BUILD_LOCK = join(REPO_ROOT, "dist/.console-build.lock");
export const SCREENSHOTS = join(REPO_ROOT, "docs/console");

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
    const path = join(dir, entry.name);
    return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }, 0);
}

function stale(): boolean {
  let built = 0;
  try {
    built = statSync(BUNDLE).mtimeMs;
  } catch {
    // not built yet
  }
  return built < Math.max(newest(join(REPO_ROOT, "src/console")), statSync(join(REPO_ROOT, "src/lib/errors.ts")).mtimeMs);
}

/**
 * Builds dist/console when it is missing or older than src/console or the error table. Test files
 * run in parallel: one builds (under a lock directory), the others wait and find it built.
 */
export function ensureConsoleBuilt(): void {
  if (!stale()) return;
  mkdirSync(join(REPO_ROOT, "dist"), { recursive: true });
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(BUILD_LOCK);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`${BUILD_LOCK} held for 2 minutes: remove it if no build runs`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
  try {
    if (stale()) execFileSync("npm", ["run", "build:console", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
  } finally {
    rmSync(BUILD_LOCK, { recursive: true, force: true });
  }
}

/** True when Debian's chromium runs here. */
export function hasChromium(): boolean {
  try {
    execFileSync(CHROMIUM, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Headless Chromium with the flags a machine without internet needs (and any `extra`). */
export function launchBrowser(extra: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      ...extra,
    ],
  });
}

/**
 * A Y4M video (Chromium's fake camera plays it in a loop) of one still picture: the PNG's luma,
 * no colour. Width and height are made even, as 4:2:0 needs.
 */
export function stillVideo(png: Buffer, path: string): void {
  const image = PNG.sync.read(png);
  const w = image.width & ~1;
  const h = image.height & ~1;
  const luma = Buffer.alloc(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * image.width + x) * 4;
      luma[y * w + x] = Math.round(0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!);
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2), 128);
  const frame = Buffer.concat([Buffer.from("FRAME\n"), luma, chroma, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

/** The current launch URL from the daemon's 0600 file (what `otpbridge console` prints). */
export function launchUrl(dataDir: string): { url: string; expiresAt: number } {
  return JSON.parse(readFileSync(join(dataDir, "console-launch.json"), "utf8"));
}

/**
 * A browser context logged in to the daemon's console, and its page on the console with the
 * WebSocket said hello (the navigation is on screen). Browser console errors are collected.
 */
export async function loggedIn(
  browser: Browser,
  dataDir: string,
  viewport = { width: 1280, height: 720 },
): Promise<{ context: BrowserContext; page: Page; consoleErrors: string[] }> {
  const context = await browser.newContext({ viewport, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(launchUrl(dataDir).url);
  await page.getByRole("navigation", { name: "Screens" }).waitFor();
  return { context, page, consoleErrors };
}

/** A console logged in and on one screen, served by a daemon on the real PC/SC stack (pcscd, vpcd). */
export interface PcscConsole {
  daemon: DaemonProcess;
  rig: CardRig;
  browser: Browser;
  page: Page;
  consoleErrors: string[];
  /** Closes the browser and the readers, stops the daemon (resolving to its exit code) and releases pcscd. */
  close(): Promise<number | null | undefined>;
}

/**
 * Takes the PC/SC lock, opens the vpcd `readers` (with the cards `insert` puts in before the daemon
 * starts), starts a daemon without --simulate (plus `daemonArgs`), and logs a browser in to its
 * console on the `screen` the navigation names. If any step fails, what was opened is closed.
 */
export async function openPcscConsole(options: {
  readers: string[];
  screen: string;
  daemonArgs?: string[];
  insert?: (rig: CardRig) => Promise<unknown>;
}): Promise<PcscConsole> {
  ensureConsoleBuilt();
  // Other suites hold pcscd for minutes at a time: wait for them.
  const release = await lockPcscd(600_000);
  let rig: CardRig | undefined;
  let daemon: DaemonProcess | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<number | null | undefined> => {
    try {
      await browser?.close();
      await rig?.close();
      return await daemon?.stop();
    } finally {
      release();
    }
  };
  try {
    ensurePcscd();
    rig = await CardRig.open(options.readers);
    await options.insert?.(rig);
    daemon = await startDaemonProcess({ simulate: false, args: options.daemonArgs });
    browser = await launchBrowser();
    const { page, consoleErrors } = await loggedIn(browser, daemon.dataDir);
    await page.getByRole("link", { name: options.screen }).click();
    return { daemon, rig, browser, page, consoleErrors, close };
  } catch (error) {
    await close().catch(() => {});
    throw error;
  }
}

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's violations of impact serious or critical on the page as it is now. */
export async function seriousViolations(page: Page): Promise<Array<{ id: string; impact: string; nodes: string[] }>> {
  // Injected through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(AXE);
  const result = await page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    const r = await axe.run((globalThis as any).document, { resultTypes: ["violations"] });
    return r.violations.map((v: any) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n: any) => n.target.join(" ")) }));
  });
  return result.filter((v: { impact: string }) => v.impact === "serious" || v.impact === "critical");
}

/** Saves a screenshot for docs/console (the README shows one). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}
