/**
 * The export linter: every export runs it before anything is written, so an operator never imports a
 * file the target will reject or, worse, read wrongly. It reports every problem at once.
 *
 * Checks: each item against the target's capability table (algorithm, digits, step, seed length,
 * label / UPN form: src/input/capabilities.ts), duplicate serials, target-specific rules (one token
 * type per Duo paste), and on the formatted text the header and the record count.
 */
import { TARGET_CAPABILITIES, checkExportable, type ExportTarget } from "../../input/capabilities.js";
import { otpbError } from "../../lib/errors.js";
import type { CommittedSeed } from "../types.js";
import { ENTRA_CSV_COLUMNS } from "./entra-csv.js";

export interface LintProblem {
  /** The item's 0-based position in the batch, when the problem is an item's. */
  position?: number;
  serial?: string;
  message: string;
}

/** Item-level problems: the target's limits (the device's were checked before burning), duplicates. */
export function lintItems(items: readonly CommittedSeed[], target: ExportTarget): LintProblem[] {
  const problems: LintProblem[] = [];
  const seen = new Map<string, number>();
  for (const item of items) {
    // Counted from 1, as every other output counts items; `position` itself stays 0-based.
    const where = `item ${item.position + 1} (token ${item.serial})`;
    const candidate = {
      secret: item.seed,
      algorithm: item.algorithm,
      digits: item.digits,
      period: item.period,
      ...(item.label === null ? {} : { label: item.label }),
    };
    for (const p of checkExportable(candidate, target)) {
      problems.push({ position: item.position, serial: item.serial, message: `${where}: ${p.message}` });
    }
    const first = seen.get(item.serial);
    if (first !== undefined) {
      problems.push({ position: item.position, serial: item.serial, message: `${where}: serial already used by item ${first + 1}` });
    } else {
      seen.set(item.serial, item.position);
    }
  }
  if (target === "duo") {
    const digits = new Set(items.map((i) => i.digits));
    if (digits.size > 1) {
      problems.push({
        message: `a Duo import takes one token type per paste; this batch mixes ${[...digits].sort().join(" and ")} digits: export them separately`,
      });
    }
  }
  return problems;
}

/** Text-level problems: the header line (or its absence) and the number of records. */
export function lintText(text: string, target: ExportTarget, count: number): LintProblem[] {
  const problems: LintProblem[] = [];
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  switch (target) {
    case "entra-csv":
      if (lines[0] !== ENTRA_CSV_COLUMNS.join(",")) problems.push({ message: `the Entra ID CSV header must be "${ENTRA_CSV_COLUMNS.join(",")}"` });
      if (lines.length - 1 !== count) problems.push({ message: `the Entra ID CSV has ${lines.length - 1} rows for ${count} tokens` });
      break;
    case "duo":
    case "privacyidea-csv":
    case "otpauth":
      // Headerless formats: a first line that names columns would be imported as a token.
      if (lines.length > 0 && /^serial/i.test(lines[0]!)) problems.push({ message: `${TARGET_CAPABILITIES[target].title} files have no header line` });
      if (lines.length !== count) problems.push({ message: `${lines.length} lines for ${count} tokens` });
      break;
    case "graph-json":
    case "pingid": {
      const parsed = JSON.parse(text) as { value?: unknown[]; tokens?: unknown[] };
      const records = target === "graph-json" ? parsed.value : parsed.tokens;
      if (!Array.isArray(records) || records.length !== count)
        problems.push({ message: `the ${TARGET_CAPABILITIES[target].title} body does not hold ${count} tokens` });
      break;
    }
    case "pskc":
    case "privacyidea-pskc": {
      const packages = text.match(/<pskc:KeyPackage>/g)?.length ?? 0;
      if (packages !== count) problems.push({ message: `the PSKC document holds ${packages} key packages for ${count} tokens` });
      break;
    }
  }
  return problems;
}

/**
 * Throws when the linter finds anything; call it on the items before formatting and on the text
 * before writing.
 * @throws OtpbridgeError EXPORT_UNSUPPORTED, the message listing every problem (no seed content).
 */
export function assertLintClean(problems: readonly LintProblem[], target: ExportTarget): void {
  if (problems.length === 0) return;
  const shown = problems.slice(0, 20).map((p) => p.message);
  const more = problems.length > shown.length ? `; and ${problems.length - shown.length} more` : "";
  throw otpbError("EXPORT_UNSUPPORTED", `${TARGET_CAPABILITIES[target].title} export refused: ${shown.join("; ")}${more}`, {
    detail: { target, problems },
  });
}
