/**
 * USB HID transport over node-hid (hidraw on Linux): finds the HID interface of Token2 FIDO keys and
 * moves whole 64-byte reports through it. The vendor framing (docs/PROTOCOL.md §4.9) lives in
 * src/protocol/hid-frame.ts; this file knows nothing of magic bytes, sequence numbers or busy frames.
 */
import { devicesAsync, HIDAsync } from "node-hid";
import { abytes, aint } from "../lib/checks.js";
import { inputError, otpbError, type OtpbridgeError } from "../lib/errors.js";
import { HID_REPORT_SIZE, MAX_READ_TIMEOUT_MS, type HidTransport } from "./hid-types.js";
import { OneAtATime } from "../lib/one-at-a-time.js";

/** USB vendor id shared by all Token2 products (docs/PROTOCOL.md §4.1, §3.1). */
export const TOKEN2_VENDOR_ID = 0x349e;
/** HID usage page of the FIDO interface, which also carries the OTP applet's frames (docs/PROTOCOL.md §4.1). */
export const FIDO_USAGE_PAGE = 0xf1d0;
/** The PID of the reference udev rule; used only when the backend reports no usage page (docs/PROTOCOL.md §4.1). */
export const TOKEN2_FIDO_PRODUCT_ID = 0x0022;

/**
 * node-hid runs one native job at a time per device, so a long blocking read would hold back close().
 * Reads therefore wait in slices: data still comes back as soon as it arrives, and close() waits at
 * most one slice.
 */
const READ_SLICE_MS = 100;

/** One entry of node-hid's `devices()` list (the fields selection uses). */
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  usagePage?: number | undefined;
  usage?: number | undefined;
  product?: string | undefined;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  interface?: number;
}

/** A HID interface that speaks Token2's OTP frames, ready for {@link openHidTransport}. */
export interface Token2HidDevice {
  path: string;
  vendorId: number;
  productId: number;
  product?: string | undefined;
  serialNumber?: string | undefined;
  /** Which rule of docs/PROTOCOL.md §4.1 picked it: the usage page, or a fallback when no page was reported. */
  matchedBy: "usagePage" | "productString" | "productId";
}

function matchRule(device: HidDeviceInfo): Token2HidDevice["matchedBy"] | undefined {
  if (device.usagePage === FIDO_USAGE_PAGE) return "usagePage";
  // A reported page other than FIDO is another interface of the same key (its HOTP keyboard, a vendor
  // page): never pick it. keyroost's product-string and PID rules would select the keyboard interface
  // of a PID 0022 key, so they apply only when the backend reports no usage page at all (0 or absent).
  if (device.usagePage !== undefined && device.usagePage !== 0) return undefined;
  if (device.product?.includes("FIDO2 Security Key")) return "productString";
  if (device.productId === TOKEN2_FIDO_PRODUCT_ID) return "productId";
  return undefined;
}

/**
 * Picks the Token2 FIDO-key HID interfaces out of a node-hid `devices()` list: vendor 0x349E and usage
 * page 0xF1D0, or the docs/PROTOCOL.md §4.1 fallbacks when the page is unknown. Each path appears once, in
 * list order (hidapi lists a path once per top-level collection).
 * @throws TypeError (INVALID_INPUT) if `devices` is not an array.
 * @example const [key] = selectToken2Devices(await HID.devicesAsync());
 */
export function selectToken2Devices(devices: readonly HidDeviceInfo[]): Token2HidDevice[] {
  if (!Array.isArray(devices)) {
    throw inputError("type", "devices must be an array of node-hid device descriptions");
  }
  const picked: Token2HidDevice[] = [];
  const seen = new Set<string>();
  for (const device of devices) {
    if (device.vendorId !== TOKEN2_VENDOR_ID || !device.path || seen.has(device.path)) continue;
    const matchedBy = matchRule(device);
    if (matchedBy === undefined) continue;
    seen.add(device.path);
    picked.push({
      path: device.path,
      vendorId: device.vendorId,
      productId: device.productId,
      product: device.product,
      serialNumber: device.serialNumber,
      matchedBy,
    });
  }
  return picked;
}

function hidUnavailable(cause: unknown): OtpbridgeError {
  return otpbError("HID_UNAVAILABLE", "node-hid cannot enumerate HID devices (is libusb-1.0 installed?)", {
    cause,
  });
}

/**
 * Lists the Token2 FIDO-key HID interfaces attached now.
 * @throws OtpbridgeError HID_UNAVAILABLE if node-hid's native part cannot load or enumerate.
 * @example for (const key of await listToken2HidDevices()) console.log(key.path, key.serialNumber);
 */
export async function listToken2HidDevices(): Promise<Token2HidDevice[]> {
  let all: HidDeviceInfo[];
  try {
    all = await devicesAsync();
  } catch (error) {
    throw hidUnavailable(error);
  }
  return selectToken2Devices(all);
}

/**
 * Opens a HID interface by its node-hid path (for example `/dev/hidraw3`).
 * @throws OtpbridgeError DEVICE_GONE if the path is no longer listed (unplugged since it was found),
 *   HID_UNAVAILABLE if node-hid cannot load or the OS refuses the open (permissions, udev rules).
 * @throws TypeError (INVALID_INPUT) if `path` is not a non-empty string.
 * @example const transport = await openHidTransport(key.path); await transport.write(report);
 */
export async function openHidTransport(path: string): Promise<HidTransport> {
  if (typeof path !== "string" || path.length === 0) {
    throw inputError("type", "path must be a non-empty string");
  }
  try {
    return new NodeHidTransport(await HIDAsync.open(path), path);
  } catch (error) {
    let listed: boolean;
    try {
      listed = (await devicesAsync()).some((device) => device.path === path);
    } catch (enumerationError) {
      throw hidUnavailable(enumerationError);
    }
    if (!listed) throw otpbError("DEVICE_GONE", `HID device ${path} is not present`, { detail: { path }, cause: error });
    throw otpbError("HID_UNAVAILABLE", `HID device ${path} is present but could not be opened (permissions?)`, {
      detail: { path },
      cause: error,
    });
  }
}

class NodeHidTransport implements HidTransport {
  readonly #hid: HIDAsync;
  readonly #path: string;
  #state: "open" | "gone" | "closed" = "open";
  #released: Promise<void> | undefined;
  /** Tail of the read queue: reads run one after another, in call order. */
  readonly #reads = new OneAtATime();

  constructor(hid: HIDAsync, path: string) {
    this.#hid = hid;
    this.#path = path;
  }

  async write(report: Uint8Array): Promise<void> {
    abytes(report, "report", { length: HID_REPORT_SIZE });
    this.#assertUsable();
    // Report ID 00 first: the OS wants it even though the key uses no numbered reports (docs/PROTOCOL.md §4.9, P1).
    const out = Buffer.alloc(HID_REPORT_SIZE + 1);
    out.set(report, 1);
    try {
      const written = await this.#hid.write(out);
      if (written !== out.length) throw new Error(`wrote ${written} of ${out.length} bytes`);
    } catch (error) {
      throw this.#failure("write", error);
    } finally {
      out.fill(0); // the report may carry (sealed) seed bytes
    }
  }

  async read(timeoutMs: number): Promise<Uint8Array> {
    aint(timeoutMs, "timeoutMs", 1, MAX_READ_TIMEOUT_MS);
    return this.#reads.run(() => this.#readNow(timeoutMs));
  }

  close(): Promise<void> {
    this.#state = "closed";
    return this.#release();
  }

  async #readNow(timeoutMs: number): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      this.#assertUsable();
      const slice = Math.min(READ_SLICE_MS, Math.max(1, Math.ceil(deadline - performance.now())));
      let data: Buffer | undefined;
      try {
        data = await this.#hid.read(slice);
      } catch (error) {
        throw this.#failure("read", error);
      }
      if (data !== undefined && data.length > 0) return this.#takeReport(data);
      if (performance.now() >= deadline) {
        throw otpbError("DEVICE_TIMEOUT", `no HID input report from ${this.#path} within ${timeoutMs} ms`, {
          detail: { path: this.#path, timeoutMs },
        });
      }
    }
  }

  #takeReport(data: Buffer): Uint8Array {
    try {
      this.#assertUsable();
      // Some stacks deliver the report ID byte in front of the 64-byte report (docs/PROTOCOL.md §4.9 "Reading").
      const view = data.length === HID_REPORT_SIZE + 1 && data[0] === 0 ? data.subarray(1) : data;
      if (view.length !== HID_REPORT_SIZE) {
        throw otpbError("MALFORMED_RESPONSE", `HID input report must be ${HID_REPORT_SIZE} bytes, got ${data.length}`, {
          detail: { path: this.#path, length: data.length },
        });
      }
      return new Uint8Array(view);
    } finally {
      data.fill(0);
    }
  }

  #assertUsable(): void {
    if (this.#state === "closed") {
      throw otpbError("TRANSPORT_CLOSED", `HID transport for ${this.#path} is closed`, { detail: { path: this.#path } });
    }
    if (this.#state === "gone") {
      throw otpbError("DEVICE_GONE", `HID device ${this.#path} went away`, { detail: { path: this.#path } });
    }
  }

  /**
   * A failed read or write on an open hidraw handle means the device is gone (unplugged, reset, or
   * destroyed) on every hidapi backend: the handle cannot recover and must be reopened, so it is
   * released at once and every later call fails the same way.
   */
  #failure(operation: "read" | "write", cause: unknown): OtpbridgeError {
    if (this.#state === "closed") {
      return otpbError("TRANSPORT_CLOSED", `HID transport for ${this.#path} was closed during ${operation}`, {
        detail: { path: this.#path, operation },
      });
    }
    this.#state = "gone";
    void this.#release();
    return otpbError("DEVICE_GONE", `HID device ${this.#path} went away during ${operation}`, {
      detail: { path: this.#path, operation },
      cause,
    });
  }

  #release(): Promise<void> {
    // Closing a handle whose device vanished can fail; there is nothing left to release then.
    this.#released ??= this.#hid.close().catch(() => undefined);
    return this.#released;
  }
}
