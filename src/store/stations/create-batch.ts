/** Creating a shared batch: items inserted with their seeds sealed (the input rules: ../batch-input.ts). */
import { randomBytes } from "node:crypto";
import type { PreparedItem } from "../batch-input.js";
import type { SeedVault } from "../seed-vault.js";
import type { SharedBatchRow } from "./rows.js";
import type { Db } from "./store.js";

/** Items per INSERT statement. */
export const INSERT_CHUNK = 2_000;

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
