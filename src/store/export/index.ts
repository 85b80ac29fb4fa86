/**
 * Writes a batch export: committed items only (Journal#withCommittedSeeds), to a 0600 file replaced
 * atomically, so an export on disk is either the previous one or complete.
 *
 * Limits: the CSV and otpauth texts carry seeds in base32 inside JavaScript strings, which cannot be
 * wiped; they live until garbage collection. The encoded byte buffer that is written is zeroed.
 */
import type { Journal } from "../journal.js";
import { writePrivateFileAtomic } from "../private-files.js";
import { formatEntraCsv } from "./entra-csv.js";
import { formatOtpauthUris } from "./otpauth-uris.js";
import { formatPskc, type PskcProtection } from "./pskc.js";

export { ENTRA_CSV_COLUMNS, formatEntraCsv } from "./entra-csv.js";
export { formatOtpauthUris } from "./otpauth-uris.js";
export { formatPskc, type PskcProtection } from "./pskc.js";

export type ExportRequest =
  | { format: "entra-csv" }
  | { format: "otpauth" }
  | { format: "pskc"; protection: PskcProtection };

export interface ExportResult {
  path: string;
  /** Committed items written. */
  count: number;
}

/**
 * Exports the committed items of a batch to `path` (0600, atomic replace).
 * @throws OtpbridgeError BATCH_NOT_FOUND, SEED_TAMPERED, EXPORT_UNSUPPORTED (an item the format
 *   cannot carry, or no committed item for PSKC); Node fs errors for the target directory.
 * @example exportBatch(journal, 1, { format: "entra-csv" }, "/home/admin/tokens.csv");
 */
export function exportBatch(journal: Journal, batchId: number, request: ExportRequest, path: string): ExportResult {
  return journal.withCommittedSeeds(batchId, (items) => {
    const text =
      request.format === "entra-csv"
        ? formatEntraCsv(items)
        : request.format === "otpauth"
          ? formatOtpauthUris(items)
          : formatPskc(items, request.protection);
    const bytes = Buffer.from(text, "utf8");
    try {
      writePrivateFileAtomic(path, bytes);
    } finally {
      bytes.fill(0);
    }
    return { path, count: items.length };
  });
}
