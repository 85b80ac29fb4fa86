/**
 * TEST FIXTURE, not an emulator: a HID device whose only job is to prove the report path end to end.
 * It answers each 64-byte output report with the same bytes plus one (mod 256), so an answer cannot be
 * mistaken for a loop-back; `SILENT` as first byte gets no answer (timeout and unplug tests); `DOUBLE`
 * gets two answers, the second the bitwise complement of the first (report order).
 */
import type { HidReportDevice } from "../../src/transports/hid-types.js";

export const SILENT = 0xee;
export const DOUBLE = 0xe2;

/** The fixture's answer to one report (what the tests compare against). */
export function fixtureAnswer(report: Uint8Array): Uint8Array[] {
  if (report[0] === SILENT) return [];
  const plusOne = report.map((byte) => (byte + 1) & 0xff);
  return report[0] === DOUBLE ? [plusOne, plusOne.map((byte) => ~byte & 0xff)] : [plusOne];
}

export const fixtureDevice: HidReportDevice = { handleReport: fixtureAnswer };
