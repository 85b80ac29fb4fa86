/**
 * The daemon on the real PC/SC stack: `--simulate` puts a single-profile token and a Molto2 behind
 * vsmartcard-vpcd's own two readers (pcscd, libpcsclite, the pcsclite binding, vpcd) and the rest in
 * memory; this test inserts its own emulated tokens into the test reader "Virtual PCD D 00 00",
 * which --simulate never uses, and holds the machine-wide PC/SC test lock throughout.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { Journal } from "../../src/store/journal.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { RecordingCard, WRITE_SEED, sw } from "../drivers/_cards.js";
import { ensurePcscd, hasQuickackRoute, lockPcscd, missingPcscStack, VPCD_READERS } from "../fixtures/pcscd.js";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";

const missing = missingPcscStack();
const SLOT = VPCD_READERS.find((r) => r.name === "Virtual PCD D 00 00")!;
const ID = `pcsc:${SLOT.name}`;

describe.skipIf(missing !== undefined)("daemon through pcscd and vpcd", () => {
  let release = (): void => {};
  let d: DaemonProcess;
  let client: RpcClient;
  let card: InsertedCard | undefined;

  async function takeOut(): Promise<void> {
    await card?.remove();
    card = undefined;
    await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "no-card"), 3_000);
  }

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
    if (!hasQuickackRoute()) console.warn("no quickack route for 127.0.0.2: every APDU waits ~44 ms for a delayed ACK");
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "vpcd" } });
    client = await RpcClient.native(d);
  });

  afterAll(async () => {
    client?.close();
    await card?.remove();
    if (d !== undefined) expect(await d.stop()).toBe(0);
    release();
  });

  it("lists the simulated tokens of every family, two behind vsmartcard-vpcd's own readers", async () => {
    expect(d.link).toBe("vpcd");
    const devices = (await client.call("devices.list")).result.devices;
    const byReader = Object.fromEntries(devices.map((x: any) => [x.reader, x]));
    expect(byReader["Virtual PCD 00 01"]).toMatchObject({ family: "single-profile", model: "OTPC-P2-i", state: "ready" });
    expect(byReader["Virtual PCD 00 00"]).toMatchObject({ family: "molto2", state: "ready" });
    expect(byReader["Simulated FIDO Key"]).toMatchObject({ family: "otp-applet", state: "ready" });
    expect(byReader["Simulated Reader 2"]).toMatchObject({ family: "single-profile", model: "C302-i", state: "ready" });
    // The test readers are not the simulation's: they stay empty.
    for (const name of ["Virtual PCD B 00 00", "Virtual PCD C 00 00", "Virtual PCD C 00 01", "Virtual PCD D 00 01"]) {
      expect(byReader[name], name).toMatchObject({ state: "no-card" });
    }
    expect(byReader[SLOT.name]).toMatchObject({ state: "no-card", session: null });
  });

  it("sends devices.changed within 1 s of a virtual card inserted through pcscd", async () => {
    client.events.length = 0;
    const token = new SingleProfileToken({ serial: "86596121000001" });
    const t0 = Date.now();
    card = await insertCard(token, { port: SLOT.port });
    const seen = await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state !== "no-card"), 1_000);
    expect(seen, "no devices.changed for the inserted card within 1 s").toBeDefined();
    console.log(`devices.changed ${seen!.at - t0} ms after the vpcd connect`);
    const ready = await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "ready"), 2_000);
    expect(ready!.params.devices.find((x: any) => x.id === ID)).toMatchObject({
      family: "single-profile",
      familySource: "probe",
      model: "OTPC-P1-i",
      serial: "86596121000001",
    });
  });

  it("ends the session when the card leaves, and tells its owner", async () => {
    const s = (await client.call("device.acquire", { id: ID, previous: null })).result.session;
    await takeOut();
    const ended = await waitForEvent(client, "device.sessionEnded", (p) => p.session === s, 1_000);
    expect(ended?.params).toEqual({ session: s, id: ID, reason: "device-gone" });
    expect((await client.call("token.info", { session: s })).error.data.reason).toBe("NOT_ACQUIRED");
  });

  it("a token pulled during the seed write and put back: token.retrying, then the burn completes in the same session", async () => {
    const token = new SingleProfileToken({ serial: "86596221000008" }); // OTPC-P2-i: the config write erased its seed
    const recording = new RecordingCard(token);
    recording.onceAt(WRITE_SEED, () => {
      void card?.remove();
      return sw(0x6f00); // never delivered: the card is gone with its vpcd connection
    });
    client.events.length = 0;
    card = await insertCard(recording, { port: SLOT.port });
    await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "ready"), 3_000);
    const s = (await client.call("device.acquire", { id: ID, previous: null })).result.session;
    const burning = client.call("token.burn", { session: s, label: "held still" });
    const retrying = await waitForEvent(client, "token.retrying", (p) => p.session === s, 5_000);
    expect(retrying?.params).toEqual({
      session: s,
      message: "hold the token still, retrying",
      reader: SLOT.name,
      serial: "86596221000008",
      attempt: 1,
      attempts: 2,
      stage: "seed",
    });
    // Back once pcscd has seen the slot empty (a vpcd slot reused before that answers nothing).
    await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "no-card"), 3_000);
    card = await insertCard(recording, { port: SLOT.port });
    const burned = await burning;
    expect(burned.result).toMatchObject({ serial: "86596221000008", journal: { state: "committed" } });
    expect(token.code(burned.result.codes.time)).toBe(burned.result.codes.current);
    // The session outlived the slip: the same token is back in it.
    expect(client.events.some((e) => e.method === "device.sessionEnded" && e.params.session === s)).toBe(false);
    expect((await client.call("token.info", { session: s })).result.serial).toBe("86596221000008");
    await client.call("device.release", { session: s });
    await takeOut();
  });

  it("leaves the device released and the token holding what the journal says when the client disconnects mid-burn", async () => {
    const token = new SingleProfileToken({ serial: "86596221000007" });
    client.events.length = 0;
    card = await insertCard(token, { port: SLOT.port });
    await waitForEvent(client, "devices.changed", (p) => p.devices.some((x: any) => x.id === ID && x.state === "ready"), 3_000);
    const leaver = await RpcClient.native(d);
    const s = (await leaver.call("device.acquire", { id: ID, previous: null })).result.session;
    leaver.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 99, method: "token.burn", params: { session: s, algorithm: "SHA256" } }));
    // Gone as soon as the request is on the wire: the daemon is in the middle of the burn.
    setImmediate(() => leaver.ws.terminate());
    await leaver.closed();
    // Released: another client gets the device once the burn has finished.
    const deadline = Date.now() + 5_000;
    let got: any;
    do got = await client.call("device.acquire", { id: ID, previous: null });
    while (got.error?.data.reason === "DEVICE_BUSY" && Date.now() < deadline);
    expect(got.result?.session).toBeDefined();
    await client.call("device.release", { session: got.result.session });
    expect(d.stderr.some((l) => l.includes('"session ended"') && l.includes(s) && l.includes('"callRunning":true'))).toBe(true);

    // The journal is the record: stop the daemon (it closes the journal) and read it.
    await takeOut();
    client.close();
    expect(await d.stop()).toBe(0);
    const journal = Journal.open({ dataDir: d.dataDir, key: { kind: "keyFile" } });
    try {
      const batch = journal.batches().find((b) => b.name === "token.burn 86596221000007")!;
      const [item] = journal.items(batch.id);
      // The burn ran to its end: committed, with the seed the token now holds.
      expect(item).toMatchObject({ serial: "86596221000007", state: "committed", algorithm: "SHA256" });
      journal.withCommittedSeeds(batch.id, ([committed]) => {
        expect(Buffer.from(token.state().seed).equals(Buffer.from(committed!.seed))).toBe(true);
      });
    } finally {
      journal.close();
    }
  });
});
