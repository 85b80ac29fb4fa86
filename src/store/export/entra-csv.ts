/**
 * Microsoft Entra ID hardware OATH token CSV: the header line
 * `upn,serial number,secret key,time interval,manufacturer,model`, one token per line, the secret in
 * base32. The format has no column for the hash or the number of digits, so Entra reads every row as
 * SHA-1, 6 digits; items that differ are refused rather than exported into tokens that never match.
 */
// hi-base32 is CommonJS: plain Node (dist/, run-ts) sees only its default export, not named ones.
import hiBase32 from "hi-base32";
import { otpbError } from "../../lib/errors.js";
import type { CommittedSeed } from "../types.js";
import { stringifyCsv } from "./csv.js";

export const ENTRA_CSV_COLUMNS = ["upn", "serial number", "secret key", "time interval", "manufacturer", "model"] as const;

/**
 * Formats committed items as an Entra ID CSV. The text holds the secrets in base32: write it only to
 * a 0600 file (see exportBatch).
 * @throws OtpbridgeError EXPORT_UNSUPPORTED for an item without a UPN (label), not SHA-1, not
 *   6 digits, or with a period other than 30 or 60 s (the periods Entra accepts).
 */
export function formatEntraCsv(items: readonly CommittedSeed[]): string {
  for (const item of items) {
    const problem =
      item.label === null
        ? "has no UPN (label)"
        : item.algorithm !== "SHA1"
          ? `uses ${item.algorithm}; Entra ID CSV tokens are SHA-1`
          : item.digits !== 6
            ? `has ${item.digits} digits; Entra ID CSV tokens have 6`
            : item.period !== 30 && item.period !== 60
              ? `has a ${item.period} s period; Entra ID takes 30 or 60`
              : null;
    if (problem !== null) {
      throw otpbError("EXPORT_UNSUPPORTED", `item ${item.position + 1} (token ${item.serial}) ${problem}`, {
        detail: { itemId: item.itemId, serial: item.serial },
      });
    }
  }
  const rows = items.map((item) => [
    item.label,
    item.serial,
    // RFC 4648 §3.2: padding may be left out where the length is known; authenticator imports expect none.
    hiBase32.encode(item.seed).replace(/=+$/, ""),
    String(item.period),
    item.manufacturer,
    item.model ?? "",
  ]);
  return stringifyCsv(rows, { header: true, columns: [...ENTRA_CSV_COLUMNS], record_delimiter: "\r\n" });
}
