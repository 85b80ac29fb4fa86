/** Row shapes of the journal tables and their conversion to the public records. */
import type { BatchRecord, BatchState, CommittedSeed, EventRecord, ItemBase, ItemRecord, ItemState, TotpAlgorithm } from "./types.js";

/** The item columns the journal and the stations store share, under the same names and types. */
export interface ItemBaseRow {
  id: number;
  batch_id: number;
  position: number;
  label: string | null;
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
  seed_nonce: Buffer;
  seed_sealed: Buffer;
  serial: string | null;
  manufacturer: string | null;
  model: string | null;
}

export interface ItemRow extends ItemBaseRow {
  state: ItemState;
  fail_reason: string | null;
  attempts: number;
  created_at: number;
  claimed_at: number | null;
  burned_at: number | null;
  verified_at: number | null;
  committed_at: number | null;
  updated_at: number;
}

export interface BatchRow {
  id: number;
  name: string;
  issuer: string | null;
  params: string;
  state: BatchState;
  created_at: number;
  updated_at: number;
}

export interface EventRow {
  id: number;
  at: number;
  batch_id: number | null;
  item_id: number | null;
  kind: string;
  detail: string;
}

/** The manufacturer a token is recorded with when its claim names none. */
export const DEFAULT_MANUFACTURER = "Token2";

export function itemBase(row: ItemBaseRow): ItemBase {
  return {
    id: row.id,
    batchId: row.batch_id,
    position: row.position,
    label: row.label,
    algorithm: row.algorithm,
    digits: row.digits,
    period: row.period,
    serial: row.serial,
    manufacturer: row.manufacturer,
    model: row.model,
  };
}

/** A committed item's row with its opened seed, for an export (the caller zeroes `seed`). */
export function committedSeed(row: ItemBaseRow, issuer: string | null, seed: Uint8Array): CommittedSeed {
  return {
    itemId: row.id,
    position: row.position,
    label: row.label,
    issuer,
    serial: row.serial as string,
    manufacturer: row.manufacturer ?? DEFAULT_MANUFACTURER,
    model: row.model,
    algorithm: row.algorithm,
    digits: row.digits,
    period: row.period,
    seed,
  };
}

export function itemRecord(row: ItemRow): ItemRecord {
  return {
    ...itemBase(row),
    state: row.state,
    failReason: row.fail_reason,
    attempts: row.attempts,
    createdAt: row.created_at,
    claimedAt: row.claimed_at,
    burnedAt: row.burned_at,
    verifiedAt: row.verified_at,
    committedAt: row.committed_at,
    updatedAt: row.updated_at,
  };
}

export function batchRecord(row: BatchRow): BatchRecord {
  return {
    id: row.id,
    name: row.name,
    issuer: row.issuer,
    state: row.state,
    params: JSON.parse(row.params) as Record<string, unknown>,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function eventRecord(row: EventRow): EventRecord {
  return {
    id: row.id,
    at: row.at,
    batchId: row.batch_id,
    itemId: row.item_id,
    kind: row.kind,
    detail: JSON.parse(row.detail) as Record<string, unknown>,
  };
}
