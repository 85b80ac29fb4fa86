/**
 * journal.find on the real daemon process, after a batch burned emulated tokens through pcscd and
 * vpcd: the code one token's display shows finds exactly its serial (and with the next code too);
 * a wrong code finds nothing; a browser origin paired with `read` only gets serials and items, is
 * denied the export, and no reply it receives holds a seed. Holds the PC/SC test lock throughout.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import hiBase32 from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatCode } from "../../src/crypto/index.js";
import { parseOtpauthUri } from "../../src/input/secret.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { CardRig } from "../batch/_card-rig.js";
import { ensureBuilt, spawnDaemon, type Daemon } from "../fixtures/daemon.js";
import { RpcClient, waitForEvent } from "../fixtures/daemon.js";
import { runCli } from "../fixtures/cli.js";
import { ensurePcscd, lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";

const missing = missingPcscStack();
if (missing) console.warn(`journal.find e2e skipped: ${missing}`);
const READER = VPCD_READERS.find((r) => r.name === "Virtual PCD B 00 00")!;
const ORIGIN = "https://helpdesk.example.com";

describe.skipIf(missing !== undefined)("journal.find after a batch burned through pcscd", () => {
  let release = (): void => {};
  let rig: CardRig;
  let root: string;
  let daemon: Daemon;
  let native: RpcClient;
  const serials = [1, 2, 3].map((i) => `8659622100070${i}`);
  const tokens = serials.map((serial) => new SingleProfileToken({ serial }));

  beforeAll(async () => {
    release = await lockPcscd(300_000);
    ensurePcscd();
    ensureBuilt();
    rig = await CardRig.open([READER.name]);
    root = mkdtempSync(join(tmpdir(), "otpb-find-"));
    daemon = spawnDaemon({ dataDir: join(root, "data"), args: [`--family=${READER.name}=single-profile`], simulate: false, logLevel: "warn", from: "build" });
    const listening = await daemon.listening;
    if (listening === undefined) throw new Error(`daemon did not start: ${daemon.stderr.join("\n")}`);
    native = await RpcClient.native(listening as Parameters<typeof RpcClient.native>[0]);
    const created = await native.call("batch.create", { name: "helpdesk", generate: tokens.length });
    const batchId = created.result.batch.id;
    await native.call("batch.start", { batchId });
    // The operator taps each token and lifts it once the daemon says it is done.
    for (const [i, token] of tokens.entries()) {
      const slot = await rig.insert(token, READER);
      const done = await waitForEvent(native, "batch.item", (p) => p.serial === serials[i], 15_000);
      expect(done?.params).toMatchObject({ outcome: "committed", batchId });
      await rig.remove(slot, READER.name);
    }
  }, 320_000);

  afterAll(async () => {
    native?.close();
    if (daemon !== undefined && daemon.child.exitCode === null) daemon.child.kill("SIGTERM");
    await daemon?.exited;
    await rig?.close();
    release();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it("the code a burned token displays finds exactly its serial; with the next code too; a wrong code finds nothing", async () => {
    const token = tokens[1]!;
    const now = Math.floor(Date.now() / 1000);
    const code = token.code(now)!;
    const found = await native.call("journal.find", { codes: [code], time: now });
    expect(found.result).toMatchObject({ searched: 3, ambiguous: false, window: 2, time: now });
    expect(found.result.matches).toEqual([expect.objectContaining({ source: "journal", batchId: 1, item: 2, serial: serials[1], label: null, offset: 0 })]);
    const both = await native.call("journal.find", { codes: [code, token.code(now + 30)!], time: now, batchId: 1 });
    expect(both.result.matches.map((m: { serial: string }) => m.serial)).toEqual([serials[1]]);
    // A code no token shows in the window: the 6-digit codes of the three seeds at ±2 steps are known.
    const shown = new Set(tokens.flatMap((t) => [-2, -1, 0, 1, 2].map((s) => t.code(now + 30 * s)!)));
    let wrong = 0;
    while (shown.has(formatCode(wrong, 6))) wrong++;
    expect((await native.call("journal.find", { codes: [formatCode(wrong, 6)], time: now })).result).toMatchObject({ matches: [], searched: 3 });
    const bad = await native.call("journal.find", { codes: ["12a456"] });
    expect(bad.error.data).toMatchObject({ reason: "INVALID_INPUT" });
    expect(bad.error.message).not.toContain("12a456");
    expect((await native.call("journal.find", { codes: [code], batchId: 9 })).error.data.reason).toBe("BATCH_NOT_FOUND");
  });

  it("a client paired with read only gets serials and items, never a seed, and is denied the export", async () => {
    const page = await RpcClient.open((await daemon.listening)!.port, { Origin: ORIGIN });
    const received: string[] = [];
    page.ws.on("message", (data) => received.push(String(data)));
    await page.call("hello", { apiVersion: 1 });
    const request = await page.call("pairing.request", { capabilities: ["read", "export"] });
    const approved = await runCli(["pair", "approve", request.result.code, "--capabilities", "read", "--yes", "--data-dir", join(root, "data")]);
    expect(approved.code).toBe(0);
    // The asking socket is paired once the daemon hands it the pairing secret.
    expect(await waitForEvent(page, "pairing.approved", () => true, 5_000)).toBeDefined();
    const now = Math.floor(Date.now() / 1000);
    const found = await page.call("journal.find", { codes: [tokens[2]!.code(now)!], time: now });
    expect(found.result.matches).toEqual([expect.objectContaining({ item: 3, serial: serials[2] })]);
    expect((await page.call("journal.export", { batchId: 1 })).error.data).toMatchObject({ reason: "CAPABILITY_DENIED", capability: "export" });
    page.close();

    // The seeds, from the native client's export, in every encoding: none is in what the page received.
    const exported = await native.call("journal.export", { batchId: 1 });
    const seeds = (exported.result.uris as string[]).map((uri) => parseOtpauthUri(uri).secret);
    expect(seeds).toHaveLength(3);
    const text = received.join("\n");
    for (const seed of seeds) {
      const forms = [Buffer.from(seed).toString("hex"), hiBase32.encode(seed).replace(/=+$/, ""), Buffer.from(seed).toString("base64").replace(/=+$/, "")];
      for (const form of forms) expect(text).not.toContain(form);
      expect(tokens.some((t) => Buffer.from(t.state().seed).equals(Buffer.from(seed)))).toBe(true);
    }
  });
});
