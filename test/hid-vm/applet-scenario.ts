/**
 * Runs INSIDE the HID test VM, after the transport scenario of guest-e2e.ts: the Token2 OTP-applet
 * emulator sits behind /dev/uhid in the device process, and the real driver stack talks to it:
 * OtpAppletSession -> hid-apdu framing -> node-hid -> hidraw -> kernel -> uhid. It adds an entry,
 * lists it, computes its code, reads a code that needs a touch (busy frames, "touch your key", a
 * touch sent to the device process), deletes the entry and lists again.
 */
import { reasonOf } from "../../src/lib/errors.js";
import { OtpAppletSession } from "../../src/drivers/otp-applet.js";
import type { OtpEntryWrite } from "../../src/protocol/otp-entries.js";
import { listToken2HidDevices, openHidTransport } from "../../src/transports/hid.js";
import type { ToDevice } from "./device-process.js";
import { APPLET_DEVICE, APPLET_SEED, APPLET_TIME, APPLET_TOUCH_SEED } from "./scenario.js";
import { nowMs } from "./uhid-device.js";

export interface AppletResult {
  path?: string;
  listedAfterAdd?: Array<{ app: string; account: string; code: string | null }>;
  code?: string;
  touch?: { code: string; prompts: number; ms: number };
  listedAfterDelete?: number;
  deleteMissing?: string;
  addMs?: number;
  error?: string;
}

/** The scenario; `waitStarted` resolves once the kernel has bound the device. */
export async function appletScenario(toDevice: (m: ToDevice) => void, waitStarted: (key: string) => Promise<number>): Promise<AppletResult> {
  const result: AppletResult = {};
  try {
    toDevice({ cmd: "create", device: APPLET_DEVICE });
    await waitStarted(APPLET_DEVICE.key);
    let found = await listToken2HidDevices();
    for (const started = nowMs(); !found.some((d) => d.serialNumber === APPLET_DEVICE.serial) && nowMs() - started < 10_000; ) {
      await new Promise((resolve) => setTimeout(resolve, 5));
      found = await listToken2HidDevices();
    }
    const path = found.find((d) => d.serialNumber === APPLET_DEVICE.serial)?.path;
    if (path === undefined) throw new Error("the emulated key was never listed");
    result.path = path;
    let prompts = 0;
    const hid = await openHidTransport(path);
    const session = await OtpAppletSession.openHid(hid, {
      onTouch: () => {
        prompts++;
        toDevice({ cmd: "touch", key: APPLET_DEVICE.key });
      },
    });
    try {
      const entry: OtpEntryWrite = {
        type: "TOTP",
        algorithm: "SHA1",
        period: 30,
        digits: 6,
        buttonRequired: false,
        app: "VM Issuer",
        account: "alice@example.com",
        seed: Uint8Array.from(APPLET_SEED),
      };
      const addStart = nowMs();
      await session.add(entry);
      result.addMs = nowMs() - addStart;
      await session.add({ ...entry, algorithm: "SHA256", account: "bob@example.com", buttonRequired: true, seed: Uint8Array.from(APPLET_TOUCH_SEED) });
      result.listedAfterAdd = (await session.list(APPLET_TIME)).map(({ app, account, code }) => ({ app, account, code }));
      result.code = (await session.code("VM Issuer", "alice@example.com", APPLET_TIME + 30)).code;
      const touchStart = nowMs();
      const touched = await session.code("VM Issuer", "bob@example.com", APPLET_TIME);
      result.touch = { code: touched.code, prompts, ms: nowMs() - touchStart };
      await session.delete("VM Issuer", "alice@example.com");
      result.listedAfterDelete = (await session.list(APPLET_TIME)).length;
      result.deleteMissing = await session.delete("VM Issuer", "alice@example.com").then(() => "resolved", reasonOf);
    } finally {
      await session.close();
      await hid.close();
    }
  } catch (error) {
    result.error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  }
  return result;
}
