/**
 * Token2 OTP-applet USB-HID vendor framing (docs/PROTOCOL.md §4.9), not CTAPHID. Payload of one 64-byte
 * report: magic `21`, flags (high nibble) | sequence (low nibble), chunk length 0..61, chunk.
 * The host writes 65 bytes (report ID `00` first). Reassembly is a resumable state machine with
 * explicit limits, so a device side and a host side share it.
 */
import { abytes, aint } from "../lib/checks.js";
import { malformed, hexByte, type WireSide } from "./_errors.js";

export const HID_MAGIC = 0x21;
/** Payload bytes of one report, without the report ID. */
export const HID_REPORT_SIZE = 64;
/** Message bytes per report. */
export const HID_CHUNK_SIZE = 61;
/** Last (or only) frame of a message. */
export const HID_FLAG_LAST = 0x00;
/** More frames follow. */
export const HID_FLAG_MORE = 0x20;
/** Device busy, waiting for a touch (device to host only); length and data are ignored. */
export const HID_FLAG_BUSY = 0xc0;
/** Default message limit: a short APDU with a 255-byte body, or a response with 256 data bytes, fits easily. */
export const HID_DEFAULT_MAX_MESSAGE = 4096;

/**
 * Splits a message (an APDU, or response data ‖ SW) into 64-byte report payloads; sequence numbers
 * are the chunk index modulo 16, starting at 0 (§4.9). An empty message is one empty last frame.
 * @throws TypeError (INVALID_INPUT) if message is not a Uint8Array.
 * @example fragmentMessage(getEcdhPubkeyApdu()) // one report: 21 00 05 80 C5 01 00 00 00…
 */
export function fragmentMessage(message: Uint8Array): Uint8Array[] {
  abytes(message, "message");
  const count = Math.max(1, Math.ceil(message.length / HID_CHUNK_SIZE));
  const reports: Uint8Array[] = [];
  for (let k = 0; k < count; k++) {
    const chunk = message.subarray(k * HID_CHUNK_SIZE, (k + 1) * HID_CHUNK_SIZE);
    const report = new Uint8Array(HID_REPORT_SIZE);
    report[0] = HID_MAGIC;
    report[1] = (k === count - 1 ? HID_FLAG_LAST : HID_FLAG_MORE) | (k & 0x0f);
    report[2] = chunk.length;
    report.set(chunk, 3);
    reports.push(report);
  }
  return reports;
}

/**
 * The 65-byte output write of one payload: report ID `00` then the 64 bytes (§4.9, vector P1).
 * @throws RangeError (INVALID_INPUT) unless the report is 64 bytes.
 */
export function withReportId(report: Uint8Array): Uint8Array {
  abytes(report, "report", { length: HID_REPORT_SIZE });
  const out = new Uint8Array(HID_REPORT_SIZE + 1);
  out.set(report, 1);
  return out;
}

/** A busy frame (`21 C0 00 …`), device to host. */
export function busyReport(): Uint8Array {
  const report = new Uint8Array(HID_REPORT_SIZE);
  report[0] = HID_MAGIC;
  report[1] = HID_FLAG_BUSY;
  return report;
}

/** What one pushed report produced. */
export type ReassemblyStep = { kind: "partial" } | { kind: "busy" } | { kind: "complete"; message: Uint8Array };

/**
 * Joins reports into messages. Accepts 64-byte payloads, or 65 bytes with a leading `00` report ID
 * (§4.9 "some stacks deliver a leading 00"). Rejects a wrong magic, a wrong sequence number, an
 * unknown flag, a length above 61 and messages over `maxMessage`; after an error the state is reset,
 * so the next report must start a new message.
 */
export class HidReassembler {
  private chunks: Uint8Array[] = [];
  private size = 0;
  private seq = 0;
  private readonly maxMessage: number;

  /**
   * @param side "response" on the host (busy frames allowed), "command" on the device (they are not).
   * @throws RangeError (INVALID_INPUT) on a maxMessage below one chunk.
   */
  constructor(
    readonly side: WireSide,
    options: { maxMessage?: number } = {},
  ) {
    const max = options.maxMessage ?? HID_DEFAULT_MAX_MESSAGE;
    aint(max, "maxMessage", HID_CHUNK_SIZE, 1 << 24);
    this.maxMessage = max;
  }

  /** True while a message has started and not completed. */
  get inProgress(): boolean {
    return this.chunks.length > 0;
  }

  /** Drops any partial message. */
  reset(): void {
    for (const chunk of this.chunks) chunk.fill(0);
    this.chunks = [];
    this.size = 0;
    this.seq = 0;
  }

  /**
   * Feeds one report.
   * @throws OtpbridgeError MALFORMED_RESPONSE / MALFORMED_COMMAND naming the field; the state is reset.
   * @throws TypeError (INVALID_INPUT) if report is not a Uint8Array.
   */
  push(report: Uint8Array): ReassemblyStep {
    abytes(report, "report");
    try {
      return this.step(report);
    } catch (error) {
      this.reset();
      throw error;
    }
  }

  private step(input: Uint8Array): ReassemblyStep {
    let report = input;
    if (report.length === HID_REPORT_SIZE + 1 && report[0] === 0x00 && report[1] === HID_MAGIC) report = report.subarray(1);
    if (report.length !== HID_REPORT_SIZE) throw malformed(this.side, "HID report", `${HID_REPORT_SIZE} bytes`, report.length);
    if (report[0] !== HID_MAGIC) throw malformed(this.side, "HID magic", "21", hexByte(report[0]!));
    const flags = report[1]! & 0xf0;
    const seq = report[1]! & 0x0f;
    if (flags === HID_FLAG_BUSY && this.side === "response") return { kind: "busy" };
    if (flags !== HID_FLAG_LAST && flags !== HID_FLAG_MORE) {
      throw malformed(this.side, "HID flags", this.side === "response" ? "00, 20 or C0" : "00 or 20", hexByte(flags));
    }
    if (seq !== this.seq) throw malformed(this.side, "HID sequence number", String(this.seq), seq);
    const n = report[2]!;
    if (n > HID_CHUNK_SIZE) throw malformed(this.side, "HID chunk length", `0..${HID_CHUNK_SIZE}`, n);
    if (this.size + n > this.maxMessage) throw malformed(this.side, "HID message", `at most ${this.maxMessage} bytes`, this.size + n);
    this.chunks.push(report.slice(3, 3 + n));
    this.size += n;
    this.seq = (this.seq + 1) & 0x0f;
    if (flags === HID_FLAG_MORE) return { kind: "partial" };
    const message = new Uint8Array(this.size);
    let offset = 0;
    for (const chunk of this.chunks) {
      message.set(chunk, offset);
      offset += chunk.length;
    }
    this.reset();
    return { kind: "complete", message };
  }
}
