/**
 * The console of a station of a shared batch: a throw-away PostgreSQL cluster holds one shared
 * batch; desk-1 is a real daemon on the real PC/SC stack (pcscd, two vpcd readers, the test's
 * emulated tokens) started as a station, and the browser is logged in to it; desk-2 is a second
 * daemon process, a station on its in-memory simulated tokens. The Batches screen says the batches
 * are shared and names this station; the Stations panel shows both stations, this one marked, their
 * committed counts and readers changing live as tokens are tapped at desk-1 and burned at desk-2,
 * the shared counts, and desk-2 silent once it is stopped and its heartbeat has lapsed. Re-burn is
 * not offered there. axe-core at 1280x720 and 420 px wide; a screenshot for docs/console.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import type { InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";
import { missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { missingPostgres } from "../fixtures/postgres.js";
import { PASSPHRASE, TEST_SCRYPT, testDb, type TestDb } from "../store/stations/_cluster.js";
import { hasChromium, loggedIn, openPcscConsole, screenshot, seriousViolations, type PcscConsole } from "./_console.js";

const READERS = ["Virtual PCD 00 00", "Virtual PCD 00 01"].map((name) => VPCD_READERS.find((r) => r.name === name)!);
const TOTAL = 8;
/** The stations' default lease (src/store/stations/store.ts): a heartbeat older than three of them is silent. */
const LEASE_S = 15;

describe.skipIf(!hasChromium() || missingPcscStack() !== undefined || missingPostgres() !== undefined)("console: the stations of a shared batch", () => {
  let db: TestDb;
  let dir: string;
  let batchId: number;
  let ui: PcscConsole | undefined;
  let desk2: DaemonProcess | undefined;
  let page: Page;
  let consoleErrors: string[];
  let serial = 0;
  const tokens = new Map<string, SingleProfileToken>();

  beforeAll(async () => {
    db = await testDb();
    dir = mkdtempSync(join(tmpdir(), "otpb-console-stations-"));
    const passphraseFile = join(dir, "passphrase.txt");
    writeFileSync(passphraseFile, PASSPHRASE, { mode: 0o600 });
    const owner = await db.store("owner");
    const batch = await owner.createBatch({ name: "March hires", count: TOTAL }, PASSPHRASE, TEST_SCRYPT);
    batchId = batch.id;
    await owner.setBatchState(batchId, "start");
    ui = await openPcscConsole({
      readers: READERS.map((r) => r.name),
      screen: "Batches",
      daemonArgs: ["--store", db.url, "--station", "desk-1", "--shared-batch", String(batchId), "--batch-passphrase-file", passphraseFile],
    });
    ({ page, consoleErrors } = ui);
  }, 700_000);

  afterAll(async () => {
    await desk2?.stop();
    if (ui !== undefined) expect(await ui.close()).toBe(0);
    await db?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  const card = (station: string): Locator => page.locator(`li[data-station="${station}"]`);
  /** Waits until `locator`'s whole text is `text` (the panel follows batch.stations events). */
  const shows = (locator: Locator, text: string | RegExp) =>
    locator.filter({ hasText: typeof text === "string" ? new RegExp(`^\\s*${text}\\s*$`) : text }).waitFor({ timeout: 20_000 });

  /** Puts a fresh token on desk-1's reader `i`, waits for its commit in the panel, and lifts it. */
  async function tapAtDesk1(i: number, committedAfter: number): Promise<string> {
    const token = new SingleProfileToken({ serial: `865961210003${String(++serial).padStart(2, "0")}` });
    tokens.set(token.state().serial, token);
    const slot: InsertedCard = await ui!.rig.insert(token, READERS[i]!);
    await shows(card("desk-1").getByTestId("station-committed"), String(committedAfter));
    const reader = card("desk-1").locator(`li[data-reader="${READERS[i]!.name}"]`);
    await shows(reader, /done: remove it · token 865961210003/);
    expect(await reader.textContent()).toContain(token.state().serial);
    expect(token.state().seed.length).toBeGreaterThan(0);
    await ui!.rig.remove(slot, READERS[i]!.name);
    // A reader without a token joins the card's one line of idle readers.
    await reader.waitFor({ state: "detached", timeout: 20_000 });
    return token.state().serial;
  }

  it("says the batches are shared, names this station, and shows it in the batch's Stations panel", async () => {
    const note = page.getByTestId("shared-store");
    await note.waitFor();
    expect(await note.textContent()).toMatch(/Shared batches\..*station desk-1.*works on batch \d+ \(March hires\)/s);
    expect(await page.getByRole("region", { name: "Batches in the shared store" }).textContent()).toContain("March hires");
    await page.getByRole("button", { name: "Open batch March hires" }).click();
    await page.getByRole("heading", { name: "Stations", exact: true }).waitFor();
    await card("desk-1").waitFor();
    expect(await card("desk-1").getByRole("heading").textContent()).toContain("this station");
    await shows(card("desk-1").getByTestId("station-alive"), /^alive \(heartbeat \d+ s ago\)$/);
    expect(await card("desk-1").getByTestId("station-committed").textContent()).toBe("0");
    await shows(page.locator('[data-count="committed"]'), `0 of ${TOTAL}`);
    expect(await page.locator('[data-count="pending"]').textContent()).toBe(String(TOTAL));
    expect(await page.getByTestId("shared-counts").textContent()).toContain("tap that token on any station to finish it with the same seed");
    await shows(card("desk-1").getByTestId("idle-readers"), /^\d+ readers waiting for a token$/);
  });

  it("follows taps at this station live: its committed count, its readers, the shared counts", async () => {
    await tapAtDesk1(0, 1);
    await shows(page.locator('[data-count="committed"]'), `1 of ${TOTAL}`);
    await tapAtDesk1(1, 2);
    await shows(page.locator('[data-count="committed"]'), `2 of ${TOTAL}`);
    expect(await page.locator('[data-count="pending"]').textContent()).toBe(String(TOTAL - 2));
    // The shared store has no one-item re-burn: no button, and the page says why.
    expect(await page.getByRole("button", { name: /Re-burn item/ }).count()).toBe(0);
    expect(await page.getByTestId("no-reburn").textContent()).toContain("--reburn");
    // A typed code is checked against the shared batch's sealed seed.
    const input = page.getByLabel(/Code on item \d+'s token/);
    const itemId = Number((await input.getAttribute("id"))!.replace("code-", ""));
    const { rows } = await db.admin.query<{ serial: string }>("SELECT serial FROM otpb_items WHERE id = $1 AND batch_id = $2", [itemId, batchId]);
    await input.fill(tokens.get(rows[0]!.serial)!.code(Math.floor(Date.now() / 1000))!);
    await page.getByRole("button", { name: "Check", exact: true }).click();
    await page
      .getByRole("status")
      .getByText(/^match/)
      .waitFor();
  });

  it("shows a second station as it joins and burns, and this station's next taps beside it", async () => {
    desk2 = await startDaemonProcess({
      args: [
        "--simulate-tokens",
        "2",
        "--store",
        db.url,
        "--station",
        "desk-2",
        "--shared-batch",
        String(batchId),
        "--batch-passphrase-env",
        "OTPB_TEST_SHARED_PASSPHRASE",
      ],
      env: { OTPB_TEST_SHARED_PASSPHRASE: PASSPHRASE, OTPBRIDGE_SIMULATE_LINK: "memory" },
    });
    await card("desk-2").waitFor({ timeout: 20_000 });
    // desk-2's two simulated tokens burn by themselves.
    await shows(card("desk-2").getByTestId("station-committed"), "2");
    await shows(card("desk-2"), /done: remove it · token 86596221000001/);
    expect(await card("desk-2").getByRole("heading").textContent()).not.toContain("this station");
    await shows(card("desk-2").getByTestId("station-alive"), /^alive/);
    await shows(page.locator('[data-count="committed"]'), `4 of ${TOTAL}`);
    await tapAtDesk1(0, 3);
    await shows(page.locator('[data-count="committed"]'), `5 of ${TOTAL}`);
    expect(await card("desk-2").getByTestId("station-committed").textContent()).toBe("2");
    expect(await page.locator('[data-count="pending"]').textContent()).toBe(String(TOTAL - 5));

    const status = (
      await db.admin.query<{ station: string; n: number }>(
        "SELECT station, count(*)::int AS n FROM otpb_items WHERE batch_id = $1 AND state = 'committed' GROUP BY station ORDER BY station",
        [batchId],
      )
    ).rows;
    expect(status).toEqual([
      { station: "desk-1", n: 3 },
      { station: "desk-2", n: 2 },
    ]);
  });

  it("has no serious accessibility violation in the panel at 1280x720 and 420 px wide", async () => {
    expect(await seriousViolations(page)).toEqual([]);
    await page.evaluate(`document.getElementById("stations-title").scrollIntoView({ block: "start" })`);
    await screenshot(page, "stations");
    const narrow = await loggedIn(ui!.browser, ui!.daemon.dataDir, { width: 420, height: 800 });
    try {
      await narrow.page.getByRole("link", { name: "Batches", exact: true }).click();
      await narrow.page.getByRole("button", { name: "Open batch March hires" }).click();
      await narrow.page.locator('li[data-station="desk-2"]').waitFor({ timeout: 20_000 });
      expect(await seriousViolations(narrow.page)).toEqual([]);
      expect(await narrow.page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"), "scrolls sideways").toBe(true);
      expect(narrow.consoleErrors).toEqual([]);
    } finally {
      await narrow.context.close();
    }
  });

  it("shows a stopped station as silent once its heartbeat has lapsed", async () => {
    expect(await desk2!.stop()).toBe(0);
    desk2 = undefined;
    // Three lease periods without a heartbeat make a station silent. Rather than wait 45 s, the
    // stopped station's last heartbeat is moved back by that much (nothing else renews it now).
    await db.admin.query(`UPDATE otpb_stations SET heartbeat_at = now() - interval '${3 * LEASE_S + 1} seconds' WHERE id = 'desk-2'`);
    await shows(card("desk-2").getByTestId("station-alive"), /^silent \(last heartbeat \d+ s ago\)$/);
    expect(await card("desk-2").getByTestId("station-committed").textContent()).toBe("2");
    expect(await card("desk-1").getByTestId("station-alive").textContent()).toMatch(/^alive/);
    // This station goes on taking taps beside the silent one.
    await tapAtDesk1(1, 4);
    await shows(page.locator('[data-count="committed"]'), `6 of ${TOTAL}`);
  });

  it("moves this station to a batch created here, reads the one it left from batch.status, and pauses that one for every station", async () => {
    await page.getByLabel("Name").fill("April hires");
    await page.getByLabel("Generate seeds").check();
    await page.getByLabel("How many").fill("3");
    await page.getByRole("button", { name: "Create batch" }).click();
    await page.getByRole("heading", { name: "April hires (created)" }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Start", exact: true }).click();
    await shows(page.getByTestId("shared-store"), /works on batch \d+ \(April hires\)/);
    await shows(card("desk-1").getByTestId("station-committed"), "0");
    await shows(page.locator('[data-count="committed"]'), "0 of 3");
    expect(await page.locator("li[data-station]").count()).toBe(1);
    // The batch it left goes on without it: no event speaks for it here, batch.status does.
    await page.getByRole("button", { name: "Open batch March hires" }).click();
    await page.getByRole("button", { name: "Work on it at this station" }).waitFor();
    await shows(card("desk-1").getByTestId("station-committed"), "4");
    await shows(card("desk-2").getByTestId("station-alive"), /^silent/);
    await shows(page.locator('[data-count="committed"]'), `6 of ${TOTAL}`);
    // Pausing it here pauses it for every station, though this one no longer works on it.
    await page.getByRole("button", { name: "Pause at every station" }).click();
    await page.getByRole("heading", { name: "March hires (paused)" }).waitFor({ timeout: 10_000 });
    expect((await db.admin.query("SELECT state FROM otpb_batches WHERE name = 'March hires'")).rows[0]).toEqual({ state: "paused" });
    expect(await page.getByRole("button", { name: "Resume" }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});
