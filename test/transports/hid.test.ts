import { devicesAsync } from "node-hid";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import {
  FIDO_USAGE_PAGE,
  listToken2HidDevices,
  openHidTransport,
  selectToken2Devices,
  TOKEN2_VENDOR_ID,
  type HidDeviceInfo,
} from "../../src/transports/hid.js";

/** node-hid `devices()` entries, shaped as hidapi reports them. */
function entry(path: string, fields: Partial<HidDeviceInfo>): HidDeviceInfo {
  return { vendorId: TOKEN2_VENDOR_ID, productId: 0x0022, path, interface: 0, ...fields };
}

describe("selectToken2Devices (docs/PROTOCOL.md §4.1)", () => {
  it("takes vendor 349E on the FIDO usage page and nothing else that is reported with a page", () => {
    const list = [
      entry("/dev/hidraw0", { usagePage: 0x0001, usage: 0x06, product: "TOKEN2 FIDO2 Security Key" }), // its keyboard
      entry("/dev/hidraw1", { usagePage: 0xff00, usage: 0x01 }), // a vendor page on the same key
      entry("/dev/hidraw2", { vendorId: 0x1050, productId: 0x0407, usagePage: FIDO_USAGE_PAGE }), // another maker
      entry("/dev/hidraw3", { usagePage: FIDO_USAGE_PAGE, usage: 0x01, product: "TOKEN2 FIDO2 Security Key", serialNumber: "S1" }),
      entry("/dev/hidraw4", { productId: 0x0014, usagePage: FIDO_USAGE_PAGE, usage: 0x01 }),
    ];
    expect(selectToken2Devices(list)).toEqual([
      { path: "/dev/hidraw3", vendorId: TOKEN2_VENDOR_ID, productId: 0x0022, product: "TOKEN2 FIDO2 Security Key", serialNumber: "S1", matchedBy: "usagePage" },
      { path: "/dev/hidraw4", vendorId: TOKEN2_VENDOR_ID, productId: 0x0014, product: undefined, serialNumber: undefined, matchedBy: "usagePage" },
    ]);
  });

  it("falls back to the product string, then PID 0022, only when no usage page is reported", () => {
    const list = [
      entry("p1", { productId: 0x0013, product: "TOKEN2 FIDO2 Security Key" }),
      entry("p2", { usagePage: 0 }),
      entry("p3", { productId: 0x0300, product: "Molto2" }), // the Molto2 is CCID, never a HID OTP device
      entry("p4", { productId: 0x0023, usagePage: 0 }),
    ];
    expect(selectToken2Devices(list).map((d) => [d.path, d.matchedBy])).toEqual([
      ["p1", "productString"],
      ["p2", "productId"],
    ]);
  });

  it("lists each path once, in list order, and skips entries without a path", () => {
    const list = [
      entry("/dev/hidraw7", { usagePage: 0x0001 }), // first collection of a multi-collection interface
      entry("/dev/hidraw7", { usagePage: FIDO_USAGE_PAGE }),
      entry("/dev/hidraw7", { usagePage: FIDO_USAGE_PAGE }),
      { vendorId: TOKEN2_VENDOR_ID, productId: 0x0022, usagePage: FIDO_USAGE_PAGE },
      entry("/dev/hidraw5", { usagePage: FIDO_USAGE_PAGE }),
    ];
    expect(selectToken2Devices(list).map((d) => d.path)).toEqual(["/dev/hidraw7", "/dev/hidraw5"]);
  });

  it("rejects something that is not a list", () => {
    expect(() => selectToken2Devices({} as unknown as HidDeviceInfo[])).toThrow(TypeError);
    expect(() => selectToken2Devices({} as unknown as HidDeviceInfo[])).toThrow(/must be an array/);
  });
});

describe("node-hid on this machine (no HID devices: the kernel has no USB and no uhid)", () => {
  it("lists exactly what the selection picks from node-hid's own list", async () => {
    const all = await devicesAsync();
    expect(await listToken2HidDevices()).toEqual(selectToken2Devices(all));
  });

  it("opening a path that is not present fails with DEVICE_GONE", async () => {
    const error = await openHidTransport("/dev/hidraw-otpbridge-absent").catch((e: unknown) => e);
    expect(reasonOf(error)).toBe("DEVICE_GONE");
    expect((error as Error).message).toMatch(/not present/);
  });

  it("refuses a path that is not a non-empty string with TypeError, INVALID_INPUT", async () => {
    for (const bad of ["", undefined, 3]) {
      const error = await openHidTransport(bad as string).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect(reasonOf(error)).toBe("INVALID_INPUT");
    }
  });
});
