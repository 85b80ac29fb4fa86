/**
 * privacyIDEA seed files (privacyidea.readthedocs.io, "Import"):
 *
 * - OATH CSV: `<serial>, <seed>, TOTP, <otp length>, <time step>`, seed in hex, no header. The file
 *   has no hash column: the importer guesses SHA-256 from the seed length (docs; lib/importotp.py
 *   parseOATHcsv takes 32 hex digits as SHA-256), so the capability table admits only SHA-1 seeds of
 *   other lengths here.
 * - PSKC: RFC 6030 with AES-128-CBC and ValueMAC (store/export/pskc.ts), plus `<Suite hashalgo>`,
 *   the element privacyIDEA's importer reads the hash from; the importer also reads Key@Algorithm
 *   (its last four letters give the type), ResponseFormat@Length, Data/TimeInterval and
 *   DeviceInfo/SerialNo.
 */
import type { CommittedSeed } from "../types.js";
import { stringifyCsv } from "./csv.js";
import { formatPskc, type PskcProtection } from "./pskc.js";

/** Formats committed items as a privacyIDEA OATH CSV. Holds hex secrets: 0600 file only. */
export function formatPrivacyIdeaCsv(items: readonly CommittedSeed[]): string {
  const rows = items.map((item) => [item.serial, Buffer.from(item.seed).toString("hex"), "TOTP", String(item.digits), String(item.period)]);
  return stringifyCsv(rows, { record_delimiter: "\n" });
}

/**
 * Formats committed items as a PSKC file for privacyIDEA's importer (SHA-1 and SHA-256).
 * @throws as {@link formatPskc}.
 */
export function formatPrivacyIdeaPskc(items: readonly CommittedSeed[], protection: PskcProtection): string {
  return formatPskc(items, protection, { hashSuite: true });
}
