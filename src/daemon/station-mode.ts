/**
 * The daemon as a station of the shared store (`otpbridge daemon --store URL`, docs/STATIONS.md):
 * its batches are the store's (batch.create, batch.list, batch.export, batch.checkCode), and the
 * batch engine works on one shared batch at a time, the one this station joined: `--shared-batch ID`
 * at start, or batch.start / batch.resume of another one, which leaves the batch worked on so far
 * to the other stations. While joined, the station's heartbeats carry the engine's readers and
 * every station's progress goes to API clients as `batch.stations`. While the server is away the
 * engine takes no new tap; when it is back, the readers are looked at again.
 *
 * The passphrase stays in memory for the daemon's life: joining and exporting open batches with it.
 * journal.find opens each shared batch once and keeps its key (`keyring`, src/store/stations/keyring.ts).
 */
import { otpbError } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import { OneAtATime } from "../lib/one-at-a-time.js";
import type { BatchEngine } from "../service/batch-engine.js";
import type { ParsedBatch } from "../service/batch-input.js";
import { ProgressMeter } from "../service/batch-progress.js";
import type { BatchStore } from "../service/batch-store.js";
import { assertTypedCode, matchTypedCode, type CodeCheck } from "../service/batch-verify.js";
import { renderCommitted, type ExportRequest } from "../store/export/index.js";
import {
  BatchKeyring,
  journalStatus,
  Outbox,
  SharedJournal,
  Station,
  StationStore,
  type SharedBatch,
  type SharedBatchStatus,
  type StationStoreOptions,
} from "../store/stations/index.js";
import type { BatchRecord, BatchState, CommittedSeed } from "../store/types.js";
import { listedBatch, type BatchListing, type BatchShelf, type ShelfStatus } from "./batch-shelf.js";

export interface StationModeOptions {
  store: StationStoreOptions;
  /** The shared batch to join at start (`--shared-batch`); without it the station waits for batch.start. */
  batchId?: number;
  /** The passphrase every station of the team is given; shared batches are sealed under it. */
  passphrase: string;
}

/** What the station holds while it works on one shared batch. */
interface Seat {
  batch: SharedBatch;
  station: Station;
  journal: SharedJournal;
}

export class StationMode implements BatchShelf {
  readonly reburnsOneItem = false;
  /** The engine's store: the joined batch (any other batch id is BATCH_NOT_FOUND, as no batch joined is). */
  readonly journal: BatchStore;
  /** The shared batches journal.find searches, each key derived once. */
  readonly keyring: BatchKeyring;
  readonly #store: StationStore;
  readonly #outbox: Outbox;
  readonly #passphrase: string;
  readonly #log: Logger;
  /** Joins and the close run one at a time: two batch.start calls never seat two batches. */
  readonly #seating = new OneAtATime();
  #seat: Seat | undefined;
  #engine: BatchEngine | undefined;
  #onStations: (status: SharedBatchStatus) => void = () => {};

  private constructor(store: StationStore, outbox: Outbox, passphrase: string, log: Logger) {
    this.#store = store;
    this.#outbox = outbox;
    this.#passphrase = passphrase;
    this.#log = log;
    this.journal = seatedJournal(() => this.#seat?.journal);
    // Its own keys, not the seat's: a search or export under way must not read through a key that
    // leaving the batch zeroes (one more derivation per batch, once per daemon).
    this.keyring = new BatchKeyring(store, passphrase);
  }

  /**
   * Connects, and opens the batch to join at start (so a wrong passphrase stops the daemon at once).
   * @throws OtpbridgeError STORE_UNAVAILABLE, STORE_VERSION, WRONG_PASSPHRASE, BATCH_NOT_FOUND.
   */
  static async open(options: StationModeOptions, dataDir: string, log: Logger): Promise<StationMode> {
    const store = await StationStore.connect(options.store);
    let outbox: Outbox | undefined;
    try {
      outbox = Outbox.open(dataDir);
      const mode = new StationMode(store, outbox, options.passphrase, log);
      if (options.batchId !== undefined) mode.#seat = await mode.#openSeat(options.batchId);
      return mode;
    } catch (error) {
      outbox?.close();
      await store.close();
      throw error;
    }
  }

  /** This station's name in the shared store. */
  get station(): string {
    return this.#store.station;
  }

  /**
   * Hands the station its engine: the batch joined at start runs now when it is created or running
   * (a paused one waits for batch.resume, which resumes it for every station).
   */
  drive(engine: BatchEngine, onStations: (status: SharedBatchStatus) => void): void {
    this.#engine = engine;
    this.#onStations = onStations;
    const seat = this.#seat;
    if (seat === undefined) return;
    this.#sit(seat);
    const { id, state } = seat.journal.shared.batch;
    if (state !== "created" && state !== "running") {
      this.#log.warn("station: the shared batch is not running; batch.resume or batch.start takes it up", { batchId: id, state });
      return;
    }
    seat.journal.startOnServer(id).then(
      () => engine.run(id),
      (error: unknown) => this.#log.error("station: the shared batch could not be started", { batchId: id, error }),
    );
  }

  async create(input: ParsedBatch): Promise<BatchRecord> {
    return this.#store.createBatch(input, this.#passphrase);
  }

  async list(): Promise<BatchListing> {
    const batches = await Promise.all((await this.#store.batches()).map(async (b) => listedBatch(journalStatus(await this.#store.status(b.id)))));
    return { store: "shared", station: this.station, driven: this.#engine?.batchId ?? null, batches };
  }

  /**
   * Before a one-off burn (token.burn) on this station: a token that holds or may hold an item of a
   * shared batch is refused, since the burn would leave that batch's record and exports naming a
   * seed the token no longer holds. Re-burning it belongs to its batch (a station with --reburn).
   * @throws OtpbridgeError ITEM_STATE {store: "shared", batchId, itemId, state}; STORE_UNAVAILABLE.
   */
  async refuseSharedToken(token: { serial: string }): Promise<void> {
    const item = (await this.#store.itemsOfSerial(token.serial))[0];
    if (item === undefined) return;
    throw otpbError(
      "ITEM_STATE",
      `token ${token.serial} is item ${item.id} of shared batch ${item.batchId} (${item.state}): a one-off burn would leave that batch's record wrong; re-burn it in its batch, or use another token`,
      { detail: { store: "shared", batchId: item.batchId, itemId: item.id, state: item.state } },
    );
  }

  async batchState(batchId: number): Promise<BatchState> {
    return (await this.#store.batch(batchId)).state;
  }

  /**
   * Joins `batchId`, leaving the batch this station worked on (the other stations go on with it),
   * and starts or resumes it on the server before the engine's first claim.
   */
  prepareRun(batchId: number): Promise<void> {
    return this.#seating.run(async () => {
      await this.#join(batchId);
      await this.#seat!.journal.startOnServer(batchId);
    });
  }

  /** The joined batch through the engine (its snapshot changes at once); another one on the server. */
  async pause(batchId: number): Promise<BatchRecord> {
    return this.#joined(batchId) ? this.#engine!.pause(batchId) : this.#store.setBatchState(batchId, "pause");
  }

  async cancel(batchId: number): Promise<BatchRecord> {
    return this.#joined(batchId) ? this.#engine!.cancel(batchId) : this.#store.setBatchState(batchId, "cancel");
  }

  async status(batchId: number): Promise<ShelfStatus> {
    const engine = this.#engine!;
    const seat = this.#seat;
    if (seat !== undefined && this.#joined(batchId)) {
      return { progress: engine.progress(batchId), driven: engine.batchId === batchId, stations: seat.journal.shared };
    }
    const stations = await this.#store.status(batchId);
    return { progress: new ProgressMeter().progress(journalStatus(stations), [], 0), driven: false, stations };
  }

  render(batchId: number, request: ExportRequest): Promise<{ text: string; count: number }> {
    return this.#withCommittedSeeds(batchId, (items) => renderCommitted(items, request));
  }

  checkCode(batchId: number, itemId: number, code: string): Promise<CodeCheck> {
    assertTypedCode(code);
    return this.#withCommittedSeeds(batchId, (items) => matchTypedCode(items, batchId, itemId, code));
  }

  /** Leaves the joined batch (its burns under way finished: the engine is closed first) and disconnects. */
  async close(): Promise<void> {
    await this.#seating.run(async () => {
      if (this.#seat !== undefined) await this.#leave(this.#seat);
      this.#seat = undefined;
    });
    await this.keyring.close();
    this.#outbox.close();
    await this.#store.close();
  }

  #joined(batchId: number): boolean {
    return this.#seat?.batch.batchId === batchId;
  }

  async #join(batchId: number): Promise<void> {
    const engine = this.#engine!;
    const old = this.#seat;
    if (this.#joined(batchId)) return;
    const busy = (): void => {
      if (engine.inFlight > 0) {
        throw otpbError("BATCH_BUSY", `this station is burning tokens of shared batch ${old?.batch.batchId}; let them finish, then join batch ${batchId}`, {
          detail: { batchId: old?.batch.batchId },
        });
      }
    };
    busy();
    const seat = await this.#openSeat(batchId);
    try {
      // A tap may have started while the batch was opened (scrypt takes a moment).
      busy();
      engine.release();
    } catch (error) {
      await this.#leave(seat);
      throw error;
    }
    this.#seat = seat;
    this.#sit(seat);
    this.#log.info("station: joined a shared batch", { batchId, left: old?.batch.batchId });
    if (old !== undefined) await this.#leave(old);
  }

  /** @throws OtpbridgeError BATCH_NOT_FOUND, WRONG_PASSPHRASE, STORE_UNAVAILABLE. */
  async #openSeat(batchId: number): Promise<Seat> {
    const batch = await this.#store.openBatch(batchId, this.#passphrase);
    try {
      const readers = () => {
        const engine = this.#engine;
        if (engine?.batchId !== batchId) return [];
        return engine.progress().readers.map((r) => ({ name: r.reader, activity: r.state, ...(r.serial !== null ? { serial: r.serial } : {}) }));
      };
      const station = new Station({ store: this.#store, batch, outbox: this.#outbox, logger: this.#log, readers });
      return { batch, station, journal: await SharedJournal.open(station, { logger: this.#log }) };
    } catch (error) {
      batch.close();
      throw error;
    }
  }

  /** Starts the seat's heartbeat and sweeper, and its live status for the API. */
  #sit(seat: Seat): void {
    const engine = this.#engine!;
    const batchId = seat.batch.batchId;
    seat.journal.onStatus((status) => this.#onStations(status));
    seat.station.on("resumed", () => {
      if (engine.batchId === batchId) engine.run(batchId);
    });
    seat.station.start();
    this.#onStations(seat.journal.shared);
  }

  async #leave(seat: Seat): Promise<void> {
    seat.station.close();
    await seat.station.flush().catch(() => undefined);
    const unsent = seat.station.unsent().length;
    if (unsent > 0) {
      // Safe where they are: the items wait in needs-check, and a tap of their tokens on any station settles them.
      this.#log.warn("station: steps wait in the outbox until this station works on that batch again", { batchId: seat.batch.batchId, steps: unsent });
    }
    await seat.journal.close();
    seat.batch.close();
  }

  /** Through the keyring's key for the batch (derived once), never the seat's, which a join closes. */
  async #withCommittedSeeds<T>(batchId: number, use: (items: CommittedSeed[]) => T): Promise<T> {
    const [batch] = (await this.keyring.forSearch(batchId)).batches;
    return batch!.withCommittedSeeds(use);
  }
}

/** The engine's store, which follows the seat: every call goes to the joined batch's SharedJournal. */
function seatedJournal(seated: () => SharedJournal | undefined): BatchStore {
  const joined = (): SharedJournal => {
    const journal = seated();
    if (journal === undefined) throw otpbError("BATCH_NOT_FOUND", "this station works on no shared batch yet: batch.start one");
    return journal;
  };
  return {
    batch: (batchId) => joined().batch(batchId),
    status: (batchId) => joined().status(batchId),
    setBatchState: (batchId, action) => joined().setBatchState(batchId, action),
    claimNext: (batchId, token, options) => joined().claimNext(batchId, token, options),
    beginWrite: (itemId) => joined().beginWrite(itemId),
    markBurned: (itemId) => joined().markBurned(itemId),
    markVerified: (itemId, verification) => joined().markVerified(itemId, verification),
    commit: (itemId) => joined().commit(itemId),
    fail: (itemId, reason) => joined().fail(itemId, reason),
  };
}
