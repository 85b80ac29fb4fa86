import { chmodSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  PN533_BLACKLIST,
  TOKEN2_UDEV_RULE,
  checkFidoPermissions,
  checkHid,
  checkMolto2,
  checkPcscd,
  checkPn533,
  checkReaders,
} from "../../src/doctor/checks.js";
import { formatFindings, runDoctor } from "../../src/doctor/index.js";
import type { SystemView } from "../../src/doctor/system-view.js";
import { fakeSystem, usbDevice } from "./_system.js";

const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) c();
});
function system(overrides: Partial<SystemView> = {}) {
  const f = fakeSystem(overrides);
  cleanups.push(f.cleanup);
  return f;
}

describe("pcscd", () => {
  it("stopped: no socket → FAIL with the command that starts it", async () => {
    const { view } = system();
    const f = await checkPcscd(view);
    expect(f.level).toBe("error");
    expect(f.title).toMatch(/pcscd is not running/);
    expect(f.fix).toContain("sudo systemctl enable --now pcscd.socket");
  });

  it("a stale socket file that nobody listens on → FAIL with restart", async () => {
    const { view, write } = system();
    write("run/pcscd/pcscd.comm");
    const f = await checkPcscd(view);
    expect(f.level).toBe("error");
    expect(f.title).toMatch(/does not answer \(ECONNREFUSED\)/);
    expect(f.fix).toBe("sudo systemctl restart pcscd.socket pcscd");
  });

  it("a listening socket → ok, and the readers it lists", async () => {
    const { view, write } = system({ listReaders: async () => ["ACS ACR122U PICC Interface 00 00"] });
    write("run/pcscd/.keep");
    const server: Server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(view.pcscSocket, resolve));
    cleanups.push(() => server.close());
    expect((await checkPcscd(view)).level).toBe("ok");
    expect((await checkReaders(view)).finding.title).toBe("readers: ACS ACR122U PICC Interface 00 00");
  });

  it("no readers → WARN", async () => {
    const { view } = system();
    expect((await checkReaders(view)).finding.level).toBe("warn");
  });
});

describe("kernel NFC modules holding an ACR122U", () => {
  it("pn533_usb and nfc loaded, reader attached → FAIL printing the blacklist lines", () => {
    const { view, write } = system();
    write(
      "proc/modules",
      "pn533_usb 20480 0 - Live 0x0000000000000000\npn533 45056 1 pn533_usb, Live 0x0000000000000000\nnfc 135168 1 pn533, Live 0x0000000000000000\next4 1 0 - Live 0x0\n",
    );
    usbDevice(write, "1-2", "072f", "2200", "ACR122U PICC Interface");
    const f = checkPn533(view);
    expect(f.level).toBe("error");
    expect(f.title).toMatch(/held by the kernel modules pn533_usb, pn533, nfc/);
    expect(f.fix).toContain(PN533_BLACKLIST);
    expect(f.fix).toContain("/etc/modprobe.d/blacklist-pn533.conf");
    expect(f.fix).toContain("sudo modprobe -r pn533_usb pn533 nfc");
  });

  it("already blacklisted but still loaded → says so", () => {
    const { view, write } = system();
    write("proc/modules", "pn533_usb 20480 0 - Live 0x0\n");
    write("etc/modprobe.d/nfc.conf", "# local\nblacklist pn533_usb\n");
    usbDevice(write, "1-2", "072f", "2200", "ACR122U");
    expect(checkPn533(view).title).toMatch(/blacklisted in \/etc\/modprobe.d\/nfc.conf, but loaded/);
  });

  it("modules not loaded, or no reader → ok", () => {
    const { view, write } = system();
    usbDevice(write, "1-2", "072f", "2200", "ACR122U");
    write("proc/modules", "ext4 1 0 - Live 0x0\n");
    expect(checkPn533(view).level).toBe("ok");
  });
});

describe("Molto2 without a PC/SC reader", () => {
  it("on USB, not listed → FAIL with the libccid Info.plist fix (docs/PROTOCOL.md §3.1)", () => {
    const { view, write } = system();
    usbDevice(write, "3-1", "349e", "0300", "Molto2");
    const f = checkMolto2(view, ["ACS ACR122U PICC Interface 00 00"]);
    expect(f.level).toBe("error");
    expect(f.fix).toContain("/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist");
    expect(f.fix).toContain("<string>0x349E</string>");
    expect(f.fix).toContain("<string>0x0300</string>");
    expect(f.fix).toContain("<string>Token2 Molto2</string>");
  });

  it("macOS gets its own Info.plist path", () => {
    const { view, write } = system({ platform: "darwin" });
    usbDevice(write, "3-1", "349e", "0300", "Molto2");
    expect(checkMolto2(view, []).fix).toContain("/usr/local/libexec/SmartCardServices/drivers/ifd-ccid.bundle");
  });

  it("listed by pcscd → ok; a FIDO key (other PID) is not a Molto2", () => {
    const { view, write } = system();
    usbDevice(write, "3-1", "349e", "0300", "Molto2");
    expect(checkMolto2(view, ["TOKEN2 Molto2 [CCID Interface] 00 00"]).level).toBe("ok");
    const other = system();
    usbDevice(other.write, "3-1", "349e", "0022", "PIN+");
    expect(checkMolto2(other.view, []).title).toBe("no Molto2 on USB");
  });
});

describe("node-hid and libusb", () => {
  it("libusb missing and node-hid failing → two FAILs with the package to install", async () => {
    const { view } = system({ probeHid: async () => ({ ok: false, detail: "libusb-1.0.so.0: cannot open shared object file" }) });
    const [libusb, hid] = await checkHid(view);
    expect(libusb).toMatchObject({ level: "error", fix: "sudo apt install libusb-1.0-0" });
    expect(hid!.level).toBe("error");
    expect(hid!.title).toContain("libusb-1.0.so.0");
  });

  it("libusb present and node-hid loading → ok with the backend", async () => {
    const { view, write } = system();
    write("usr/lib/x86_64-linux-gnu/libusb-1.0.so.0");
    const findings = await checkHid(view);
    expect(findings.map((f) => f.level)).toEqual(["ok", "ok"]);
    expect(findings[1]!.title).toContain("hidraw");
  });
});

describe("permission to open Token2 FIDO keys", () => {
  function withKey() {
    const s = system();
    usbDevice(s.write, "1-4", "349e", "0022", "PIN+ R3");
    s.write("sys/bus/usb/devices/1-4/1-4:1.0/0003:349E:0022.0001/hidraw/hidraw3/dev", "243:3\n");
    s.write("dev/hidraw3");
    return s;
  }

  it("no udev rule → the rule to install", () => {
    const { view } = withKey();
    const f = checkFidoPermissions(view);
    expect(["warn", "error"]).toContain(f.level);
    expect(f.fix).toContain(TOKEN2_UDEV_RULE);
    expect(f.fix).toContain("sudo udevadm control --reload-rules && sudo udevadm trigger");
  });

  it.runIf(process.getuid?.() !== 0)("a hidraw node the user cannot open → FAIL naming it", () => {
    const { view } = withKey();
    chmodSync(join(view.root, "dev/hidraw3"), 0o000);
    expect(checkFidoPermissions(view)).toMatchObject({ level: "error", title: expect.stringContaining("/dev/hidraw3") });
  });

  it("with the rule installed → ok", () => {
    const { view, write } = withKey();
    write("etc/udev/rules.d/70-token2.rules", `${TOKEN2_UDEV_RULE}\n`);
    expect(checkFidoPermissions(view)).toMatchObject({ level: "ok", title: expect.stringContaining("/etc/udev/rules.d/70-token2.rules") });
  });
});

describe("runDoctor", () => {
  it("pcscd stopped: readers are not asked, every other check still runs, fixes printed", async () => {
    const { view, write } = system({
      listReaders: async () => {
        throw new Error("must not be called while pcscd is down");
      },
    });
    usbDevice(write, "3-1", "349e", "0300", "Molto2");
    writeFileSync(join(view.root, "sys/bus/usb/devices/3-1/product"), "Molto2\n");
    const findings = await runDoctor(view);
    expect(findings.map((f) => f.check)).toEqual(["pcscd", "pn533", "molto2", "libusb", "node-hid", "addons", "fido-permissions", "clock"]);
    const text = formatFindings(findings);
    expect(text).toMatch(/^\[FAIL\] pcscd is not running/);
    expect(text).toContain("       sudo systemctl enable --now pcscd.socket");
    expect(text).toContain("[FAIL] a Molto2 is on USB");
  });
});
