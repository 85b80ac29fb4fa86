/**
 * Reading the kernel's view of USB and modules from a system root: /sys/bus/usb/devices/<dev>/
 * {idVendor,idProduct,product} and /proc/modules (one module per line, name first).
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { at, type SystemView } from "./system-view.js";

export interface UsbDevice {
  /** sysfs name, e.g. "1-2". */
  name: string;
  vid: string;
  pid: string;
  product: string;
  /** hidraw nodes under the device's interfaces (e.g. "hidraw3"). */
  hidraw: string[];
}

const read = (path: string): string => (existsSync(path) ? readFileSync(path, "utf8").trim() : "");

/** USB devices (not interfaces) under /sys/bus/usb/devices, with lower-case hex ids. */
export function usbDevices(view: SystemView): UsbDevice[] {
  const base = at(view, "sys/bus/usb/devices");
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((name) => existsSync(join(base, name, "idVendor")))
    .map((name) => ({
      name,
      vid: read(join(base, name, "idVendor")).toLowerCase(),
      pid: read(join(base, name, "idProduct")).toLowerCase(),
      product: read(join(base, name, "product")),
      hidraw: hidrawNodes(join(base, name)),
    }));
}

/** <dev>/<interface>/<hid device>/hidraw/hidrawN, as sysfs nests them. */
function hidrawNodes(deviceDir: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 3 || !existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      if (entry.name === "hidraw") found.push(...readdirSync(join(dir, entry.name)).filter((n) => n.startsWith("hidraw")));
      else if (/^\d+-[\d.]+:|^[0-9A-F]{4}:/.test(entry.name)) walk(join(dir, entry.name), depth + 1);
    }
  };
  walk(deviceDir, 0);
  return found;
}

/** Names of the loaded kernel modules (/proc/modules). */
export function loadedModules(view: SystemView): Set<string> {
  return new Set(
    read(at(view, "proc/modules"))
      .split("\n")
      .map((line) => line.split(" ")[0]!)
      .filter((name) => name.length > 0),
  );
}

/** Every non-comment line of the files in the given directories of the root (modprobe.d, rules.d). */
export function configLines(view: SystemView, dirs: readonly string[]): { file: string; line: string }[] {
  const out: { file: string; line: string }[] = [];
  for (const dir of dirs) {
    const full = at(view, dir);
    if (!existsSync(full)) continue;
    for (const file of readdirSync(full)) {
      for (const line of read(join(full, file)).split("\n")) {
        if (line.trim() && !line.trim().startsWith("#")) out.push({ file: join("/", dir, file), line: line.trim() });
      }
    }
  }
  return out;
}
