/** Row shapes of the shared store's tables and their conversion to records. */
import { itemBase, type ItemBaseRow } from "../rows.js";
import type { BatchState } from "../types.js";
import type { SharedBatchRecord, SharedItemRecord, SharedItemState } from "./types.js";

export interface SharedItemRow extends ItemBaseRow {
  state: SharedItemState;
  station: string | null;
  session: string | null;
  reader: string | null;
  /** int8 arrives as a string from node-postgres. */
  fence: string | null;
  lease_expires_at: Date | null;
  attempts: number;
  fail_reason: string | null;
  claimed_at: Date | null;
  write_started_at: Date | null;
  committed_at: Date | null;
  updated_at: Date;
}

export interface SharedBatchRow {
  id: number;
  uid: Buffer;
  name: string;
  issuer: string | null;
  params: Record<string, unknown>;
  state: BatchState;
  kdf_salt: Buffer;
  kdf_n: number;
  kdf_r: number;
  kdf_p: number;
  key_check: Buffer;
  created_at: Date;
  updated_at: Date;
}

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());

export function sharedItemRecord(row: SharedItemRow): SharedItemRecord {
  return {
    ...itemBase(row),
    state: row.state,
    station: row.station,
    reader: row.reader,
    fence: row.fence === null ? null : Number(row.fence),
    leaseExpiresAt: ms(row.lease_expires_at),
    writeStartedAt: ms(row.write_started_at),
    attempts: row.attempts,
    failReason: row.fail_reason,
    claimedAt: ms(row.claimed_at),
    committedAt: ms(row.committed_at),
    updatedAt: row.updated_at.getTime(),
  };
}

export function sharedBatchRecord(row: SharedBatchRow): SharedBatchRecord {
  return {
    id: row.id,
    name: row.name,
    issuer: row.issuer,
    state: row.state,
    params: row.params,
    createdAt: row.created_at.getTime(),
    updatedAt: row.updated_at.getTime(),
  };
}
