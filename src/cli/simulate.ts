/**
 * `--simulate` for the device commands: the emulators of src/emulator stand in for hardware, behind
 * the same transports the real devices use, so that the commands can be shown without a token.
 * A Molto2Token goes into a free vpcd reader when pcscd and vpcd run (the whole PC/SC stack is then
 * real), or straight into an in-memory transport otherwise; an OTP-applet key is reached through
 * the in-memory HID link, with the busy-frame polling a real key does by itself.
 */
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { otpbError, reasonOf } from "../lib/errors.js";
import { Molto2Token } from "../emulator/molto2-token.js";
import { OtpAppletHidDevice } from "../emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../emulator/otp-applet-key.js";
import { MemoryHidTransport } from "../transports/hid-memory.js";
import type { HidTransport } from "../transports/hid-types.js";
import { MemoryTransport } from "../transports/memory.js";
import { PcscManager } from "../transports/pcsc.js";
import type { ApduTransport } from "../transports/types.js";
import { insertCard, VPCD_FIRST_PORT } from "../transports/vpcd-bridge.js";

/**
 * vsmartcard-vpcd's own two readers and their ports (/etc/reader.conf.d/vpcd), the second first:
 * the first is the default slot of insertCard, which tests and demos of other commands use.
 */
const VPCD_SLOTS = [
  { reader: "Virtual PCD 00 01", port: VPCD_FIRST_PORT + 1 },
  { reader: "Virtual PCD 00 00", port: VPCD_FIRST_PORT },
];
const PCSCD_SOCKET = process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
/** pcscd sees a vpcd card 100-420 ms after it connects (docs: TEST-INFRA.md). */
const INSERT_WAIT_MS = 2_000;

/**
 * Runs `fn` with a session on an emulated Molto2: through pcscd and vpcd when available (`via`
 * names the reader), else in memory. The token is fresh (factory key, empty profiles).
 * @throws whatever `fn` throws.
 */
export async function withSimulatedMolto2<T>(
  fn: (transport: ApduTransport, token: Molto2Token, via: string) => Promise<T>,
): Promise<T> {
  const token = new Molto2Token({ serial: "SIM000000000001" });
  if (existsSync(PCSCD_SOCKET)) {
    const manager = await PcscManager.start();
    try {
      const slot = await freeVpcdSlot(manager);
      if (slot !== undefined) {
        const card = await insertCard(token, { port: slot.port }).catch(() => undefined);
        if (card !== undefined) {
          try {
            if (await waitForCard(manager, slot.reader)) {
              return await manager.withCard(slot.reader, (transport) => fn(transport, token, `pcscd, ${slot.reader}`));
            }
          } finally {
            await card.remove();
          }
        }
      }
    } finally {
      await manager.close();
    }
  }
  return fn(new MemoryTransport(token), token, "memory");
}

async function freeVpcdSlot(manager: PcscManager): Promise<(typeof VPCD_SLOTS)[number] | undefined> {
  const deadline = Date.now() + 1_000;
  for (;;) {
    const readers = manager.readers();
    const free = VPCD_SLOTS.find((slot) => readers.some((r) => r.name === slot.reader && !r.cardPresent));
    if (free !== undefined || Date.now() > deadline) return free;
    await sleep(50);
  }
}

async function waitForCard(manager: PcscManager, reader: string): Promise<boolean> {
  const deadline = Date.now() + INSERT_WAIT_MS;
  while (Date.now() < deadline) {
    if (manager.readers().some((r) => r.name === reader && r.cardPresent)) return true;
    await sleep(25);
  }
  return false;
}

/**
 * A {@link HidTransport} to an emulated key whose busy frames arrive on their own, as a real key
 * sends them: when no input report is waiting, the device's `poll()` is asked every `pollMs`
 * (the busy-frame rate, 100-500 ms per TOKEN2.md §4.9 [EMU]).
 * @example const hid = polledHidTransport(new OtpAppletHidDevice(key));
 */
export function polledHidTransport(device: OtpAppletHidDevice, pollMs = 150): HidTransport {
  const inner = new MemoryHidTransport(device, "simulated-key");
  const polled: Uint8Array[] = [];
  return {
    write: (report) => inner.write(report),
    close: () => inner.close(),
    async read(timeoutMs: number): Promise<Uint8Array> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = polled.shift();
        if (ready !== undefined) return ready;
        try {
          return await inner.read(Math.max(1, Math.min(pollMs, deadline - Date.now())));
        } catch (error) {
          if (reasonOf(error) !== "DEVICE_TIMEOUT") throw error;
          polled.push(...device.poll());
          if (polled.length === 0 && Date.now() >= deadline) {
            throw otpbError("DEVICE_TIMEOUT", `no HID input report from the simulated key within ${timeoutMs} ms`);
          }
        }
      }
    },
  };
}

/** A fresh emulated FIDO key with its OTP applet, on the in-memory HID link. */
export function simulatedOtpKey(): { key: OtpAppletKey; hid: HidTransport } {
  const key = new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x01) });
  return { key, hid: polledHidTransport(new OtpAppletHidDevice(key)) };
}
