/**
 * `otpbridge devices` against the real pcscd: every test vpcd reader is listed with what
 * is in it, the tokens identified by GET INFO, in one run that waits for pcscd's reader list, each
 * reader's status and each identification rather than for a fixed quiet time.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { runCli } from "../fixtures/cli.js";
import { missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { openRig, type PcscRig } from "./_pcsc.js";

const missing = missingPcscStack();

interface Listed {
  reader?: string;
  family: string | null;
  model: string | null;
  serial: string | null;
  state: string;
}

async function devices(): Promise<Listed[]> {
  const r = await runCli(["devices", "--json"]);
  expect(r.code).toBe(0);
  return (JSON.parse(r.out.join("\n")) as { devices: Listed[] }).devices.filter((d) => d.reader !== undefined);
}

describe.skipIf(missing !== undefined)("otpbridge devices through pcscd", () => {
  let rig: PcscRig;
  beforeAll(async () => {
    rig = await openRig();
  }, 150_000);
  afterAll(async () => {
    await rig?.close();
  });

  it("lists the readers empty, then with a token identified in each", async () => {
    const names = VPCD_READERS.map((r) => r.name);
    expect((await devices()).map((d) => [d.reader, d.state])).toEqual(names.map((name) => [name, "no-card"]));
    const serials = VPCD_READERS.map((_, i) => `865962210000${String(i).padStart(2, "0")}`);
    await Promise.all(VPCD_READERS.map((reader, i) => rig.insert(new SingleProfileToken({ serial: serials[i]! }), reader)));
    expect((await devices()).map((d) => [d.reader, d.family, d.model, d.serial, d.state])).toEqual(
      names.map((name, i) => [name, "single-profile", "OTPC-P2-i", serials[i], "ready"]),
    );
  });
});
