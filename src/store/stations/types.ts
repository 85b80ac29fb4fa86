/** Records of the shared store. Only {@link SharedClaim} carries a seed, which its caller zeroes. */
import type { BatchRecord, ClaimRefusal, ItemBase, ItemState, SerialConflict, TokenRef } from "../types.js";

/** The journal's item states, plus `needs-check`: a lease ran out after a byte may have reached a token. */
export type SharedItemState = ItemState | "needs-check";
/** Listed, not derived from ITEM_STATES: `counts` keeps this order on the wire (docs/API.md batch.stations). */
export const SHARED_ITEM_STATES: readonly SharedItemState[] = ["pending", "claimed", "burned", "verified", "committed", "failed", "needs-check", "superseded"];

/** What a station holds while it works on an item; every update of the item carries it. */
export interface Lease {
  itemId: number;
  /** From one sequence across the store: a later lease on the same item always has a larger fence. */
  fence: number;
}

/** A shared batch is described exactly as a journal batch is. */
export type SharedBatchRecord = BatchRecord;

export interface SharedItemRecord extends ItemBase {
  state: SharedItemState;
  /** The station that holds or last held the item, and the reader it named. */
  station: string | null;
  reader: string | null;
  fence: number | null;
  leaseExpiresAt: number | null;
  /** Set once a station said it was about to write: from then on a byte may be on the token. */
  writeStartedAt: number | null;
  attempts: number;
  failReason: string | null;
  claimedAt: number | null;
  committedAt: number | null;
  updatedAt: number;
}

/** A claim that hands out a seed: burn it under `lease`, then zero it (`seed.fill(0)`). */
export interface SharedClaim {
  outcome: "claimed" | "resumed" | "reburn";
  item: SharedItemRecord;
  lease: Lease;
  seed: Uint8Array;
  superseded: SerialConflict[];
}

export type SharedClaimResult =
  | SharedClaim
  | ClaimRefusal<SharedItemRecord>
  /** The token's item is leased to another station whose lease has not run out yet. */
  | { outcome: "leased-elsewhere"; item: SharedItemRecord };

export interface ClaimRequest extends TokenRef {
  /** The reader the token sits on, for the live view. */
  reader?: string;
  reburn?: boolean;
}

/** A reader as a station reports it in its heartbeat. */
export interface StationReader {
  name: string;
  /** idle, burning, verifying, ... as the station's engine names it; serial when a token is on it. */
  activity: string;
  serial?: string;
}

export interface StationRecord {
  id: string;
  host: string;
  batchId: number | null;
  readers: StationReader[];
  startedAt: number;
  heartbeatAt: number;
  /** Heartbeat within three lease periods. */
  alive: boolean;
  /** Items of the watched batch this station committed, and holds leases on now. */
  committed: number;
  leased: number;
}

export interface SharedBatchStatus {
  batch: SharedBatchRecord;
  counts: Record<SharedItemState, number>;
  total: number;
  /** No pending item and none in flight or waiting for a check. */
  done: boolean;
  stations: StationRecord[];
}

/** What one sweep did; `null` from sweep() when another station's sweeper held the lock. */
export interface SweepResult {
  /** Expired leases on items no byte of which was sent: back to pending. */
  returned: number[];
  /** Expired leases on items that may have been written: wait for their serial to be tapped. */
  needsCheck: number[];
}
