/**
 * `otpbridge molto2 ...` and `otpbridge devices` through main() against the real pcscd: the emulated
 * Molto2 behind a vpcd reader, and the reader choice among the real vpcd readers. Holds the PC/SC
 * test lock.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { PcscManager } from "../../src/transports/pcsc.js";
import { insertCard } from "../../src/transports/vpcd-bridge.js";
import { runCli } from "../fixtures/cli.js";
import { lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";

const missing = missingPcscStack();

/**
 * Waits (up to 5 s) until pcscd shows a card in `reader`: a command sent before that fails. The
 * watching context is closed again before the command runs, so that it does not hold the card.
 */
async function cardSeen(reader: string): Promise<void> {
  const pcsc = await PcscManager.start();
  try {
    const deadline = Date.now() + 5_000;
    while (!pcsc.readers().some((r) => r.name === reader && r.cardPresent) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  } finally {
    await pcsc.close();
  }
}

describe.skipIf(missing !== undefined)("otpbridge molto2 through pcscd", () => {
  let release: () => void = () => {};
  const previous = process.env.OTPBRIDGE_SIMULATE_LINK;
  beforeAll(async () => {
    release = await lockPcscd();
    process.env.OTPBRIDGE_SIMULATE_LINK = "vpcd";
  });
  afterAll(() => {
    if (previous === undefined) delete process.env.OTPBRIDGE_SIMULATE_LINK;
    else process.env.OTPBRIDGE_SIMULATE_LINK = previous;
    release();
  });

  it("lists the simulated token behind a vpcd reader", async () => {
    const r = await runCli(["molto2", "list", "--simulate"]);
    expect(r.code).toBe(0);
    expect(r.err[0]).toMatch(/^simulated Molto2 \(pcscd, Virtual PCD .*\)$/);
    expect(r.out.at(-1)).toBe("0 of 100 profiles in use");
  });

  it("names no reader or several readers with the device reasons, opening none", async () => {
    const none = await runCli(["molto2", "list", "--reader", "no such reader"]);
    expect(none.code).toBe(EXIT_CODES.NO_DEVICE);
    expect(none.err.at(-1)).toBe('otpbridge: no reader name contains "no such reader"');
    const several = await runCli(["molto2", "list", "--reader", "Virtual PCD"]);
    expect(several.code).toBe(EXIT_CODES.AMBIGUOUS_DEVICE);
    expect(several.err.at(-1)).toMatch(/^otpbridge: several readers match "Virtual PCD" \(Virtual PCD 00 00, .*\): name one with --reader$/);
  });

  it("devices shows a Molto2 with its model and serial, read with its Info command", async () => {
    const reader = VPCD_READERS.at(-1)!;
    const card = await insertCard(new Molto2Token({ serial: "000000000004242" }), { port: reader.port });
    try {
      await cardSeen(reader.name);
      const r = await runCli(["devices", "--json", "--family", `${reader.name}=molto2`]);
      expect(r.code).toBe(0);
      const listed = (JSON.parse(r.out.join("\n")) as { devices: Array<Record<string, unknown>> }).devices.find((d) => d.reader === reader.name);
      expect(listed).toMatchObject({ family: "molto2", familySource: "config", model: "Molto2", serial: "000000000004242", state: "ready" });
    } finally {
      await card.remove();
    }
  });

  it("reset proves itself on the token: FACTORY_RESET_NOT_APPLIED when ▲ is not pressed, success once it is", async () => {
    // Not the reader the test before used: pcscd may still show its card, removed a moment ago.
    const reader = VPCD_READERS.at(-2)!;
    const token = new Molto2Token({ serial: "000000000004243" });
    const card = await insertCard(token, { port: reader.port });
    // A data directory no daemon serves: the command works alone, through pcscd.
    const alone = (argv: string[]) => runCli([...argv, "--reader", reader.name, "--data-dir", join(mkdtempSync(join(tmpdir(), "otpb-molto2-")), "data")]);
    try {
      await cardSeen(reader.name);
      const written = await alone(["molto2", "write", "--profile", "2", "--title", "Kept", "--secret", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"]);
      expect(written.code, written.err.join("\n")).toBe(0);
      const unpressed = await alone(["molto2", "reset", "--button-wait", "1"]);
      expect(unpressed.code).toBe(EXIT_CODES.FACTORY_RESET_NOT_APPLIED);
      expect(unpressed.out).toEqual(["press ▲ on the token (within 1 s)"]);
      expect(unpressed.err.at(-1)).toMatch(/^otpbridge: the token was not reset \(was ▲ pressed\?\): 1 profile\(s\) still hold a seed or a title/);
      expect(token.state().profiles[2]!.seed.length).toBeGreaterThan(0);

      const running = alone(["molto2", "reset", "--button-wait", "3"]);
      const deadline = Date.now() + 20_000;
      while (token.state().pending !== "reset" && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      token.pressButton();
      expect(await running).toEqual({
        code: 0,
        out: ["press ▲ on the token (within 3 s)", "factory reset confirmed: every profile is empty and the factory key is back"],
        err: [],
      });
      expect(token.state().profiles.every((p) => p.seed.length === 0 && p.title.every((b) => b === 0))).toBe(true);
    } finally {
      await card.remove();
    }
  });
});
