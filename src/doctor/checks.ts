/**
 * The doctor's checks. Each is a small function of a {@link SystemView} returning findings, each
 * finding with the exact fix. docs/PROTOCOL.md §3.1 (Molto2 CCID identity and libccid), §4.1 (FIDO keys).
 */
import { existsSync, accessSync, constants } from "node:fs";
import { connect } from "node:net";
import { clockSyncState } from "./clock.js";
import { at, type SystemView } from "./system-view.js";
import { configLines, loadedModules, usbDevices } from "./usb.js";

export type Level = "ok" | "info" | "warn" | "error";

export interface Finding {
  check: string;
  level: Level;
  title: string;
  /** The exact commands or lines that fix it. */
  fix?: string;
}

/** Token2's USB vendor id; PID 0300 is the Molto2 and only it (docs/PROTOCOL.md §3.1). */
export const TOKEN2_VID = "349e";
export const MOLTO2_PID = "0300";
/** ACS ACR122U, a PN533-based reader that the kernel's NFC stack grabs. */
const ACR122U = { vid: "072f", pid: "2200" };
const PN533_MODULES = ["pn533_usb", "pn533", "nfc"];

export const PN533_BLACKLIST = "blacklist pn533_usb\nblacklist pn533\nblacklist nfc";
export const TOKEN2_UDEV_RULE = 'KERNEL=="hidraw*", SUBSYSTEM=="hidraw", ATTRS{idVendor}=="349e", MODE="0660", GROUP="plugdev", TAG+="uaccess"';

function pcscdFix(view: SystemView): string {
  return view.platform === "linux"
    ? "sudo apt install pcscd   # or your distribution's pcsc-lite package\nsudo systemctl enable --now pcscd.socket"
    : "start the smart-card service of your system";
}

/** Whether pcscd's socket exists and accepts a connection (a stale socket file refuses). */
export async function checkPcscd(view: SystemView): Promise<Finding> {
  const check = "pcscd";
  if (!existsSync(view.pcscSocket)) {
    return { check, level: "error", title: `pcscd is not running (no socket at ${view.pcscSocket})`, fix: pcscdFix(view) };
  }
  const reachable = await new Promise<string | null>((resolve) => {
    const socket = connect(view.pcscSocket);
    socket.once("connect", () => {
      socket.destroy();
      resolve(null);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
  if (reachable !== null) {
    return {
      check,
      level: "error",
      title: `pcscd's socket ${view.pcscSocket} exists but does not answer (${reachable}): the service died or another user owns it`,
      fix: "sudo systemctl restart pcscd.socket pcscd",
    };
  }
  return { check, level: "ok", title: `pcscd answers on ${view.pcscSocket}` };
}

/** The readers pcscd lists. */
export async function checkReaders(view: SystemView): Promise<{ finding: Finding; readers: string[] }> {
  const readers = await view.listReaders();
  if (readers.length === 0) {
    return {
      readers,
      finding: {
        check: "readers",
        level: "warn",
        title: "pcscd lists no reader",
        fix: "plug the reader in; if it still does not appear, see the other findings (kernel NFC modules, CCID driver)",
      },
    };
  }
  return { readers, finding: { check: "readers", level: "ok", title: `readers: ${readers.join("; ")}` } };
}

/** A PN533 reader (ACR122U) that the kernel's pn533_usb/nfc modules hold, so pcscd cannot use it. */
export function checkPn533(view: SystemView): Finding {
  const check = "pn533";
  const reader = usbDevices(view).find((d) => d.vid === ACR122U.vid && d.pid === ACR122U.pid);
  const loaded = PN533_MODULES.filter((m) => loadedModules(view).has(m));
  if (reader === undefined) return { check, level: "ok", title: "no PN533 reader (ACR122U) attached" };
  if (loaded.length === 0) return { check, level: "ok", title: "ACR122U attached; the kernel NFC modules are not loaded" };
  const blacklisted = configLines(view, ["etc/modprobe.d"]).filter((l) => /^blacklist\s+(pn533_usb|pn533|nfc)\b/.test(l.line));
  return {
    check,
    level: "error",
    title:
      `the ACR122U is held by the kernel module${loaded.length > 1 ? "s" : ""} ${loaded.join(", ")}, so pcscd cannot open it` +
      (blacklisted.length > 0 ? ` (blacklisted in ${blacklisted[0]!.file}, but loaded since: reboot or unload)` : ""),
    fix: `put these lines in /etc/modprobe.d/blacklist-pn533.conf:\n${PN533_BLACKLIST}\nthen: sudo modprobe -r ${PN533_MODULES.join(" ")}, and unplug and replug the reader`,
  };
}

/** The libccid Info.plist fix for a Molto2 that CCID does not claim (docs/PROTOCOL.md §3.1). */
export function ccidFix(view: SystemView): string {
  const plist =
    view.platform === "darwin"
      ? "/usr/local/libexec/SmartCardServices/drivers/ifd-ccid.bundle/Contents/Info.plist"
      : "/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist";
  return (
    `In ${plist}, append at the same position of the three arrays:\n` +
    "  ifdVendorID:     <string>0x349E</string>\n" +
    "  ifdProductID:    <string>0x0300</string>\n" +
    "  ifdFriendlyName: <string>Token2 Molto2</string>\n" +
    (view.platform === "darwin" ? "then unplug and replug the Molto2" : "then: sudo systemctl restart pcscd, and replug the Molto2")
  );
}

/** A Molto2 on USB (349E:0300) that pcscd does not list as a reader. */
export function checkMolto2(view: SystemView, readers: readonly string[]): Finding {
  const check = "molto2";
  const molto = usbDevices(view).find((d) => d.vid === TOKEN2_VID && d.pid === MOLTO2_PID);
  if (molto === undefined) return { check, level: "ok", title: "no Molto2 on USB" };
  if (readers.some((r) => /molto/i.test(r))) return { check, level: "ok", title: "Molto2 attached and listed by pcscd" };
  return {
    check,
    level: "error",
    title: "a Molto2 is on USB (349E:0300) but pcscd lists no Molto2 reader: the CCID driver does not know its id",
    fix: ccidFix(view),
  };
}

/** Where libusb-1.0 lives on common Linux layouts. */
const LIBUSB_DIRS = ["usr/lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib64", "usr/lib", "lib"];

/** node-hid loads and enumerates; on Linux its prebuilt binary needs libusb-1.0 at run time. */
export async function checkHid(view: SystemView): Promise<Finding[]> {
  const findings: Finding[] = [];
  if (view.platform === "linux") {
    const libusb = LIBUSB_DIRS.some((d) => existsSync(at(view, d, "libusb-1.0.so.0")));
    findings.push(
      libusb
        ? { check: "libusb", level: "ok", title: "libusb-1.0 is installed" }
        : { check: "libusb", level: "error", title: "libusb-1.0 is not installed: node-hid cannot load", fix: "sudo apt install libusb-1.0-0" },
    );
  }
  const probe = await view.probeHid();
  findings.push(
    probe.ok
      ? { check: "node-hid", level: "ok", title: `node-hid loads; backend ${probe.detail}` }
      : {
          check: "node-hid",
          level: "error",
          title: `node-hid does not load: ${probe.detail}`,
          fix: "sudo apt install libusb-1.0-0; then npm rebuild node-hid",
        },
  );
  return findings;
}

/**
 * Each native addon loads in this Node. One compiled for another Node (the module version differs:
 * Node was upgraded after the install) or never compiled (install scripts not allowed) is named,
 * with the command that rebuilds it in place.
 */
export async function checkAddons(view: SystemView, installRoot: string): Promise<Finding> {
  const probes = await view.probeAddons();
  const failed = probes.filter((p) => !p.ok);
  if (failed.length === 0)
    return { check: "addons", level: "ok", title: `native addons load in Node ${process.versions.node}: ${probes.map((p) => p.name).join(", ")}` };
  const reasons = failed.map((p) => {
    const abi = /NODE_MODULE_VERSION (\d+)[\s\S]*NODE_MODULE_VERSION (\d+)/.exec(p.detail ?? "");
    if (abi) return `${p.name} was built for another Node.js (module version ${abi[1]}; Node ${process.versions.node} needs ${abi[2]})`;
    if (/Could not locate the bindings file|Cannot find module .*\.node|No native build was found/.test(p.detail ?? "")) {
      return `${p.name} was never compiled (its install script did not run)`;
    }
    return `${p.name} does not load: ${p.detail}`;
  });
  return {
    check: "addons",
    level: "error",
    title: reasons.join("; "),
    fix:
      `cd ${JSON.stringify(installRoot)} && npm rebuild ${failed.map((p) => p.name).join(" ")}\n` +
      "# pcsclite compiles with node-gyp: sudo apt install build-essential python3 libpcsclite-dev",
  };
}

/** Token2 FIDO keys (349E, not the Molto2): their hidraw nodes must be readable and writable. */
export function checkFidoPermissions(view: SystemView): Finding {
  const check = "fido-permissions";
  const keys = usbDevices(view).filter((d) => d.vid === TOKEN2_VID && d.pid !== MOLTO2_PID);
  const rule = configLines(view, ["etc/udev/rules.d", "usr/lib/udev/rules.d", "lib/udev/rules.d"]).find(
    (l) => /hidraw/.test(l.line) && /idVendor\}=="349e"/i.test(l.line),
  );
  const fix = `echo '${TOKEN2_UDEV_RULE}' | sudo tee /etc/udev/rules.d/70-token2.rules\nsudo udevadm control --reload-rules && sudo udevadm trigger\n# then replug the key`;
  if (keys.length === 0) {
    return rule
      ? { check, level: "ok", title: `no Token2 FIDO key attached; udev rule present (${rule.file})` }
      : { check, level: "info", title: "no Token2 FIDO key attached; no udev rule for Token2 keys yet", fix };
  }
  const closed = keys
    .flatMap((k) => k.hidraw)
    .filter((node) => {
      try {
        accessSync(at(view, "dev", node), constants.R_OK | constants.W_OK);
        return false;
      } catch {
        return true;
      }
    });
  if (closed.length > 0) {
    return { check, level: "error", title: `cannot open ${closed.map((n) => `/dev/${n}`).join(", ")} (Token2 FIDO key): no permission`, fix };
  }
  if (!rule) return { check, level: "warn", title: "Token2 FIDO key opens now, but no udev rule keeps it so for a normal user", fix };
  return { check, level: "ok", title: `Token2 FIDO key${keys.length > 1 ? "s" : ""} can be opened; udev rule ${rule.file}` };
}

/** The system clock's synchronisation state (a burn sets the token clock from it). */
export function checkClock(view: SystemView): Finding {
  const { state, source } = clockSyncState(view);
  if (state === "synchronized") return { check: "clock", level: "ok", title: `system clock synchronised (${source})` };
  if (state === "unsynchronized") {
    return {
      check: "clock",
      level: "error",
      title: "system clock is not synchronised: tokens would get a wrong time",
      fix: "sudo timedatectl set-ntp true   # or install and start chrony / systemd-timesyncd",
    };
  }
  return {
    check: "clock",
    level: "warn",
    title: `system clock sync state unknown (${source}); burn with --ntp HOST to compare with a time server`,
    fix: "sudo apt install systemd-timesyncd && sudo timedatectl set-ntp true",
  };
}
