/**
 * `--simulate` for the molto2 and applet commands: the emulators of src/emulator stand in for
 * hardware, behind the same transports the real devices use. A Molto2Token is attached by the one
 * simulation mechanism (vpcd when pcscd runs, else memory); an OTP-applet key is reached through the
 * in-memory HID link, with the busy-frame polling a real key does by itself.
 */
import { startSimulation } from "../drivers/simulation.js";
import { otpbError, reasonOf } from "../lib/errors.js";
import { Molto2Token } from "../emulator/molto2-token.js";
import { OtpAppletHidDevice } from "../emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../emulator/otp-applet-key.js";
import { MemoryHidTransport } from "../transports/hid-memory.js";
import type { HidTransport } from "../transports/hid-types.js";
import type { ApduTransport } from "../transports/types.js";

/**
 * vsmartcard-vpcd's own two readers, the second first: the first is the default slot of
 * insertCard, which tests and demos of other commands use.
 */
const MOLTO2_SLOTS = ["Virtual PCD 00 01", "Virtual PCD 00 00"];

/**
 * Runs `fn` with a session on an emulated Molto2 attached by the one simulation mechanism
 * (src/drivers/simulation.ts): through pcscd and vpcd when available (`via` names the reader),
 * else in memory. The token is fresh (factory key, empty profiles).
 * @throws whatever `fn` throws.
 */
export async function withSimulatedMolto2<T>(
  fn: (transport: ApduTransport, token: Molto2Token, via: string) => Promise<T>,
): Promise<T> {
  const token = new Molto2Token({ serial: "SIM000000000001" });
  const simulation = await startSimulation([{ family: "molto2", name: "Simulated Molto2", card: token }], { slots: MOLTO2_SLOTS });
  try {
    const [reader] = simulation.cards.keys();
    const via = simulation.link === "vpcd" ? `pcscd, ${reader}` : "memory";
    return await simulation.pcsc.withCard(reader!, (transport) => fn(transport, token, via));
  } finally {
    await simulation.close();
  }
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
