/**
 * `batch.lint {csv}`: what `batch.create {csv}` would make of a CSV, row by row, without writing
 * anything: a preview of every row (never its secret, only whether it has one) and every row's
 * problem, where batch.create stops at the first. Each row goes through the same parser
 * (parseBatchCsv), so the messages and reasons are batch.create's and the CLI's.
 */
import { parse } from "csv-parse/sync";
import { stringify } from "csv-stringify/sync";
import { OtpbridgeError, reasonOf } from "../../lib/errors.js";
import { parseBatchCsv, wipeBatchInput } from "../../service/batch-input.js";
import type { MethodTable } from "../rpc.js";
import { objectParams, text } from "./_params.js";

/** CSV text batch.create takes at most (the message limit bounds it lower in practice). */
const MAX_TEXT = 1_000_000;
const MAX_ROWS = 10_000;

export interface LintRow {
  line: number;
  label: string | null;
  algorithm: string;
  digits: number;
  period: number;
  /** Null on a row with a problem. */
  secret: "given" | "generated" | null;
}

export interface LintProblem {
  /** 1 is the header row; item rows count from 2, as batch.create's `data.line`. */
  line: number;
  reason: string;
  message: string;
  detail: Record<string, unknown>;
}

function problemOf(error: unknown, line: number): LintProblem {
  const detail = error instanceof OtpbridgeError ? { ...error.detail } : {};
  delete detail.line;
  // A row is parsed on its own as line 2: its messages name the line it has in the file.
  const message = (error instanceof Error ? error.message : String(error)).replace(/^line \d+: /, "");
  return { line, reason: reasonOf(error), message: `line ${line}: ${message}`, detail };
}

/** See the module comment. */
export function lintBatchCsv(csv: string): { rows: LintRow[]; problems: LintProblem[] } {
  let records: string[][];
  try {
    records = parse(csv, { bom: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as string[][];
  } catch (error) {
    // Unreadable as CSV (quotes, column count): batch.create's own message, with its line.
    try {
      parseBatchCsv(csv, "lint");
    } catch (parseError) {
      const line = (parseError as OtpbridgeError).detail?.line;
      return { rows: [], problems: [{ ...problemOf(parseError, typeof line === "number" ? line : 1), message: (parseError as Error).message }] };
    }
    throw error;
  }
  const [header, ...body] = records;
  if (header === undefined || body.length === 0)
    return { rows: [], problems: [problemOf(new OtpbridgeError("INVALID_INPUT", "the CSV needs a header row and at least one item row"), 1)] };
  if (body.length > MAX_ROWS) return { rows: [], problems: [problemOf(new OtpbridgeError("INVALID_INPUT", `a batch holds at most ${MAX_ROWS} items`), 1)] };
  // The header on its own, with one empty row (an item with a generated seed): its problems are the file's.
  try {
    wipeBatchInput(parseBatchCsv(stringify([header, header.map(() => "")]), "lint"));
  } catch (error) {
    return { rows: [], problems: [problemOf(error, 1)] };
  }
  const labelColumn = header.findIndex((h) => /^(upn|label|user principal name)$/i.test(h.trim()));
  const rows: LintRow[] = [];
  const problems: LintProblem[] = [];
  body.forEach((record, i) => {
    const line = i + 2;
    let parsed: ReturnType<typeof parseBatchCsv> | undefined;
    try {
      parsed = parseBatchCsv(stringify([header, record]), "lint");
      const item = parsed.items[0]!;
      rows.push({
        line,
        label: item.label ?? null,
        algorithm: item.algorithm ?? "SHA1",
        digits: item.digits ?? 6,
        period: item.period ?? 30,
        secret: item.seed === undefined ? "generated" : "given",
      });
    } catch (error) {
      problems.push(problemOf(error, line));
      rows.push({ line, label: record[labelColumn]?.slice(0, 256) || null, algorithm: "", digits: 0, period: 0, secret: null });
    } finally {
      if (parsed !== undefined) wipeBatchInput(parsed);
    }
  });
  return { rows, problems };
}

/** @returns `batch.lint`. */
export function batchLintMethods(): MethodTable {
  return {
    "batch.lint": {
      capability: "batch",
      handler: (raw) => lintBatchCsv(text(objectParams(raw), "csv", MAX_TEXT)),
    },
  };
}
