/**
 * Child process of guest-e2e.ts inside the VM: owns the uhid devices (the "hardware"), so the node-hid
 * side runs in another process exactly as it would against a real key. Driven over the fork() IPC
 * channel; a device answers with the test fixture (fixture-device.ts), or is a Token2 FIDO key's OTP
 * applet (the emulator of src/emulator), whose busy frames a timer sends, as a real key does by itself.
 */
import { OtpAppletHidDevice } from "../../src/emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { fixtureDevice } from "./fixture-device.js";
import { nowMs, UhidDevice } from "./uhid-device.js";
import { dataReportDescriptor } from "./uhid.js";

/** A device to create, as sent over IPC. */
export interface DeviceRequest {
  key: string;
  name: string;
  vendorId: number;
  productId: number;
  usagePage: number;
  serial: string;
  /** "otp-applet": the OTP-applet emulator answers instead of the fixture. */
  emulator?: "otp-applet";
}

export type ToDevice = { cmd: "create"; device: DeviceRequest } | { cmd: "destroy"; key: string } | { cmd: "touch"; key: string } | { cmd: "exit" };
export type FromDevice = { event: "created" | "started" | "destroying" | "destroyed"; key: string; at: number } | { event: "error"; message: string };

/** Busy-frame period of the emulated key: within the 100-500 ms docs/PROTOCOL.md §4.9 suggests [EMU]. */
const POLL_MS = 150;

const devices = new Map<string, UhidDevice>();
const keys = new Map<string, OtpAppletKey>();
const pollers = new Map<string, NodeJS.Timeout>();
const send = (message: FromDevice): void => void process.send?.(message);

async function handle(message: ToDevice): Promise<void> {
  if (message.cmd === "create") {
    const { key, name, vendorId, productId, usagePage, serial, emulator } = message.device;
    const spec = { name, vendorId, productId, serial, reportDescriptor: dataReportDescriptor(usagePage, 0x01) };
    let device: UhidDevice;
    if (emulator === "otp-applet") {
      // Plugged in again under the same key: the same emulated key, with the entries it holds.
      const otpKey = keys.get(key) ?? new OtpAppletKey();
      const hid = new OtpAppletHidDevice(otpKey);
      device = UhidDevice.create(spec, hid);
      keys.set(key, otpKey);
      pollers.set(
        key,
        setInterval(() => hid.poll().forEach((report) => device.send(report)), POLL_MS),
      );
    } else {
      device = UhidDevice.create(spec, fixtureDevice);
    }
    devices.set(key, device);
    send({ event: "created", key, at: device.createdAt });
    await device.started;
    send({ event: "started", key, at: nowMs() });
  } else if (message.cmd === "touch") {
    const otpKey = keys.get(message.key);
    if (otpKey === undefined) throw new Error(`no emulated key ${message.key}`);
    otpKey.touch();
  } else if (message.cmd === "destroy") {
    const device = devices.get(message.key);
    if (device === undefined) throw new Error(`no device ${message.key}`);
    clearInterval(pollers.get(message.key));
    pollers.delete(message.key);
    send({ event: "destroying", key: message.key, at: nowMs() });
    await device.destroy();
    devices.delete(message.key);
    send({ event: "destroyed", key: message.key, at: nowMs() });
  } else {
    for (const timer of pollers.values()) clearInterval(timer);
    await Promise.all([...devices.values()].map((device) => device.destroy()));
    process.exit(0);
  }
}

process.on("message", (message: ToDevice) => {
  handle(message).catch((error: unknown) => send({ event: "error", message: String(error) }));
});
