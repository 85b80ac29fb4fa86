/**
 * The USB-HID face of an {@link OtpAppletKey} (docs/PROTOCOL.md §4.9): takes the host's output reports,
 * reassembles APDUs, answers with 64-byte input reports, and sends busy frames (`21 C0`) while a
 * command waits for a touch, until one arrives or 20 s pass (§4.12). Synchronous: the in-process
 * HID transport (or a uhid bridge in a VM) calls poll() at its own rate, which is the busy-frame
 * rate; §4.9 suggests 100-500 ms [EMU].
 */
import { abytes, aint } from "../lib/checks.js";
import { busyReport, fragmentMessage, HID_MAGIC, HidReassembler } from "../protocol/hid-frame.js";
import { SW, swBytes } from "../protocol/status-words.js";
import { systemClock, type Clock } from "./common.js";
import type { OtpAppletKey } from "./otp-applet-key.js";

export interface OtpAppletHidOptions {
  /** Clock for the touch timeout (Unix seconds); default the system clock. */
  clock?: Clock;
  /** Seconds to wait for a touch before answering 6FF9; default 20 (keyroost's limit, §4.9). */
  touchTimeout?: number;
}

/**
 * HID device side. Reports whose first payload byte is not `21` are CTAPHID traffic, which shares
 * the interface [INF] and is not emulated: they get no answer. A malformed Token2 frame drops the
 * partial message and is answered with SW 6700 [EMU], so a host sees a failure instead of a hang.
 */
export class OtpAppletHidDevice {
  private readonly reassembler = new HidReassembler("command");
  private readonly clock: Clock;
  private readonly timeout: number;
  private pending: { apdu: Uint8Array; since: number } | null = null;

  /** @throws RangeError (INVALID_INPUT) on a touchTimeout outside 1..600 s. */
  constructor(
    readonly key: OtpAppletKey,
    options: OtpAppletHidOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.timeout = options.touchTimeout ?? 20;
    aint(this.timeout, "touchTimeout", 1, 600);
  }

  /** True while a command waits for a touch. */
  get waitingForTouch(): boolean {
    return this.pending !== null;
  }

  /**
   * Feeds one output report (64 bytes, or 65 with the `00` report ID) and returns the input
   * reports the device would send now (possibly none).
   * @throws TypeError (INVALID_INPUT) if report is not a Uint8Array; never for any byte content.
   */
  handleReport(report: Uint8Array): Uint8Array[] {
    abytes(report, "report");
    const payload = report.length === 65 && report[0] === 0x00 ? report.subarray(1) : report;
    if (payload[0] !== HID_MAGIC) return [];
    if (this.pending !== null) return [busyReport()];
    let step;
    try {
      step = this.reassembler.push(report);
    } catch {
      return fragmentMessage(swBytes(SW.WRONG_LENGTH));
    }
    if (step.kind !== "complete") return [];
    if (this.key.needsTouch(step.message, true) && !this.key.touchAvailable) {
      this.pending = { apdu: step.message, since: this.clock() };
      return [busyReport()];
    }
    return fragmentMessage(this.key.transmitHid(step.message));
  }

  /**
   * Called by the host side while it waits: a busy frame, or the answer once the key was touched
   * (or 6FF9 once the timeout passed). Nothing if no command is pending.
   */
  poll(): Uint8Array[] {
    if (this.pending === null) return [];
    const { apdu, since } = this.pending;
    if (this.key.touchAvailable) {
      this.pending = null;
      return fragmentMessage(this.key.transmitHid(apdu));
    }
    if (this.clock() - since >= this.timeout) {
      this.pending = null;
      return fragmentMessage(swBytes(SW.BUTTON_TIMEOUT));
    }
    return [busyReport()];
  }
}
