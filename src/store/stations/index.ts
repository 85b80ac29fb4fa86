/** The stations' shared batch store on PostgreSQL (docs/STATIONS.md). */
export { StationStore, PROGRESS_CHANNEL, type StationStoreOptions } from "./store.js";
export { SharedBatch } from "./shared-batch.js";
export { ProgressFeed, type ProgressOptions } from "./progress.js";
export { isUnavailable, type StoreConnectOptions } from "./connection.js";
export { SCHEMA_VERSION } from "./schema.js";
export * from "./types.js";
export { Station, type StationOptions } from "./station.js";
export { Outbox, OUTBOX_FILE, type OutboxEntry, type OutboxStep } from "./outbox.js";
export { SharedJournal, journalStatus } from "./shared-journal.js";
export { BatchKeyring, type SkippedBatch } from "./keyring.js";
