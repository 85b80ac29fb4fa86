/**
 * APDUs over the Token2 FIDO key's HID vendor frames (docs/PROTOCOL.md §4.9): an {@link ApduTransport} on
 * top of any {@link HidTransport} (node-hid, or the in-memory link to the emulator). Each APDU is
 * split into 61-byte chunks, the answer reassembled; while the key waits for a touch it sends busy
 * frames (`21 C0`), and after 3 of them in a row the caller is asked to prompt "touch your key", as
 * keyroost does; after 20 s of busy frames the exchange gives up with BUTTON_TIMEOUT (§4.9).
 */
import { aint } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import { fragmentMessage, HidReassembler } from "../protocol/hid-frame.js";
import type { HidTransport } from "../transports/hid-types.js";
import type { ApduTransport } from "../transports/types.js";
import { OneAtATime } from "../lib/one-at-a-time.js";

export interface HidApduOptions {
  /** Called once per exchange, after 3 consecutive busy frames: the key wants a touch. */
  onTouch?: () => void;
  /** Give up this long after the first busy frame of an exchange (ms); default 20,000 (§4.9). */
  touchTimeoutMs?: number;
  /** Longest wait for any report when the key is not busy (ms); default 3,000 (keyroost's HID probe limit, §4.1). */
  replyTimeoutMs?: number;
}

/** Busy frames in a row before the touch prompt (keyroost, §4.9). */
const BUSY_FRAMES_BEFORE_PROMPT = 3;

/**
 * Wraps `hid` so that `transmit(apdu)` resolves with `data ‖ SW`. After an exchange fails half-way
 * (timeout, bad frame, touch give-up) the key may still answer the abandoned command later, which
 * would be read as the answer to the next one, so the channel then refuses further exchanges with
 * TRANSPORT_CLOSED: reopen the device. A status word, even 6FF9, is a complete exchange.
 * @throws RangeError (INVALID_INPUT) on a timeout outside 1 ms..600 s.
 * @example const channel = hidApduChannel(await openHidTransport(path), { onTouch: () => console.log("touch your key") });
 */
export function hidApduChannel(hid: HidTransport, options: HidApduOptions = {}): ApduTransport {
  const touchTimeoutMs = options.touchTimeoutMs ?? 20_000;
  const replyTimeoutMs = options.replyTimeoutMs ?? 3_000;
  aint(touchTimeoutMs, "touchTimeoutMs", 1, 600_000);
  aint(replyTimeoutMs, "replyTimeoutMs", 1, 600_000);
  let abandoned = false;
  const queue = new OneAtATime();

  async function exchange(apdu: Uint8Array): Promise<Uint8Array> {
    if (abandoned) {
      throw otpbError("TRANSPORT_CLOSED", "an earlier HID exchange was abandoned mid-way; reopen the key before the next command");
    }
    try {
      return await frames(apdu);
    } catch (error) {
      // Whatever broke the exchange (no answer in time, a bad frame, a touch timeout), the key may
      // still send the rest of its answer, which would be taken for the answer to the next command.
      abandoned = true;
      throw error;
    }
  }

  async function frames(apdu: Uint8Array): Promise<Uint8Array> {
    const reports = fragmentMessage(apdu);
    try {
      for (const report of reports) await hid.write(report);
    } finally {
      for (const report of reports) report.fill(0); // chunks of a sealed seed
    }
    const reassembler = new HidReassembler("response");
    let busy = 0;
    let busySince = 0;
    let prompted = false;
    for (;;) {
      const waitMs = busy === 0 ? replyTimeoutMs : Math.max(1, busySince + touchTimeoutMs - Date.now());
      let report: Uint8Array;
      try {
        report = await hid.read(waitMs);
      } catch (error) {
        if (busy > 0 && (error as { reason?: string }).reason === "DEVICE_TIMEOUT") throw giveUp(busy);
        throw error;
      }
      const step = reassembler.push(report);
      if (step.kind === "complete") return step.message;
      if (step.kind === "partial") continue;
      if (busy++ === 0) busySince = Date.now();
      if (busy >= BUSY_FRAMES_BEFORE_PROMPT && !prompted) {
        prompted = true;
        options.onTouch?.();
      }
      if (Date.now() - busySince >= touchTimeoutMs) throw giveUp(busy);
    }
  }

  function giveUp(busy: number): Error {
    return otpbError("BUTTON_TIMEOUT", `the key was not touched within ${touchTimeoutMs / 1000} s`, {
      detail: { busyFrames: busy, timeoutMs: touchTimeoutMs },
    });
  }

  return {
    // One exchange at a time: interleaved frames of two APDUs would break the sequence numbers.
    transmit(apdu: Uint8Array): Promise<Uint8Array> {
      return queue.run(() => exchange(apdu));
    },
    close: () => hid.close(),
  };
}
