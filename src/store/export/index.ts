/**
 * Writes a batch export: committed items only (Journal#withCommittedSeeds), linted (lint.ts) before
 * and after formatting, to a 0600 file replaced atomically, so an export on disk is either the
 * previous one or complete and never one the target would reject.
 *
 * Limits: the CSV, JSON and otpauth texts carry seeds in base32 or hex inside JavaScript strings,
 * which cannot be wiped; they live until garbage collection. The encoded byte buffer that is written
 * is zeroed.
 */
import type { ExportTarget } from "../../input/capabilities.js";
import type { Journal } from "../journal.js";
import { writePrivateFileAtomic } from "../private-files.js";
import type { CommittedSeed } from "../types.js";
import { formatDuoCsv } from "./duo.js";
import { formatEntraCsv } from "./entra-csv.js";
import { formatGraphJson } from "./graph-json.js";
import { assertLintClean, lintItems, lintText } from "./lint.js";
import { formatOtpauthUris } from "./otpauth-uris.js";
import { formatPingIdJson } from "./pingid.js";
import { formatPrivacyIdeaCsv, formatPrivacyIdeaPskc } from "./privacyidea.js";
import { formatPskc, type PskcProtection } from "./pskc.js";

export { ENTRA_CSV_COLUMNS, formatEntraCsv } from "./entra-csv.js";
export { formatOtpauthUris } from "./otpauth-uris.js";
export { formatPskc, type PskcOptions, type PskcProtection } from "./pskc.js";
export { formatGraphJson } from "./graph-json.js";
export { formatDuoCsv } from "./duo.js";
export { formatPingIdJson } from "./pingid.js";
export { formatPrivacyIdeaCsv, formatPrivacyIdeaPskc } from "./privacyidea.js";
export { assertLintClean, lintItems, lintText, type LintProblem } from "./lint.js";

export type ExportRequest =
  | { format: "entra-csv" | "otpauth" | "graph-json" | "duo" | "pingid" | "privacyidea-csv" }
  | { format: "pskc" | "privacyidea-pskc"; protection: PskcProtection };

export interface ExportResult {
  path: string;
  /** Committed items written. */
  count: number;
}

function format(items: readonly CommittedSeed[], request: ExportRequest): string {
  switch (request.format) {
    case "entra-csv":
      return formatEntraCsv(items);
    case "otpauth":
      return formatOtpauthUris(items);
    case "graph-json":
      return formatGraphJson(items);
    case "duo":
      return formatDuoCsv(items);
    case "pingid":
      return formatPingIdJson(items);
    case "privacyidea-csv":
      return formatPrivacyIdeaCsv(items);
    case "pskc":
      return formatPskc(items, request.protection);
    case "privacyidea-pskc":
      return formatPrivacyIdeaPskc(items, request.protection);
  }
}

/**
 * Exports the committed items of a batch to `path` (0600, atomic replace), after the linter passed.
 * @throws OtpbridgeError BATCH_NOT_FOUND, SEED_TAMPERED, EXPORT_UNSUPPORTED (every problem the
 *   linter found, or no committed item for PSKC); Node fs errors for the target directory.
 * @example exportBatch(journal, 1, { format: "entra-csv" }, "/home/admin/tokens.csv");
 */
export function exportBatch(journal: Journal, batchId: number, request: ExportRequest, path: string): ExportResult {
  const { text, count } = renderExport(journal, batchId, request);
  const bytes = Buffer.from(text, "utf8");
  try {
    writePrivateFileAtomic(path, bytes);
  } finally {
    bytes.fill(0);
  }
  return { path, count };
}

/**
 * The export text of the committed items of a batch, after the linter passed (what
 * {@link exportBatch} writes; the daemon's batch.export returns it to a client with `export`).
 * @throws OtpbridgeError BATCH_NOT_FOUND, SEED_TAMPERED, EXPORT_UNSUPPORTED.
 * @example renderExport(journal, 1, { format: "otpauth" }).text
 */
export function renderExport(journal: Journal, batchId: number, request: ExportRequest): { text: string; count: number } {
  return journal.withCommittedSeeds(batchId, (items) => renderCommitted(items, request));
}

/** The export text of committed items from any store (the stations' shared store has its own reader). */
export function renderCommitted(items: CommittedSeed[], request: ExportRequest): { text: string; count: number } {
  const target: ExportTarget = request.format;
  assertLintClean(lintItems(items, target), target);
  const text = format(items, request);
  assertLintClean(lintText(text, target, items.length), target);
  return { text, count: items.length };
}
