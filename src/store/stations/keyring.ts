/**
 * The shared batches one passphrase opens, each opened once and kept open (its key in memory) until
 * {@link BatchKeyring.close}: what a search over every shared batch (`otpbridge find`, journal.find
 * on a station) reads the sealed seeds through.
 *
 * Why keep the keys rather than derive them again for each search: opening a batch is an scrypt
 * derivation (N = 2^17: about 0.4 s of CPU and 128 MiB, measured by `npm run bench:find-stations`
 * beside the search itself: 0.48 s over 100,000 shared seeds), and a search spans every batch, so
 * re-deriving would cost every find that much per batch, one after the other. A kept key exposes nothing more than the station already holds: the passphrase that derives
 * every one of these keys stays in the daemon's memory for its life anyway (src/daemon/station-mode.ts).
 * A batch the passphrase does not open is remembered as such too (its salt and check value never
 * change), so it costs one derivation per daemon, not one per search.
 */
import { OtpbridgeError, otpbError } from "../../lib/errors.js";
import type { SharedBatch } from "./shared-batch.js";
import type { StationStore } from "./store.js";

/** A shared batch a search left out, and why (its seeds are sealed under another passphrase). */
export interface SkippedBatch {
  batchId: number;
  reason: "WRONG_PASSPHRASE";
}

export class BatchKeyring {
  readonly #store: StationStore;
  readonly #passphrase: string;
  /** By batch id: the opened batch, or null when the passphrase does not open it. */
  readonly #opened = new Map<number, Promise<SharedBatch | null>>();
  #closed = false;

  constructor(store: StationStore, passphrase: string) {
    this.#store = store;
    this.#passphrase = passphrase;
  }

  /**
   * The batches to search: `batchId` alone, or every batch of the store that holds a committed item
   * and that the passphrase opens, with those it does not open in `skipped`.
   * @throws OtpbridgeError BATCH_NOT_FOUND, WRONG_PASSPHRASE (only for the one `batchId` asked for),
   *   STORE_UNAVAILABLE.
   */
  async forSearch(batchId: number | undefined): Promise<{ batches: SharedBatch[]; skipped: SkippedBatch[] }> {
    if (batchId !== undefined) {
      const batch = await this.#open(batchId);
      // The one batch asked for cannot be searched: an error, not an empty answer that reads as "not here".
      if (batch === null) throw wrongPassphrase(batchId);
      return { batches: [batch], skipped: [] };
    }
    const batches: SharedBatch[] = [];
    const skipped: SkippedBatch[] = [];
    // Only batches with a committed item: a batch nobody has burned from yet costs no derivation.
    const { rows } = await this.#store.query<{ id: number }>(
      "list the batches with committed items",
      `SELECT b.id FROM otpb_batches b
       WHERE EXISTS (SELECT 1 FROM otpb_items i WHERE i.batch_id = b.id AND i.state = 'committed') ORDER BY b.id`,
    );
    for (const { id } of rows) {
      const batch = await this.#open(id);
      if (batch === null) skipped.push({ batchId: id, reason: "WRONG_PASSPHRASE" });
      else batches.push(batch);
    }
    return { batches, skipped };
  }

  /** Zeroes every key opened here. */
  async close(): Promise<void> {
    this.#closed = true;
    const opened = [...this.#opened.values()];
    this.#opened.clear();
    for (const batch of await Promise.all(opened.map((p) => p.catch(() => null)))) batch?.close();
  }

  async #open(batchId: number): Promise<SharedBatch | null> {
    if (this.#closed) throw new Error("BatchKeyring used after close()");
    let opened = this.#opened.get(batchId);
    if (opened === undefined) {
      opened = this.#store.openBatch(batchId, this.#passphrase).catch((error: unknown) => {
        if (error instanceof OtpbridgeError && error.reason === "WRONG_PASSPHRASE") return null;
        // Not found, or the server away: nothing to remember, the next search asks again.
        this.#opened.delete(batchId);
        throw error;
      });
      this.#opened.set(batchId, opened);
    }
    return opened;
  }
}

function wrongPassphrase(batchId: number): OtpbridgeError {
  return otpbError("WRONG_PASSPHRASE", `the passphrase does not open shared batch ${batchId}`, { detail: { batchId } });
}
