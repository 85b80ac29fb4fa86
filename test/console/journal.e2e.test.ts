/**
 * One journal for the console and the command line: a batch the CLI created shows in the
 * console's list, and a batch created in the console shows in `otpbridge batch list` once the
 * daemon has stopped (while it runs, the daemon holds the journal).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startDaemonProcess } from "../fixtures/daemon.js";
import { runCli } from "../fixtures/cli.js";
import { ensureConsoleBuilt, hasChromium, launchBrowser, loggedIn } from "./_console.js";

describe.skipIf(!hasChromium())("console and CLI share the journal", () => {
  it("shows the CLI's batch, and the CLI shows the console's", async () => {
    ensureConsoleBuilt();
    const root = mkdtempSync(join(tmpdir(), "otpb-shared-"));
    const dataDir = join(root, "data");
    writeFileSync(join(root, "cli.csv"), "upn\nalice@example.com\nbob@example.com\n");
    const created = await runCli(["batch", "create", "--csv", join(root, "cli.csv"), "--name", "made in the CLI", "--data-dir", dataDir]);
    expect(created.code).toBe(0);
    const d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" }, dataDir });
    const browser = await launchBrowser();
    try {
      const { page, consoleErrors } = await loggedIn(browser, dataDir);
      await page.getByRole("link", { name: "Batches" }).click();
      const cliRow = page.getByRole("row", { name: /made in the CLI/ });
      await cliRow.waitFor();
      expect(await cliRow.textContent()).toContain("0 of 2");
      await page.getByLabel("Name").fill("made in the console");
      await page.getByRole("radio", { name: "Generate seeds" }).check();
      await page.getByLabel("How many").fill("3");
      await page.getByRole("button", { name: "Create batch" }).click();
      await page.getByRole("heading", { name: "made in the console (created)" }).waitFor();
      expect(consoleErrors).toEqual([]);
    } finally {
      await browser.close();
      expect(await d.stop()).toBe(0);
    }
    const listed = await runCli(["batch", "list", "--json", "--data-dir", dataDir]);
    expect(listed.code).toBe(0);
    const batches = JSON.parse(listed.out.join("\n")) as Array<{ name: string; counts: Record<string, number> }>;
    expect(batches.map((b) => [b.name, b.counts.pending])).toEqual([
      ["made in the CLI", 2],
      ["made in the console", 3],
    ]);
  });
});
