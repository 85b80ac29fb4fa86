/**
 * DaemonCore's lease rules, deterministically: the real device manager over in-memory readers,
 * and calls held open on a gate so that "while a call runs" is certain, not a race.
 */
import { describe, expect, it } from "vitest";
import { DeviceManager } from "../../src/drivers/device-manager.js";
import { MemoryReaders } from "../../src/simulation/simulation.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { DaemonCore, type EndReason, type Lease } from "../../src/daemon/core.js";
import { managerSource } from "../../src/daemon/device-source.js";
import type { RetryEvent } from "../../src/drivers/hold-still.js";
import { otpbError, reasonOf } from "../../src/lib/errors.js";

async function setup() {
  const readers = new MemoryReaders();
  readers.addReader("R1");
  const token = new SingleProfileToken({ serial: "86596221000002" });
  readers.insert("R1", token);
  const manager = new DeviceManager({ pcsc: readers });
  await manager.settled(20);
  const ended: Array<{ lease: Lease; reason: EndReason }> = [];
  const core = new DaemonCore(managerSource(manager), { onEnded: (lease, reason) => ended.push({ lease, reason }) });
  return { readers, manager, core, ended, token };
}

function gate(): { open: () => void; wait: Promise<void> } {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { open, wait };
}

/** A call on session `s` that has reached its device and stays there until `finish()`. */
async function callHeldOpen(core: DaemonCore, s: string): Promise<{ running: () => boolean; finish: () => Promise<void> }> {
  const inside = gate();
  const g = gate();
  let done = false;
  const call = core
    .call("a", s, () => {
      inside.open();
      return g.wait;
    })
    .finally(() => (done = true));
  await inside.wait;
  return {
    running: () => !done,
    finish: () => {
      g.open();
      return call;
    },
  };
}

const reasonOfCall = async (p: unknown): Promise<string> => {
  try {
    await (typeof p === "function" ? p() : p);
    return "ok";
  } catch (error) {
    return reasonOf(error);
  }
};

describe("DaemonCore", () => {
  it("allows one call in flight per session and no take-over while it runs", async () => {
    const { core } = await setup();
    const s = core.acquire("a", "pcsc:R1", null).session;
    const g = gate();
    let transmitted = 0;
    const running = core.call("a", s, async (link) => {
      if (link.kind === "apdu") transmitted = (await link.transport.transmit(Uint8Array.of(0x80, 0x41, 0, 0, 0))).length;
      await g.wait;
    });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await reasonOfCall(core.call("a", s, async () => {}))).toBe("DEVICE_BUSY");
    expect(await reasonOfCall(() => core.acquire("b", "pcsc:R1", s))).toBe("DEVICE_BUSY");
    expect(core.running).toBe(1);
    g.open();
    await running;
    expect(transmitted).toBeGreaterThan(2);
    expect(core.acquire("b", "pcsc:R1", s).owner).toBe("b");
  });

  it("keeps the device until a running call ends, even when its owner goes", async () => {
    const { core } = await setup();
    const s = core.acquire("a", "pcsc:R1", null).session;
    const g = gate();
    const running = core.call("a", s, () => g.wait);
    core.releaseAll("a");
    expect(await reasonOfCall(() => core.acquire("b", "pcsc:R1", null))).toBe("DEVICE_BUSY");
    g.open();
    await running;
    expect(core.running).toBe(0);
    expect(core.acquire("b", "pcsc:R1", null).owner).toBe("b");
  });

  it("ends a session when its card is taken out, and tells its owner", async () => {
    const { core, readers, ended } = await setup();
    const s = core.acquire("a", "pcsc:R1", null).session;
    readers.remove("R1");
    expect(ended).toEqual([{ lease: { session: s, deviceId: "pcsc:R1", owner: "a" }, reason: "device-gone" }]);
    expect(await reasonOfCall(core.call("a", s, async () => {}))).toBe("NOT_ACQUIRED");
    expect(await reasonOfCall(() => core.acquire("a", "pcsc:R1", null))).toBe("NO_DEVICE");
  });

  it("is a compare-and-swap on the current session", async () => {
    const { core } = await setup();
    expect(await reasonOfCall(() => core.acquire("a", "pcsc:R1", "stale"))).toBe("WRONG_PREVIOUS_SESSION");
    const s = core.acquire("a", "pcsc:R1", null).session;
    expect(await reasonOfCall(() => core.acquire("b", "pcsc:R1", null))).toBe("DEVICE_BUSY");
    expect(await reasonOfCall(() => core.acquire("b", "pcsc:R1", "stale"))).toBe("WRONG_PREVIOUS_SESSION");
    expect(await reasonOfCall(() => core.release("b", s))).toBe("NOT_ACQUIRED");
    core.release("a", s);
    expect(await reasonOfCall(() => core.release("a", s))).toBe("NOT_ACQUIRED");
  });

  it("a call with hold-still retries keeps its session while its token slips out and back, and runs again on a new link", async () => {
    const { core, readers, ended, token } = await setup();
    const s = core.acquire("a", "pcsc:R1", null).session;
    const retries: RetryEvent[] = [];
    let tries = 0;
    const result = await core.call(
      "a",
      s,
      async (link) => {
        if (++tries === 1) {
          // The token leaves the field in the middle of the call and comes back 50 ms later.
          readers.remove("R1");
          setTimeout(() => readers.insert("R1", token), 50);
          throw otpbError("CARD_REMOVED", "the card left the reader", { detail: { stage: "auth" } });
        }
        return link.kind === "apdu" ? (await link.transport.transmit(Uint8Array.of(0x80, 0x41, 0, 0, 0))).length : 0;
      },
      { repeatable: (error) => reasonOf(error) === "CARD_REMOVED", onRetry: (event) => retries.push(event) },
    );
    expect(result).toBeGreaterThan(2);
    expect(retries).toEqual([{ message: "hold the token still, retrying", reader: "R1", serial: "86596221000002", attempt: 1, attempts: 2, stage: "auth" }]);
    expect(ended).toEqual([]);
    expect(await reasonOfCall(core.call("a", s, async () => {}))).toBe("ok");
  });

  it("a card that leaves during a call and is not back when it ends ends the session then, not before", async () => {
    const { core, readers, ended } = await setup();
    const s = core.acquire("a", "pcsc:R1", null).session;
    const { running, finish } = await callHeldOpen(core, s);
    readers.remove("R1");
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(ended).toEqual([]);
    expect(running()).toBe(true);
    await finish();
    expect(ended).toEqual([{ lease: { session: s, deviceId: "pcsc:R1", owner: "a" }, reason: "device-gone" }]);
    expect(await reasonOfCall(core.call("a", s, async () => {}))).toBe("NOT_ACQUIRED");
  });

  it("another token in the reader when the call ends ends the session: a session is for one token", async () => {
    const { core, readers, ended } = await setup();
    const s = core.acquire("a", "pcsc:R1", null).session;
    const { finish } = await callHeldOpen(core, s);
    readers.remove("R1");
    readers.insert("R1", new SingleProfileToken({ serial: "86596221000003" }));
    await finish();
    expect(ended.map((e) => e.reason)).toEqual(["device-gone"]);
  });
});
