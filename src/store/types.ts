/**
 * Records the journal hands out. None of them carries a seed except {@link ClaimedItem} and
 * {@link CommittedSeed}, whose `seed` arrays belong to the caller, who must zero them after use.
 */

/** HMAC of the TOTP (RFC 6238 §1.2); the tokens burn SHA-1 or SHA-256 (docs/PROTOCOL.md §2, §3). */
export type TotpAlgorithm = "SHA1" | "SHA256";
export const TOTP_ALGORITHMS: readonly TotpAlgorithm[] = ["SHA1", "SHA256"];

/**
 * pending → claimed → burned → verified → committed; claimed/burned/verified → failed.
 * `superseded`: the item's token was re-burned from another batch, so its seed is on no token.
 */
export type ItemState = "pending" | "claimed" | "burned" | "verified" | "committed" | "failed" | "superseded";
export const ITEM_STATES: readonly ItemState[] = ["pending", "claimed", "burned", "verified", "committed", "failed", "superseded"];

/** created → running ⇄ paused; any of them → cancelled. Only a running batch hands out claims. */
export type BatchState = "created" | "running" | "paused" | "cancelled";

/** TOTP parameters shared by the items of a batch unless an item sets its own. */
export interface TotpParams {
  algorithm: TotpAlgorithm;
  /** 6 or 8 on most tokens; Molto2 profiles take 4–10 (docs/PROTOCOL.md §3). */
  digits: number;
  /** Time step in seconds: 30 or 60 on single-profile tokens (docs/PROTOCOL.md §2). */
  period: number;
}

/** One item to put in a batch. Without `seed`, the journal generates 20 random bytes (RFC 4226 §4 R6). */
export interface ItemInput extends Partial<TotpParams> {
  /** Imported seed, 10–64 bytes. The journal copies it; the caller keeps ownership and zeroes it. */
  seed?: Uint8Array;
  /** Who the token is for: the Entra ID UPN, or the otpauth account name. */
  label?: string;
}

export interface BatchInput {
  name: string;
  /** Parameters for items that do not set their own; defaults SHA1, 6 digits, 30 s. */
  defaults?: Partial<TotpParams>;
  /** Issuer for otpauth URIs and PSKC `Issuer`. */
  issuer?: string;
  /** Exactly one of `items` and `count`: listed items, or `count` items with generated seeds. */
  items?: ItemInput[];
  count?: number;
}

export interface BatchRecord {
  id: number;
  name: string;
  issuer: string | null;
  state: BatchState;
  /** JSON-safe description of how the batch was made (defaults, counts); never seeds. */
  params: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
}

/** What an item is in the journal and in the stations store alike: its place, TOTP parameters and token. */
export interface ItemBase extends TotpParams {
  id: number;
  batchId: number;
  /** 0-based order within the batch; claims take the lowest pending position. */
  position: number;
  label: string | null;
  serial: string | null;
  manufacturer: string | null;
  model: string | null;
}

export interface ItemRecord extends ItemBase {
  state: ItemState;
  failReason: string | null;
  /** Claims so far (first claim, resumptions and re-burns). */
  attempts: number;
  createdAt: number;
  claimedAt: number | null;
  burnedAt: number | null;
  verifiedAt: number | null;
  committedAt: number | null;
  updatedAt: number;
}

/** The token a claim binds an item to. */
export interface TokenRef {
  /** The token's serial as the device reports it. A multi-profile device passes "serial/profile". */
  serial: string;
  /** Defaults to "Token2". */
  manufacturer?: string;
  model?: string;
}

export interface ClaimOptions {
  /**
   * Burn again a token this batch already holds as committed or failed (same item, same seed), or
   * take over a token that another batch holds: that batch's item becomes `superseded`.
   */
  reburn?: boolean;
  /**
   * Re-burn exactly this item of the batch (one item, chosen by the operator) instead of taking the
   * next pending one: see Journal#claimNext. `reburn` is implied.
   */
  itemId?: number;
}

/** Another batch's item bound to the same serial. */
export interface SerialConflict {
  batchId: number;
  itemId: number;
  state: ItemState;
}

/** A claim that hands out a seed: burn `seed` onto the token, then zero it (`seed.fill(0)`). */
export interface ClaimedItem {
  outcome: "claimed" | "resumed" | "reburn";
  item: ItemRecord;
  seed: Uint8Array;
  /** Items of other batches that this claim superseded (only with `reburn`). */
  superseded: SerialConflict[];
}

/** The taps that hand out no seed, in the journal and in the stations store (with its item record). */
export type ClaimRefusal<Item> =
  | { outcome: "already-committed" | "previously-failed"; item: Item }
  | { outcome: "serial-in-other-batch"; conflicts: SerialConflict[] }
  | { outcome: "exhausted" };

/** What a tap can lead to; only {@link ClaimedItem} hands out a seed. */
export type ClaimResult = ClaimedItem | ClaimRefusal<ItemRecord>;

export interface BatchStatus {
  batch: BatchRecord;
  counts: Record<ItemState, number>;
  total: number;
  /** No pending item and none in flight (claimed, burned or verified). */
  done: boolean;
}

export interface EventRecord {
  id: number;
  at: number;
  batchId: number | null;
  itemId: number | null;
  kind: string;
  detail: Record<string, unknown>;
}

/** A committed item with its seed, for exports. The journal zeroes `seed` when the callback returns. */
export interface CommittedSeed extends TotpParams {
  itemId: number;
  position: number;
  label: string | null;
  issuer: string | null;
  serial: string;
  manufacturer: string;
  model: string | null;
  seed: Uint8Array;
}

/** A committed item as a search over seeds reports it: where it is, which token holds it, no seed. */
export interface CommittedItemRef extends TotpParams {
  itemId: number;
  batchId: number;
  /** 0-based order within the batch. */
  position: number;
  label: string | null;
  serial: string;
}

/**
 * Committed items with their seeds still sealed (AES-256-GCM, as stored): `openSeed(i, use)` decrypts
 * the seed of `items[i]` into a fresh array, checking its tag, hands it to `use`, and zeroes it when
 * `use` returns or throws. `openForSearch(indices, use)` decrypts the seeds of `items[indices[k]]`
 * for a search, all at once and WITHOUT checking their tags (SeedVault.openForSearch), handing each
 * to `use(k, seed)` in a scratch array zeroed when `use` returns: every item a search reports must
 * then be confirmed with openSeed.
 */
export interface SealedCommittedItems {
  items: CommittedItemRef[];
  openSeed(index: number, use: (seed: Uint8Array) => void): void;
  openForSearch(indices: readonly number[], use: (k: number, seed: Uint8Array) => void): void;
}
