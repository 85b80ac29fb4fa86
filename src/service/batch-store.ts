/**
 * What the batch engine and the burn path need from the store that holds batches: the local SQLite
 * journal (src/store/journal.ts) has all of it; a store shared by several stations can plug in here
 * as long as it keeps the claim-before-burn rule (src/service/burn.ts).
 */
import type { BatchRecord, BatchStatus, ClaimOptions, ClaimResult, TokenRef } from "../store/types.js";
import type { Awaitable, BurnRecords } from "./burn.js";

export interface BatchStore extends BurnRecords {
  /** @throws OtpbridgeError BATCH_NOT_FOUND. */
  batch(batchId: number): BatchRecord;
  /** @throws OtpbridgeError BATCH_NOT_FOUND. */
  status(batchId: number): BatchStatus;
  /** @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE, JOURNAL_FULL / JOURNAL_IO. */
  setBatchState(batchId: number, action: "start" | "pause" | "resume" | "cancel"): BatchRecord;
  /** Binds the batch's next item to `token` in a committed write (see Journal#claimNext). */
  claimNext(batchId: number, token: TokenRef & { reader?: string }, options?: ClaimOptions): Awaitable<ClaimResult>;
}
