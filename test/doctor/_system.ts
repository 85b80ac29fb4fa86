import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { SystemView } from "../../src/doctor/system-view.js";

/** A fake system root in a temp dir, laid out like `/`, and a SystemView over it. */
export function fakeSystem(overrides: Partial<SystemView> = {}): { view: SystemView; write: (path: string, text?: string) => void; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "otpb-doctor-"));
  const write = (path: string, text = ""): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const view: SystemView = {
    root,
    platform: "linux",
    pcscSocket: join(root, "run/pcscd/pcscd.comm"),
    listReaders: async () => [],
    probeHid: async () => ({ ok: true, detail: "hidraw" }),
    probeAddons: async () => [{ name: "pcsclite", ok: true }],
    run: () => null,
    ...overrides,
  };
  return { view, write, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A USB device directory as sysfs shows it: idVendor, idProduct, product. */
export function usbDevice(write: (path: string, text?: string) => void, name: string, vid: string, pid: string, product: string): void {
  write(`sys/bus/usb/devices/${name}/idVendor`, `${vid}\n`);
  write(`sys/bus/usb/devices/${name}/idProduct`, `${pid}\n`);
  write(`sys/bus/usb/devices/${name}/product`, `${product}\n`);
}
