/**
 * Child process of guest-e2e.ts inside the VM: owns the uhid devices (the "hardware"), so the node-hid
 * side runs in another process exactly as it would against a real key. Driven over the fork() IPC
 * channel; every device answers with the test fixture (fixture-device.ts).
 */
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
}

export type ToDevice = { cmd: "create"; device: DeviceRequest } | { cmd: "destroy"; key: string } | { cmd: "exit" };
export type FromDevice =
  | { event: "created" | "started" | "destroying" | "destroyed"; key: string; at: number }
  | { event: "error"; message: string };

const devices = new Map<string, UhidDevice>();
const send = (message: FromDevice): void => void process.send?.(message);

async function handle(message: ToDevice): Promise<void> {
  if (message.cmd === "create") {
    const { key, name, vendorId, productId, usagePage, serial } = message.device;
    const device = UhidDevice.create(
      { name, vendorId, productId, serial, reportDescriptor: dataReportDescriptor(usagePage, 0x01) },
      fixtureDevice,
    );
    devices.set(key, device);
    send({ event: "created", key, at: device.createdAt });
    await device.started;
    send({ event: "started", key, at: nowMs() });
  } else if (message.cmd === "destroy") {
    const device = devices.get(message.key);
    if (device === undefined) throw new Error(`no device ${message.key}`);
    send({ event: "destroying", key: message.key, at: nowMs() });
    await device.destroy();
    devices.delete(message.key);
    send({ event: "destroyed", key: message.key, at: nowMs() });
  } else {
    await Promise.all([...devices.values()].map((device) => device.destroy()));
    process.exit(0);
  }
}

process.on("message", (message: ToDevice) => {
  handle(message).catch((error: unknown) => send({ event: "error", message: String(error) }));
});
