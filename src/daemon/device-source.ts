/**
 * The adapter from the device manager (src/drivers) to the core's {@link DeviceSource}: PC/SC
 * devices through the manager's per-reader queue, HID devices through a link opened per call.
 */
import type { DeviceInfo, DeviceManager } from "../drivers/device-manager.js";
import { otpbError } from "../lib/errors.js";
import type { HidTransport } from "../transports/hid-types.js";
import type { DeviceLink, DeviceSource } from "./core.js";

/**
 * @param openHid opens a HID device by path (node-hid's openHidTransport, or the simulation's
 *   in-memory key); omitted: HID devices cannot be used.
 */
export function managerSource(manager: DeviceManager, openHid?: (path: string) => Promise<HidTransport>): DeviceSource {
  return {
    list: () => manager.list(),
    onChange: (listener) => manager.on((event) => listener(event.devices)),
    async withDevice<T>(device: DeviceInfo, fn: (link: DeviceLink) => Promise<T>): Promise<T> {
      if (device.link === "pcsc" && device.reader !== undefined) {
        return manager.withReader(device.reader, (transport) => fn({ kind: "apdu", transport }));
      }
      if (device.link === "hid" && device.path !== undefined && openHid !== undefined) {
        const transport = await openHid(device.path);
        try {
          return await fn({ kind: "hid", transport });
        } finally {
          await transport.close();
        }
      }
      throw otpbError("NO_DEVICE", `device ${device.id} cannot be opened here`, { detail: { device: device.id } });
    },
  };
}
