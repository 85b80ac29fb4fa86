/**
 * A batch's input rules, shared by the SQLite journal (Journal#createBatch) and the PostgreSQL
 * stations store, so that both accept and refuse exactly the same batches.
 */
import { abytes, aint, aoneOf } from "../lib/checks.js";
import { inputError } from "../lib/errors.js";
import { atext } from "./input.js";
import { TOTP_ALGORITHMS, type BatchInput, type ItemInput, type TotpParams } from "./types.js";

const MAX_BATCH_ITEMS = 100_000;
const DEFAULT_PARAMS: TotpParams = { algorithm: "SHA1", digits: 6, period: 30 };

/** One item of a batch, checked and with the batch's defaults applied, before it is stored. */
export interface PreparedItem {
  params: TotpParams;
  label: string | null;
  /** Imported seed (caller-owned) or undefined to generate one. */
  seed: Uint8Array | undefined;
}

/**
 * Checks a batch's name, issuer, defaults and items, and describes it for the batch's `params`.
 * @throws TypeError/RangeError (INVALID_INPUT) for bad names, parameters, seeds or counts.
 */
export function prepareBatch(input: BatchInput): { prepared: PreparedItem[]; params: Record<string, unknown> } {
  atext(input.name, "name", 1, 200);
  if (input.issuer !== undefined) atext(input.issuer, "issuer", 1, 200);
  const defaults = { ...DEFAULT_PARAMS, ...input.defaults };
  checkParams(defaults, "defaults");
  if ((input.items === undefined) === (input.count === undefined)) {
    throw inputError("type", "give exactly one of items and count");
  }
  if (input.count !== undefined) aint(input.count, "count", 1, MAX_BATCH_ITEMS);
  const items: ItemInput[] = input.items ?? Array.from({ length: input.count ?? 0 }, () => ({}));
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH_ITEMS) {
    throw inputError("range", `items must be an array of 1 to ${MAX_BATCH_ITEMS} entries`);
  }
  const prepared = items.map((item, i) => {
    const params = { ...defaults, ...pickParams(item) };
    checkParams(params, `items[${i}]`);
    if (item.seed !== undefined) abytes(item.seed, `items[${i}].seed`, { min: 10, max: 64 });
    if (item.label !== undefined) atext(item.label, `items[${i}].label`, 1, 256);
    return { params, label: item.label ?? null, seed: item.seed };
  });
  const imported = prepared.filter((p) => p.seed !== undefined).length;
  return { prepared, params: { defaults, count: prepared.length, imported, generated: prepared.length - imported } };
}

function pickParams(item: Partial<TotpParams>): Partial<TotpParams> {
  const out: Partial<TotpParams> = {};
  if (item.algorithm !== undefined) out.algorithm = item.algorithm;
  if (item.digits !== undefined) out.digits = item.digits;
  if (item.period !== undefined) out.period = item.period;
  return out;
}

function checkParams(params: TotpParams, name: string): void {
  aoneOf(params.algorithm, `${name}.algorithm`, TOTP_ALGORITHMS);
  aint(params.digits, `${name}.digits`, 4, 10);
  aint(params.period, `${name}.period`, 1, 65535);
}
