/**
 * Duo "Import Hardware Tokens" paste: one token per line, `serial,secret` with the secret in hex
 * (token2.com, "Using Token2 TOTP hardware tokens with Duo": Duo takes seeds in hex, not base32).
 * The token type (TOTP, 6 or 8 digits) is chosen once in the Admin Panel for the whole paste, so an
 * export must hold a single digit count (the linter checks).
 *
 * 60-second tokens: we append a third field `60` ("60 s suffix"); Duo's public pages we could read do
 * not show that field, so it is our choice [UNK]. 30-second tokens get the two-field line.
 */
import type { CommittedSeed } from "../types.js";
import { stringifyCsv } from "./csv.js";

/** Formats committed items as Duo import lines. The text holds hex secrets: 0600 file only. */
export function formatDuoCsv(items: readonly CommittedSeed[]): string {
  const rows = items.map((item) => {
    const row = [item.serial, Buffer.from(item.seed).toString("hex")];
    if (item.period === 60) row.push("60");
    return row;
  });
  return stringifyCsv(rows, { record_delimiter: "\n" });
}
