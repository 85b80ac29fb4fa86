import { describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/index.js";
import { polledHidTransport } from "../../src/simulation/simulation.js";
import { hidApduChannel } from "../../src/drivers/hid-apdu.js";
import { OtpAppletSession } from "../../src/drivers/otp-applet.js";
import { OtpAppletHidDevice } from "../../src/emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { reasonOf } from "../../src/lib/errors.js";
import { getEcdhPubkeyApdu } from "../../src/protocol/otp-applet.js";
import type { OtpEntryWrite } from "../../src/protocol/otp-entries.js";
import { MemoryHidTransport } from "../../src/transports/hid-memory.js";
import type { HidTransport } from "../../src/transports/hid-types.js";
import { rejection } from "../fixtures/errors.js";

const T = 1_700_000_000;
const SEED = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
const TOUCHY: OtpEntryWrite = {
  type: "TOTP",
  algorithm: "SHA256",
  period: 30,
  digits: 6,
  buttonRequired: true,
  app: "Bank",
  account: "alice",
  seed: SEED,
};

/** Counts the busy frames the host reads, on top of any HID transport. */
function countingBusy(inner: HidTransport): { hid: HidTransport; busy: () => number } {
  let busy = 0;
  return {
    busy: () => busy,
    hid: {
      write: (r) => inner.write(r),
      close: () => inner.close(),
      read: async (t) => {
        const report = await inner.read(t);
        if (report[0] === 0x21 && (report[1]! & 0xf0) === 0xc0) busy++;
        return report;
      },
    },
  };
}

describe("HID APDU channel: busy frames and touches (§4.9)", () => {
  it("prompts once after 3 busy frames, then returns the code when the key is touched", async () => {
    const key = new OtpAppletKey();
    const { hid, busy } = countingBusy(polledHidTransport(new OtpAppletHidDevice(key), 20));
    let prompts = 0;
    let busyAtPrompt = 0;
    const session = await OtpAppletSession.openHid(hid, {
      onTouch: () => {
        prompts++;
        busyAtPrompt = busy();
        setTimeout(() => key.touch(), 60); // the user needs a moment: more busy frames meanwhile
      },
    });
    await session.add(TOUCHY);
    const record = await session.code("Bank", "alice", T);
    expect(record.code).toBe(totp("SHA256", SEED, { time: T }));
    expect(prompts).toBe(1);
    expect(busyAtPrompt).toBe(3);
    expect(busy()).toBeGreaterThan(3);
    expect(key.state().touchArmed).toBe(false);
  });

  it("does not prompt when the touch comes before the third busy frame", async () => {
    const key = new OtpAppletKey();
    const device = new OtpAppletHidDevice(key);
    let prompts = 0;
    const session = await OtpAppletSession.openHid(polledHidTransport(device, 20), { onTouch: () => prompts++ });
    await session.add(TOUCHY);
    setTimeout(() => key.touch(), 25);
    expect((await session.code("Bank", "alice", T)).code).toBe(totp("SHA256", SEED, { time: T }));
    expect(prompts).toBe(0);
  });

  it("gives up after the touch timeout with BUTTON_TIMEOUT, and refuses the channel afterwards", async () => {
    const key = new OtpAppletKey();
    const session = await OtpAppletSession.openHid(polledHidTransport(new OtpAppletHidDevice(key), 20), { touchTimeoutMs: 300 });
    await session.add(TOUCHY);
    const started = performance.now();
    const error = await rejection(session.code("Bank", "alice", T));
    const elapsed = performance.now() - started;
    expect(reasonOf(error)).toBe("BUTTON_TIMEOUT");
    expect(error.detail.timeoutMs).toBe(300);
    expect(elapsed).toBeGreaterThanOrEqual(295);
    expect(elapsed).toBeLessThan(1_500);
    // The key may still answer the abandoned READ_ONE: the next command must not take that answer.
    expect(reasonOf(await rejection(session.list(T)))).toBe("TRANSPORT_CLOSED");
  });

  it("maps the key's own 6FF9 (no touch within its limit) to BUTTON_TIMEOUT", async () => {
    const key = new OtpAppletKey();
    const device = new OtpAppletHidDevice(key, { clock: () => Date.now() / 1000, touchTimeout: 1 });
    const session = await OtpAppletSession.openHid(polledHidTransport(device, 50), { touchTimeoutMs: 10_000 });
    await session.add(TOUCHY);
    const error = await rejection(session.code("Bank", "alice", T));
    expect(reasonOf(error)).toBe("BUTTON_TIMEOUT");
    expect(error.detail.sw).toBe(0x6ff9);
    // The key ended the exchange itself, so the channel is still in step.
    expect(await session.list(T)).toHaveLength(1);
  });

  it("reports DEVICE_TIMEOUT when a key stays silent, and DEVICE_GONE when it is unplugged", async () => {
    const silent = new MemoryHidTransport({ handleReport: () => [] });
    const channel = hidApduChannel(silent, { replyTimeoutMs: 80 });
    expect(reasonOf(await rejection(channel.transmit(getEcdhPubkeyApdu())))).toBe("DEVICE_TIMEOUT");
    expect(reasonOf(await rejection(channel.transmit(getEcdhPubkeyApdu())))).toBe("TRANSPORT_CLOSED");
    const link = new MemoryHidTransport({ handleReport: () => [] });
    const pending = rejection(hidApduChannel(link).transmit(getEcdhPubkeyApdu()));
    setTimeout(() => link.unplug(), 20);
    expect(reasonOf(await pending)).toBe("DEVICE_GONE");
  });

  it("serialises concurrent commands so their frames never interleave", async () => {
    const key = new OtpAppletKey();
    const session = await OtpAppletSession.openHid(new MemoryHidTransport(new OtpAppletHidDevice(key)));
    const entries = Array.from({ length: 5 }, (_, n) => ({ ...TOUCHY, buttonRequired: false, account: `user${n}`, seed: SEED.subarray(n) }));
    await Promise.all(entries.map((e) => session.add(e)));
    const codes = await Promise.all(entries.map((e) => session.code(e.app, e.account, T)));
    expect(codes.map((c) => c.code)).toEqual(entries.map((e) => totp("SHA256", e.seed, { time: T })));
  });
});
