/**
 * The daemon as one station of a shared batch (`otpbridge daemon --store URL --shared-batch ID`,
 * docs/STATIONS.md): the batch engine works on a SharedJournal instead of the local journal, the
 * station's heartbeats carry the engine's readers, and every station's progress is pushed to API
 * clients as `batch.stations`. While the server is away the engine takes no new tap; when it is
 * back, the readers are looked at again.
 */
import type { Logger } from "../lib/log.js";
import { Outbox, SharedJournal, Station, StationStore, type SharedBatchStatus, type StationStoreOptions } from "../store/stations/index.js";
import type { BatchEngine } from "../service/batch-engine.js";

export interface StationModeOptions {
  store: StationStoreOptions;
  batchId: number;
  /** The shared batch's passphrase; the caller zeroes nothing (a string), so keep it short-lived. */
  passphrase: string;
}

export interface StationMode {
  journal: SharedJournal;
  /** Starts the heartbeat and sweeper and runs the shared batch on `engine`. */
  drive(engine: BatchEngine, onStations: (status: SharedBatchStatus) => void): void;
  close(): Promise<void>;
}

/** Connects and opens the shared batch. @throws STORE_UNAVAILABLE, STORE_VERSION, WRONG_PASSPHRASE, BATCH_NOT_FOUND. */
export async function openStationMode(options: StationModeOptions, dataDir: string, log: Logger): Promise<StationMode> {
  const store = await StationStore.connect(options.store);
  let engine: BatchEngine | undefined;
  try {
    const batch = await store.openBatch(options.batchId, options.passphrase);
    const outbox = Outbox.open(dataDir);
    const readers = () =>
      engine?.batchId === undefined
        ? []
        : engine.progress().readers.map((r) => ({ name: r.reader, activity: r.state, ...(r.serial !== null ? { serial: r.serial } : {}) }));
    const station = new Station({ store, batch, outbox, logger: log, readers });
    const journal = await SharedJournal.open(station, { logger: log });
    return {
      journal,
      drive(driven, onStations) {
        engine = driven;
        journal.onStatus(onStations);
        station.on("resumed", () => driven.run(options.batchId));
        station.start();
        driven.run(options.batchId);
      },
      async close() {
        station.close();
        await station.flush().catch(() => undefined);
        await journal.close();
        batch.close();
        outbox.close();
        await store.close();
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}
