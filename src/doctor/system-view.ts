/**
 * What the doctor and the clock check read of the machine, behind one interface so that tests can
 * hand them a fake system: a temporary directory laid out like `/` (proc/modules, sys/bus/usb/devices,
 * etc/udev/rules.d, run/...), read by the same code that reads the real files.
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

export interface HidProbe {
  ok: boolean;
  /** node-hid's backend on this platform, or the load error. */
  detail: string;
}

/** A native addon (pcsclite, better-sqlite3, node-hid) loaded once: ok, or why it failed. */
export interface AddonProbe {
  name: string;
  ok: boolean;
  /** The load error's message when it failed. */
  detail?: string;
}

/** The native addons otpbridge loads; each is loaded the way otpbridge does (binding included). */
export const NATIVE_ADDONS = ["pcsclite", "better-sqlite3", "node-hid"] as const;

export interface SystemView {
  /** "/" on the host; a temporary directory in tests. */
  readonly root: string;
  readonly platform: NodeJS.Platform;
  /** pcscd's client socket. */
  readonly pcscSocket: string;
  /** The readers pcscd lists (called only when its socket answers). */
  listReaders(): Promise<string[]>;
  /** Loads node-hid and enumerates once. */
  probeHid(): Promise<HidProbe>;
  /** Loads each native addon once (its compiled binding included). */
  probeAddons(): Promise<AddonProbe[]>;
  /** Runs a program and returns its standard output, or null when it is not installed or fails. */
  run(command: string, args: readonly string[]): string | null;
}

/** A path inside the view's root. */
export function at(view: SystemView, ...parts: string[]): string {
  return join(view.root, ...parts);
}

async function hostReaders(socketPath: string): Promise<string[]> {
  const { PcscManager } = await import("../transports/pcsc.js");
  const manager = await PcscManager.start({ socketPath });
  try {
    // pcscd announces readers asynchronously after the context is up; it polls every 400 ms.
    await new Promise((resolve) => setTimeout(resolve, 500));
    return manager.readers().map((r) => r.name);
  } finally {
    await manager.close();
  }
}

async function hostHid(): Promise<HidProbe> {
  try {
    const hid = await import("node-hid");
    await hid.devicesAsync();
    // node-hid 3 uses hidraw on Linux (libusb only when asked), IOHIDManager on macOS, HID.dll on Windows.
    const backend = process.platform === "linux" ? "hidraw (node-hid default on Linux)" : process.platform === "darwin" ? "IOHIDManager" : "Windows HID";
    return { ok: true, detail: backend };
  } catch (error) {
    return { ok: false, detail: (error as Error).message };
  }
}

async function loadAddon(name: (typeof NATIVE_ADDONS)[number]): Promise<void> {
  if (name === "better-sqlite3") {
    // The binding is loaded when the first database opens, not at import.
    const { default: Database } = await import("better-sqlite3");
    new Database(":memory:").close();
  } else if (name === "node-hid") {
    await (await import("node-hid")).devicesAsync();
  } else {
    await import("pcsclite");
  }
}

async function hostAddons(): Promise<AddonProbe[]> {
  return Promise.all(
    NATIVE_ADDONS.map(async (name) => {
      try {
        await loadAddon(name);
        return { name, ok: true };
      } catch (error) {
        return { name, ok: false, detail: (error as Error).message.replace(/\s+/g, " ").slice(0, 400) };
      }
    }),
  );
}

/** The real machine. */
export function hostSystemView(overrides: Partial<SystemView> = {}): SystemView {
  const pcscSocket = overrides.pcscSocket ?? process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
  return {
    root: "/",
    platform: process.platform,
    pcscSocket,
    listReaders: () => hostReaders(pcscSocket),
    probeHid: hostHid,
    probeAddons: hostAddons,
    run: (command, args) => {
      const r = spawnSync(command, [...args], { encoding: "utf8", timeout: 5000 });
      return r.error || r.status !== 0 ? null : r.stdout;
    },
    ...overrides,
  };
}
