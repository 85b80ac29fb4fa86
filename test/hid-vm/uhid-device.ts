/**
 * A virtual USB HID device made through /dev/uhid (Linux, root), answering the host's output reports
 * with whatever a {@link HidReportDevice} returns: the device side of the HID end-to-end test in the VM.
 * Generic on purpose: a small fixture answers in one scenario, the Token2 FIDO-key emulator in another.
 */
import { closeSync, openSync, read, writeSync } from "node:fs";
import type { HidReportDevice } from "../../src/transports/hid-types.js";
import {
  decodeOutput,
  encodeCreate2,
  encodeDestroy,
  encodeInput2,
  encodeReportRefusal,
  eventType,
  UHID_EVENT_SIZE,
  UHID_OUTPUT_REPORT,
  UhidEvent,
  type UhidDeviceSpec,
} from "./uhid.js";

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes of one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * One virtual HID device. Each instance holds its own /dev/uhid file descriptor and a read that blocks
 * in libuv's thread pool: processes with more than three devices should raise UV_THREADPOOL_SIZE.
 */
export class UhidDevice {
  /** When UHID_CREATE2 was written ({@link nowMs}). */
  readonly createdAt: number;
  /** Resolves when the kernel's HID driver has bound to the device (UHID_START). */
  readonly started: Promise<void>;
  readonly #fd: number;
  readonly #device: HidReportDevice;
  readonly #ended: Promise<void>;
  #destroyed = false;

  private constructor(fd: number, device: HidReportDevice, createdAt: number) {
    this.#fd = fd;
    this.#device = device;
    this.createdAt = createdAt;
    let onStart!: () => void;
    this.started = new Promise((resolve) => (onStart = resolve));
    this.#ended = this.#serve(onStart);
  }

  /** Creates the device: it appears as /dev/hidrawN once the kernel has bound hid-generic to it. */
  static create(spec: UhidDeviceSpec, device: HidReportDevice, uhidPath = "/dev/uhid"): UhidDevice {
    const fd = openSync(uhidPath, "r+");
    const createdAt = nowMs();
    writeSync(fd, encodeCreate2(spec));
    return new UhidDevice(fd, device, createdAt);
  }

  /**
   * Unplugs the device (UHID_DESTROY): open hidraw handles fail from now on. Resolves once the kernel
   * has stopped the driver (UHID_STOP) and the file descriptor is closed.
   */
  async destroy(): Promise<void> {
    if (this.#destroyed) return this.#ended;
    this.#destroyed = true;
    writeSync(this.#fd, encodeDestroy());
    await this.#ended;
  }

  /**
   * Sends an input report the device produces on its own (busy frames while it waits for a touch).
   * Ignored once the device is being destroyed.
   */
  send(report: Uint8Array): void {
    if (!this.#destroyed) writeSync(this.#fd, encodeInput2(report));
  }

  async #serve(onStart: () => void): Promise<void> {
    const event = Buffer.alloc(UHID_EVENT_SIZE);
    try {
      for (;;) {
        const size = await new Promise<number>((resolve, reject) =>
          read(this.#fd, event, 0, UHID_EVENT_SIZE, null, (error, bytes) => (error ? reject(error) : resolve(bytes))),
        );
        if (size < 4) continue;
        const type = eventType(event);
        if (type === UhidEvent.START) onStart();
        else if (type === UhidEvent.OUTPUT) this.#answer(event);
        else if (type === UhidEvent.GET_REPORT || type === UhidEvent.SET_REPORT) {
          writeSync(this.#fd, encodeReportRefusal(event));
        } else if (type === UhidEvent.STOP && this.#destroyed) break;
      }
    } finally {
      closeSync(this.#fd);
    }
  }

  #answer(event: Buffer): void {
    const { reportType, report } = decodeOutput(event);
    if (reportType !== UHID_OUTPUT_REPORT) return;
    for (const reply of this.#device.handleReport(report)) writeSync(this.#fd, encodeInput2(reply));
  }
}
