/** Creating a shared batch: the journal's input rules, and items inserted with their seeds sealed. */
import { randomBytes } from "node:crypto";
import { aint } from "../../lib/checks.js";
import { inputError } from "../../lib/errors.js";
import { atext } from "../input.js";
import { checkParams, pickParams } from "../journal.js";
import type { SeedVault } from "../seed-vault.js";
import type { BatchInput, ItemInput, TotpParams } from "../types.js";
import type { SharedBatchRow } from "./rows.js";
import type { Db } from "./store.js";

const MAX_BATCH_ITEMS = 100_000;
/** Items per INSERT statement. */
export const INSERT_CHUNK = 2_000;
const DEFAULT_PARAMS: TotpParams = { algorithm: "SHA1", digits: 6, period: 30 };

export interface PreparedItem {
  params: TotpParams;
  label: string | null;
  seed: Uint8Array | undefined;
}

/** The journal's input rules (Journal#createBatch), applied to a shared batch. */
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
    if (item.seed !== undefined && !(item.seed instanceof Uint8Array && item.seed.length >= 10 && item.seed.length <= 64)) {
      throw inputError("range", `items[${i}].seed must be 10 to 64 bytes`);
    }
    if (item.label !== undefined) atext(item.label, `items[${i}].label`, 1, 256);
    return { params, label: item.label ?? null, seed: item.seed };
  });
  const imported = prepared.filter((p) => p.seed !== undefined).length;
  return { prepared, params: { defaults, count: prepared.length, imported, generated: prepared.length - imported } };
}

/** Inserts items with seeds sealed to (batch uid, batch id, item id); ids are reserved first for the AAD. */
export async function insertItems(db: Db, vault: SeedVault, batch: SharedBatchRow, items: PreparedItem[], offset: number): Promise<void> {
  const { rows } = await db.query<{ id: number }>("SELECT nextval(pg_get_serial_sequence('otpb_items', 'id'))::int AS id FROM generate_series(1, $1)", [
    items.length,
  ]);
  const columns: unknown[][] = [[], [], [], [], [], [], [], []];
  items.forEach((item, i) => {
    const itemId = rows[i]!.id;
    const seed = item.seed ?? new Uint8Array(randomBytes(20));
    try {
      const { nonce, sealed } = vault.seal(seed, { journalId: batch.uid, batchId: batch.id, itemId });
      [itemId, offset + i, item.label, item.params.algorithm, item.params.digits, item.params.period, Buffer.from(nonce), Buffer.from(sealed)].forEach(
        (value, c) => columns[c]!.push(value),
      );
    } finally {
      if (item.seed === undefined) seed.fill(0);
    }
  });
  await db.query(
    `INSERT INTO otpb_items (id, batch_id, position, label, algorithm, digits, period, seed_nonce, seed_sealed, state)
     SELECT id, $1, position, label, algorithm, digits, period, nonce, sealed, 'pending'
     FROM unnest($2::int[], $3::int[], $4::text[], $5::text[], $6::int[], $7::int[], $8::bytea[], $9::bytea[])
       AS t (id, position, label, algorithm, digits, period, nonce, sealed)`,
    [batch.id, ...columns],
  );
}
