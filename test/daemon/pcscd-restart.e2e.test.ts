/**
 * The daemon does not own pcscd: when the system's pcscd exits (socket activation with --auto-exit
 * does this when idle) or restarts, the daemon builds a new context by itself and its devices come
 * back. Proven through the real pcscd, twice in a row, with a burn after each return; the daemon
 * is a real process (no --simulate) and the token is an emulator behind "Virtual PCD D 00 00".
 * Holds the machine-wide PC/SC test lock throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { ensurePcscd, lockPcscd, missingPcscStack, startPcscd, stopPcscd, VPCD_READERS } from "../fixtures/pcscd.js";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";

const missing = missingPcscStack();
const SLOT = VPCD_READERS.find((r) => r.name === "Virtual PCD D 00 00")!;
const ID = `pcsc:${SLOT.name}`;

describe.skipIf(missing !== undefined)("daemon across pcscd exiting and coming back", () => {
  let release = (): void => {};
  let d: DaemonProcess | undefined;
  let client: RpcClient;
  let card: InsertedCard | undefined;

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
    d = await startDaemonProcess({ simulate: false });
    client = await RpcClient.native(d);
  });

  afterAll(async () => {
    client?.close();
    await card?.remove();
    // Whatever happened, the next test file finds pcscd running.
    ensurePcscd();
    if (d !== undefined) expect(await d.stop()).toBe(0);
    release();
  });

  /** Puts a fresh token in the slot, waits until the daemon lists it ready, burns it, takes it out. */
  async function burnOnce(serial: string): Promise<void> {
    const token = new SingleProfileToken({ serial });
    client.events.length = 0;
    card = await insertCard(token, { port: SLOT.port });
    const ready = await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "ready"), 5_000);
    expect(ready, `${SLOT.name} did not come back ready`).toBeDefined();
    const session = (await client.call("device.acquire", { id: ID, previous: null })).result.session;
    const burned = await client.call("token.burn", { session, label: `after restart ${serial}` });
    expect(burned.error).toBeUndefined();
    expect(burned.result).toMatchObject({ serial, journal: { state: "committed" } });
    expect(token.code(burned.result.codes.time)).toBe(burned.result.codes.current);
    await client.call("device.release", { session });
    await card.remove();
    card = undefined;
    await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "no-card"), 3_000);
  }

  it("burns, then after each of two pcscd exits and returns lists the reader again and burns, without a daemon restart", async () => {
    const pid = d!.child.pid;
    await burnOnce("86596121000101");
    for (const [round, serial] of [
      [1, "86596121000102"],
      [2, "86596121000103"],
    ] as const) {
      client.events.length = 0;
      stopPcscd();
      const gone = await waitForEvent(client, "devices.changed", (p) => !p.devices.some((x: any) => x.id === ID), 5_000);
      expect(gone, `round ${round}: the daemon did not notice pcscd leaving`).toBeDefined();
      const listed = (await client.call("devices.list")).result.devices;
      expect(listed.some((x: any) => x.id === ID)).toBe(false);
      startPcscd();
      const back = await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID), 5_000);
      expect(back, `round ${round}: the reader did not come back`).toBeDefined();
      await burnOnce(serial);
    }
    // The same daemon process throughout.
    expect(d!.child.exitCode).toBeNull();
    expect(d!.child.pid).toBe(pid);
  }, 60_000);
});
