/**
 * Where the daemon's batches live, as the `batch.*` handlers see them: this machine's journal, or,
 * for a daemon started with `--store`, the stations' shared store (src/daemon/station-mode.ts). The
 * handlers decode, call the shelf and encode; the batch engine burns whichever batch runs.
 */
import type { BatchEngine, BatchProgress } from "../service/batch-engine.js";
import type { ParsedBatch } from "../service/batch-input.js";
import { checkTypedCode, type CodeCheck } from "../service/batch-verify.js";
import { renderExport, type ExportRequest } from "../store/export/index.js";
import type { Journal } from "../store/journal.js";
import type { SharedBatchStatus } from "../store/stations/index.js";
import type { BatchRecord, BatchState, BatchStatus } from "../store/types.js";

export interface ListedBatch extends BatchRecord {
  total: number;
  /** Committed items. */
  done: number;
}

export type BatchListing =
  | { store: "local"; batches: ListedBatch[] }
  /** `station`: this daemon's name in the shared store; `driven`: the shared batch it works on. */
  | { store: "shared"; station: string; driven: number | null; batches: ListedBatch[] };

export interface ShelfStatus {
  progress: BatchProgress;
  /** The engine runs this batch here. */
  driven: boolean;
  /** A shared batch: every station, its heartbeat and readers (the `batch.stations` event's params). */
  stations?: SharedBatchStatus;
}

export interface BatchShelf {
  /** The local journal re-burns one chosen item (batch.reburnItem); the shared store has no such claim. */
  readonly reburnsOneItem: boolean;
  /** @throws OtpbridgeError INVALID_INPUT, JOURNAL_* / STORE_UNAVAILABLE (nothing stored). */
  create(input: ParsedBatch): Promise<BatchRecord>;
  list(): Promise<BatchListing>;
  /** @throws OtpbridgeError BATCH_NOT_FOUND. */
  batchState(batchId: number): Promise<BatchState>;
  /** Gets `batchId` ready for the engine to run (a station joins the shared batch). */
  prepareRun(batchId: number): Promise<void>;
  /** @throws OtpbridgeError BATCH_NOT_FOUND. */
  status(batchId: number): Promise<ShelfStatus>;
  /** The committed items in an export format. @throws EXPORT_UNSUPPORTED, BATCH_NOT_FOUND, SEED_TAMPERED. */
  render(batchId: number, request: ExportRequest): Promise<{ text: string; count: number }>;
  /** @throws OtpbridgeError INVALID_INPUT, BATCH_NOT_FOUND, ITEM_STATE, SEED_TAMPERED. */
  checkCode(batchId: number, itemId: number, code: string): Promise<CodeCheck>;
}

/** A batch as `batch.list` shows it. */
export function listedBatch(status: BatchStatus): ListedBatch {
  return { ...status.batch, total: status.total, done: status.counts.committed };
}

/** The batches of this machine's journal. */
export function localShelf(journal: Journal, engine: BatchEngine): BatchShelf {
  return {
    reburnsOneItem: true,
    create: async (input) => journal.createBatch(input),
    list: async () => ({ store: "local", batches: journal.batches().map((b) => listedBatch(journal.status(b.id))) }),
    batchState: async (batchId) => journal.batch(batchId).state,
    prepareRun: async () => {},
    status: async (batchId) => ({ progress: engine.progress(batchId), driven: engine.batchId === batchId }),
    render: async (batchId, request) => renderExport(journal, batchId, request),
    checkCode: async (batchId, itemId, code) => checkTypedCode(journal, batchId, itemId, code),
  };
}
