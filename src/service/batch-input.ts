/**
 * What a batch is made from (issue #6): a CSV file, a list of otpauth URIs, or "generate N". Each
 * source becomes a {@link BatchInput} for Journal#createBatch, checked here against what a
 * single-profile token holds (docs/PROTOCOL.md §2.1: SHA-1/SHA-256, 30/60 s, always 6 digits), so that no
 * item the batch engine would have to refuse at the reader ever enters the journal.
 *
 * CSV header names (case-insensitive, surrounding spaces ignored; docs/API.md "batch.create"):
 *   upn | label | user principal name     who the token is for (Entra ID UPN, otpauth account)
 *   secret | secret key | seed            base32 seed; empty or absent: 20 bytes from the CSPRNG
 *   algorithm | hash                      SHA1 (default) or SHA256 (SHA-1, sha256 ... accepted)
 *   digits                                6 (the only value these tokens show)
 *   period | time interval | step         30 (default) or 60
 *   serial number | manufacturer | model  accepted and ignored (Entra ID's own CSV columns: the
 *                                         serial comes from the token tapped, not from the file)
 * Any other column is refused (a misspelt "secert" must not silently turn into generated seeds).
 */
import { createRequire } from "node:module";
import type { parse as csvParse } from "csv-parse/sync";
import { DEVICE_CAPABILITIES, checkBurnable } from "../input/capabilities.js";
import { classifySecretInput, type ClassifiedInput } from "../input/classify.js";
import type { SkippedAccount } from "../input/migration.js";
import { aint } from "../lib/checks.js";
import { detailOf, otpbError, reasonOf } from "../lib/errors.js";
import type { BatchInput, ItemInput, TotpAlgorithm } from "../store/types.js";

/** Seeds the journal accepts (10-64 bytes) that a single-profile token also holds (1-63, §2.7). */
// csv-parse is loaded by the first CSV read, not by every command that might read one.
const require = createRequire(import.meta.url);

const SEED_BYTES = { min: 10, max: 63 };
export const MAX_GENERATE = 100_000;

type Column = "label" | "secret" | "algorithm" | "digits" | "period" | "ignored";

const HEADERS: Record<string, Column> = {
  upn: "label",
  label: "label",
  "user principal name": "label",
  secret: "secret",
  "secret key": "secret",
  seed: "secret",
  algorithm: "algorithm",
  hash: "algorithm",
  digits: "digits",
  period: "period",
  "time interval": "period",
  step: "period",
  "serial number": "ignored",
  manufacturer: "ignored",
  model: "ignored",
};

/** The header names {@link parseBatchCsv} understands (for messages and docs). */
export const CSV_HEADERS: readonly string[] = Object.keys(HEADERS);

/**
 * A batch description ready for Journal#createBatch; zero it with {@link wipeBatchInput} after use.
 * `skipped`: accounts of Google Authenticator exports that cannot go onto a TOTP token (HOTP ones),
 * reported to the operator rather than silently dropped.
 */
export type ParsedBatch = BatchInput & { items: ItemInput[]; skipped?: Array<SkippedAccount & { line: number }> };

/**
 * `text` through the shared classifier (src/input/classify.ts), its failures tagged with the line.
 * @throws OtpbridgeError as classifySecretInput, with `detail.line`.
 */
function classifyLine(text: string, line: number): ClassifiedInput {
  try {
    return classifySecretInput(text);
  } catch (error) {
    const detail = detailOf(error);
    throw otpbError(reasonOf(error), `line ${line}: ${(error as Error).message}`, { detail: { ...detail, line } });
  }
}

function rowError(line: number, message: string, detail: Record<string, unknown> = {}): Error {
  return otpbError("INVALID_INPUT", `line ${line}: ${message}`, { detail: { line, ...detail } });
}

function algorithmOf(text: string, line: number): TotpAlgorithm {
  const normalized = text.trim().toUpperCase().replace("-", "");
  if (normalized === "SHA1" || normalized === "SHA256") return normalized;
  throw rowError(line, "algorithm must be SHA1 or SHA256", { column: "algorithm" });
}

function numberOf(text: string, line: number, column: "digits" | "period"): number {
  const value = Number(text.trim());
  if (!/^\d{1,5}$/.test(text.trim())) throw rowError(line, `${column} must be a whole number`, { column });
  return value;
}

/**
 * Zeroes the seeds of a parsed batch (once Journal#createBatch has sealed copies of them).
 * @example try { journal.createBatch(batch) } finally { wipeBatchInput(batch) }
 */
export function wipeBatchInput(batch: ParsedBatch): void {
  for (const item of batch.items) item.seed?.fill(0);
}

/** Checks one item against a single-profile token; the seed's content is never read, only its length. */
function checkItem(item: ItemInput, line: number): void {
  const problems = checkBurnable(
    { secret: item.seed ?? new Uint8Array(20), algorithm: item.algorithm ?? "SHA1", digits: item.digits ?? 6, period: item.period ?? 30 },
    DEVICE_CAPABILITIES["single-profile"],
  );
  if (item.seed !== undefined && (item.seed.length < SEED_BYTES.min || item.seed.length > SEED_BYTES.max)) {
    problems.push({ field: "seed", by: "device", message: `the seed is ${item.seed.length} bytes; a batch seed is ${SEED_BYTES.min} to ${SEED_BYTES.max}` });
  }
  if (problems.length > 0) {
    throw otpbError("NOT_BURNABLE", `line ${line}: ${problems.map((p) => p.message).join("; ")}`, { detail: { line, problems } });
  }
}

/**
 * Parses a batch CSV (header row first; see the module comment for the names).
 * @throws OtpbridgeError INVALID_INPUT (unknown or missing columns, a bad row: `detail.line`),
 *   INVALID_SECRET_FORMAT (a secret that is not base32; never quoted), NOT_BURNABLE (a row a
 *   single-profile token cannot hold). Seeds decoded before the failure are zeroed.
 * @example parseBatchCsv("upn,secret\nalice@example.com,JBSWY3DPEHPK3PXP\n", "March")
 */
export function parseBatchCsv(text: string, name: string): ParsedBatch {
  let rows: string[][];
  try {
    rows = (require("csv-parse/sync") as { parse: typeof csvParse }).parse(text, {
      bom: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: false,
    }) as string[][];
  } catch (error) {
    // csv-parse names the line and the problem (quotes, column count), never a whole row.
    const line = (error as { lines?: number }).lines;
    throw otpbError("INVALID_INPUT", `the CSV cannot be read: ${(error as Error).message.split("\n")[0]!.slice(0, 200)}`, {
      detail: line === undefined ? {} : { line },
    });
  }
  const [header, ...body] = rows;
  if (header === undefined || body.length === 0) throw otpbError("INVALID_INPUT", "the CSV needs a header row and at least one item row");
  const columns = header.map((h, i) => {
    const column = HEADERS[h.trim().toLowerCase()];
    if (column === undefined) {
      // Not quoted: a file without its header row has a seed here.
      throw otpbError(
        "INVALID_INPUT",
        `column ${i + 1} of the header row is not a known column (is the first line an item instead of the header?); known: ${CSV_HEADERS.join(", ")}`,
        { detail: { line: 1, column: i + 1 } },
      );
    }
    return column;
  });
  const counts = columns.filter((c) => c !== "ignored").reduce((m, c) => m.set(c, (m.get(c) ?? 0) + 1), new Map<Column, number>());
  const twice = [...counts].find(([, n]) => n > 1);
  if (twice !== undefined) throw otpbError("INVALID_INPUT", `the CSV has more than one ${twice[0]} column`, { detail: { line: 1 } });
  const items: ItemInput[] = [];
  try {
    body.forEach((row, i) => {
      const line = i + 2;
      const item: ItemInput = {};
      row.forEach((cell, c) => {
        if (cell === "") return;
        switch (columns[c]) {
          case "label":
            if (cell.length > 256) throw rowError(line, "the upn/label is longer than 256 characters", { column: "label" });
            item.label = cell;
            break;
          case "secret": {
            const classified = classifyLine(cell, line);
            if (classified.source !== "base32") {
              for (const account of classified.accounts) account.secret.fill(0);
              throw rowError(line, `the secret column takes a base32 secret, not an ${classified.source} URI; import URIs as a URI list`, { column: "secret" });
            }
            item.seed = classified.accounts[0]!.secret;
            break;
          }
          case "algorithm":
            item.algorithm = algorithmOf(cell, line);
            break;
          case "digits":
            item.digits = numberOf(cell, line, "digits");
            break;
          case "period":
            item.period = numberOf(cell, line, "period");
            break;
          default:
            break;
        }
      });
      items.push(item);
      checkItem(item, line);
    });
  } catch (error) {
    for (const item of items) item.seed?.fill(0);
    throw error;
  }
  return { name, items };
}

/**
 * Parses otpauth://totp URIs and Google Authenticator otpauth-migration exports (one per line; blank
 * lines and lines starting with # skipped), through the shared classifier: an export becomes its
 * TOTP accounts, and a code scanned by mistake is refused with what to scan instead. The account
 * name becomes the item's label; a common issuer becomes the batch's issuer.
 * @throws OtpbridgeError INVALID_SECRET_FORMAT, WRONG_CODE_SCANNED (`detail.line`), NOT_BURNABLE,
 *   INVALID_INPUT (a bare secret, or no URI at all). Seeds decoded before the failure are zeroed.
 */
export function parseBatchUris(lines: readonly string[], name: string): ParsedBatch {
  const items: ItemInput[] = [];
  const skipped: NonNullable<ParsedBatch["skipped"]> = [];
  const issuers = new Set<string>();
  try {
    lines.forEach((raw, i) => {
      const text = raw.trim();
      const line = i + 1;
      if (text === "" || text.startsWith("#")) return;
      const classified = classifyLine(text, line);
      const accounts = classified.accounts;
      if (classified.source !== "otpauth" && classified.source !== "otpauth-migration") {
        for (const account of accounts) account.secret.fill(0);
        throw rowError(line, "a URI list takes otpauth:// or otpauth-migration:// URIs; put bare secrets in a CSV with a secret column");
      }
      skipped.push(...classified.skipped.map((s) => ({ ...s, line })));
      accounts.forEach((account, index) => {
        const item: ItemInput = { seed: account.secret, algorithm: account.algorithm as TotpAlgorithm, digits: account.digits, period: account.period };
        if (account.label !== undefined && account.label !== "") item.label = account.label.slice(0, 256);
        issuers.add(account.issuer ?? "");
        items.push(item);
        // The rest of this line's accounts are not in `items` yet: zero them if this one fails.
        try {
          checkItem(item, line);
        } catch (error) {
          for (const rest of accounts.slice(index + 1)) rest.secret.fill(0);
          throw error;
        }
      });
    });
  } catch (error) {
    for (const item of items) item.seed?.fill(0);
    throw error;
  }
  if (items.length === 0) throw otpbError("INVALID_INPUT", "no otpauth URI in the list");
  const [issuer] = issuers;
  return {
    name,
    items,
    ...(issuers.size === 1 && issuer !== undefined && issuer !== "" ? { issuer: issuer.slice(0, 200) } : {}),
    ...(skipped.length > 0 ? { skipped } : {}),
  };
}

/**
 * `count` items whose 20-byte seeds the journal draws from the CSPRNG when it creates the batch
 * (RFC 4226 §4 R6: at least 128 bits, 160 recommended).
 * @throws RangeError (INVALID_INPUT) for a count outside 1..100000.
 */
export function generatedBatch(count: number, name: string, params: { algorithm?: TotpAlgorithm; period?: number } = {}): ParsedBatch {
  aint(count, "count", 1, MAX_GENERATE);
  const item: ItemInput = {};
  if (params.algorithm !== undefined) item.algorithm = params.algorithm;
  if (params.period !== undefined) item.period = params.period;
  checkItem(item, 0);
  return { name, items: Array.from({ length: count }, () => ({ ...item })) };
}
