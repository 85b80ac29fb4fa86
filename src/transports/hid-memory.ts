/**
 * In-process HID link: a {@link HidTransport} whose far end is a {@link HidReportDevice} (the Token2
 * FIDO-key emulator, or a test fixture) instead of node-hid. Behaves like the node-hid transport where
 * a driver can tell: whole 64-byte reports, reads served in call order, DEVICE_TIMEOUT after the real
 * time has passed, DEVICE_GONE after {@link MemoryHidTransport.unplug}, TRANSPORT_CLOSED after close().
 */
import { abytes, aint } from "../lib/checks.js";
import { otpbError, type OtpbridgeError } from "../lib/errors.js";
import { HID_REPORT_SIZE, MAX_READ_TIMEOUT_MS, type HidReportDevice, type HidTransport } from "./hid-types.js";
import { OneAtATime } from "../lib/one-at-a-time.js";

interface Waiter {
  deliver(): void;
  fail(error: OtpbridgeError): void;
}

/**
 * A HID transport wired straight to a device object in the same process.
 * @example const transport = new MemoryHidTransport(emulator); await transport.write(report);
 */
export class MemoryHidTransport implements HidTransport {
  readonly #device: HidReportDevice;
  readonly #name: string;
  /** Input reports the device produced and nobody has read yet. */
  #queue: Uint8Array[] = [];
  #state: "open" | "gone" | "closed" = "open";
  #waiter: Waiter | undefined;
  readonly #reads = new OneAtATime();

  /** @param name shown in error messages in place of a device path. */
  constructor(device: HidReportDevice, name = "memory-hid") {
    this.#device = device;
    this.#name = name;
  }

  /**
   * Hands a copy of the report to the device and queues the reports it answers with.
   * @throws OtpbridgeError MALFORMED_RESPONSE if the device answers with a report that is not 64 bytes,
   *   DEVICE_GONE after unplug(), TRANSPORT_CLOSED after close().
   * @throws RangeError (INVALID_INPUT) unless the report is exactly 64 bytes.
   */
  async write(report: Uint8Array): Promise<void> {
    abytes(report, "report", { length: HID_REPORT_SIZE });
    this.#assertUsable();
    const replies = this.#device.handleReport(new Uint8Array(report));
    if (!Array.isArray(replies)) {
      throw otpbError("MALFORMED_RESPONSE", `${this.#name}: handleReport must return an array of reports`);
    }
    for (const reply of replies) {
      if (!(reply instanceof Uint8Array) || reply.length !== HID_REPORT_SIZE) {
        throw otpbError("MALFORMED_RESPONSE", `${this.#name}: every input report must be ${HID_REPORT_SIZE} bytes`);
      }
    }
    for (const reply of replies) this.#queue.push(new Uint8Array(reply));
    this.#waiter?.deliver();
  }

  /**
   * Returns the next queued input report, or waits up to `timeoutMs` for one.
   * @throws OtpbridgeError DEVICE_TIMEOUT, DEVICE_GONE, TRANSPORT_CLOSED (see {@link HidTransport.read}).
   * @throws RangeError (INVALID_INPUT) unless 1 <= timeoutMs <= MAX_READ_TIMEOUT_MS.
   */
  async read(timeoutMs: number): Promise<Uint8Array> {
    aint(timeoutMs, "timeoutMs", 1, MAX_READ_TIMEOUT_MS);
    return this.#reads.run(() => this.#readNow(timeoutMs));
  }

  /** Simulates the device being pulled out: a waiting read fails with DEVICE_GONE, and so does every later call. */
  unplug(): void {
    if (this.#state !== "open") return;
    this.#state = "gone";
    this.#drop();
    this.#waiter?.fail(otpbError("DEVICE_GONE", `${this.#name} went away`, { detail: { path: this.#name } }));
  }

  /** Ends the link: a waiting read fails with TRANSPORT_CLOSED. Idempotent. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#drop();
    this.#waiter?.fail(this.#closedError());
  }

  #readNow(timeoutMs: number): Promise<Uint8Array> {
    this.#assertUsable();
    const ready = this.#queue.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.#waiter = undefined;
      };
      const timer = setTimeout(() => {
        settle();
        reject(
          otpbError("DEVICE_TIMEOUT", `no HID input report from ${this.#name} within ${timeoutMs} ms`, {
            detail: { path: this.#name, timeoutMs },
          }),
        );
      }, timeoutMs);
      this.#waiter = {
        deliver: () => {
          const report = this.#queue.shift();
          if (report === undefined) return;
          settle();
          resolve(report);
        },
        fail: (error) => {
          settle();
          reject(error);
        },
      };
    });
  }

  /** Zeroes and forgets unread reports: they may hold sealed seed material. */
  #drop(): void {
    for (const report of this.#queue) report.fill(0);
    this.#queue = [];
  }

  #closedError(): OtpbridgeError {
    return otpbError("TRANSPORT_CLOSED", `HID transport for ${this.#name} is closed`, { detail: { path: this.#name } });
  }

  #assertUsable(): void {
    if (this.#state === "closed") throw this.#closedError();
    if (this.#state === "gone") {
      throw otpbError("DEVICE_GONE", `${this.#name} went away`, { detail: { path: this.#name } });
    }
  }
}
