/**
 * The stations' shared store: several daemons, each with its own readers and its own local journal,
 * work through one batch held in PostgreSQL (docs/STATIONS.md). This class owns the pool, the schema,
 * the station's registration and heartbeat, the batch records and the sweeper; {@link SharedBatch}
 * (one per opened batch, holding its key) claims and updates items under leases.
 *
 * Times that decide leases are the server's (`now()`), so stations with skewed clocks agree.
 * Emits `unavailable` when an operation finds the server gone and `available` when one succeeds again.
 */
import { EventEmitter } from "node:events";
import { randomBytes, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import { aint, aoneOf } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import { prepareBatch } from "../batch-input.js";
import { atext } from "../input.js";
import { DEFAULT_SCRYPT, SeedVault, type ScryptParams } from "../seed-vault.js";
import type { BatchInput, BatchState } from "../types.js";
import { poolConfig, storeError, type StoreConnectOptions } from "./connection.js";
import { sharedBatchRecord, sharedItemRecord, type SharedBatchRow, type SharedItemRow } from "./rows.js";
import { insertItems, INSERT_CHUNK } from "./create-batch.js";
import { migrate } from "./schema.js";
import { SharedBatch } from "./shared-batch.js";
import { batchStatus } from "./status.js";
import type { SharedBatchRecord, SharedBatchStatus, SharedItemRecord, StationReader, SweepResult } from "./types.js";

export interface StationStoreOptions extends StoreConnectOptions {
  /** This station's name, stable across restarts (default: the host name). */
  station?: string;
  /** How long a claim stays this station's without a heartbeat; default 15 s. */
  leaseMs?: number;
  /**
   * Registers this station (default true). A client that only reads (`otpbridge find --store`) does
   * not: registering under a running station's name would end that station's heartbeats.
   */
  register?: boolean;
}

export const PROGRESS_CHANNEL = "otpb_progress";
const SWEEP_LOCK = "otpbridge.stations.sweep";
const BATCH_TRANSITIONS: Record<"start" | "pause" | "resume" | "cancel", { from: BatchState[]; to: BatchState }> = {
  start: { from: ["created"], to: "running" },
  pause: { from: ["running"], to: "paused" },
  resume: { from: ["paused"], to: "running" },
  cancel: { from: ["created", "running", "paused"], to: "cancelled" },
};

export type Db = pg.PoolClient;

export class StationStore extends EventEmitter {
  readonly station: string;
  /** This process's registration; leases carry it, so a restarted station's old leases can expire. */
  readonly session: string;
  readonly leaseMs: number;
  readonly options: StoreConnectOptions;
  readonly #pool: pg.Pool;
  #available = true;
  #closed = false;

  private constructor(pool: pg.Pool, options: StationStoreOptions, station: string) {
    super();
    this.#pool = pool;
    this.options = { ...options };
    this.station = station;
    this.session = randomUUID();
    this.leaseMs = options.leaseMs ?? 15_000;
  }

  /**
   * Connects, brings the schema up to date, and registers this station (replacing an earlier
   * registration under the same name, whose heartbeats are refused from then on).
   * @throws OtpbridgeError STORE_UNAVAILABLE, STORE_VERSION; TypeError (INVALID_INPUT) for a bad URL.
   */
  static async connect(options: StationStoreOptions): Promise<StationStore> {
    const station = options.station ?? hostname();
    atext(station, "station", 1, 64);
    if (options.leaseMs !== undefined) aint(options.leaseMs, "leaseMs", 500, 600_000);
    const pool = new pg.Pool(poolConfig(options, `otpbridge station ${station}`));
    const store = new StationStore(pool, options, station);
    // An idle client's error lands here; without a listener node-postgres would crash the process.
    pool.on("error", (error) => store.#lost(error));
    try {
      await migrate(pool);
      if (options.register === false) return store;
      await store.query(
        "register this station",
        `INSERT INTO otpb_stations (id, session, host) VALUES ($1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET session = $2, host = $3, readers = '[]', started_at = now(), heartbeat_at = now()`,
        [station, store.session, hostname()],
      );
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw storeError(error, "connect");
    }
    return store;
  }

  /** False from a failed round trip until the next successful one. */
  get available(): boolean {
    return this.#available;
  }

  /**
   * Creates a batch whose seeds are sealed under a key derived from `passphrase` (scrypt, salt and
   * cost stored with the batch, the key never). Every station opening the batch needs the passphrase.
   * @throws TypeError/RangeError (INVALID_INPUT); OtpbridgeError STORE_UNAVAILABLE (nothing stored).
   */
  async createBatch(input: BatchInput, passphrase: string, scrypt: ScryptParams = DEFAULT_SCRYPT): Promise<SharedBatchRecord> {
    const { prepared, params } = prepareBatch(input);
    const uid = randomBytes(16);
    const salt = randomBytes(16);
    const vault = await SeedVault.fromPassphraseAsync(passphrase, salt, scrypt);
    try {
      return await this.tx("create a batch", async (db) => {
        const { rows } = await db.query<SharedBatchRow>(
          `INSERT INTO otpb_batches (uid, name, issuer, params, state, kdf_salt, kdf_n, kdf_r, kdf_p, key_check)
           VALUES ($1, $2, $3, $4, 'created', $5, $6, $7, $8, $9) RETURNING *`,
          [uid, input.name, input.issuer ?? null, params, salt, scrypt.N, scrypt.r, scrypt.p, Buffer.from(vault.checkValue(uid))],
        );
        const batch = rows[0]!;
        for (let start = 0; start < prepared.length; start += INSERT_CHUNK) {
          await insertItems(db, vault, batch, prepared.slice(start, start + INSERT_CHUNK), start);
        }
        await logEvent(db, batch.id, null, this.station, "batch.created", { name: input.name, ...params });
        return sharedBatchRecord(batch);
      });
    } finally {
      vault.destroy();
    }
  }

  /**
   * Opens a batch for claims and exports with its passphrase.
   * @throws OtpbridgeError BATCH_NOT_FOUND, WRONG_PASSPHRASE (checked before any seed is read),
   *   STORE_UNAVAILABLE.
   */
  async openBatch(batchId: number, passphrase: string): Promise<SharedBatch> {
    const row = await this.#batchRow(batchId);
    // Off the event loop: a station daemon joining or searching a batch keeps up its heartbeats meanwhile.
    const vault = await SeedVault.fromPassphraseAsync(passphrase, row.kdf_salt, { N: row.kdf_n, r: row.kdf_r, p: row.kdf_p });
    if (!vault.matches(row.key_check, row.uid)) {
      vault.destroy();
      throw otpbError("WRONG_PASSPHRASE", `the passphrase does not open shared batch ${batchId}`, {
        detail: { batchId },
      });
    }
    return new SharedBatch(this, row.id, new Uint8Array(row.uid), vault);
  }

  /** @throws OtpbridgeError BATCH_NOT_FOUND, BATCH_STATE, STORE_UNAVAILABLE. */
  async setBatchState(batchId: number, action: keyof typeof BATCH_TRANSITIONS): Promise<SharedBatchRecord> {
    aoneOf(action, "action", Object.keys(BATCH_TRANSITIONS) as (keyof typeof BATCH_TRANSITIONS)[]);
    const { from, to } = BATCH_TRANSITIONS[action];
    return this.tx(`${action} batch ${batchId}`, async (db) => {
      const { rows } = await db.query<SharedBatchRow>("SELECT * FROM otpb_batches WHERE id = $1 FOR UPDATE", [batchId]);
      const batch = rows[0];
      if (batch === undefined) throw noBatch(batchId);
      if (!from.includes(batch.state)) {
        throw otpbError("BATCH_STATE", `cannot ${action} batch ${batchId}: it is ${batch.state}`, {
          detail: { batchId, state: batch.state, action },
        });
      }
      const updated = await db.query<SharedBatchRow>("UPDATE otpb_batches SET state = $2, updated_at = now() WHERE id = $1 RETURNING *", [batchId, to]);
      await logEvent(db, batchId, null, this.station, `batch.${action}`, { from: batch.state, to });
      return sharedBatchRecord(updated.rows[0]!);
    });
  }

  /** @throws OtpbridgeError BATCH_NOT_FOUND, STORE_UNAVAILABLE. */
  async batch(batchId: number): Promise<SharedBatchRecord> {
    return sharedBatchRecord(await this.#batchRow(batchId));
  }

  async batches(): Promise<SharedBatchRecord[]> {
    const { rows } = await this.query<SharedBatchRow>("list batches", "SELECT * FROM otpb_batches ORDER BY id");
    return rows.map(sharedBatchRecord);
  }

  /** The items in position order, without seeds. */
  async items(batchId: number): Promise<SharedItemRecord[]> {
    await this.#batchRow(batchId);
    const { rows } = await this.query<SharedItemRow>("list items", "SELECT * FROM otpb_items WHERE batch_id = $1 ORDER BY position", [batchId]);
    return rows.map(sharedItemRecord);
  }

  /**
   * The items of any batch that a token with this serial holds or may hold (a claim under way, a
   * write that may have happened, a commit, a failure that stays bound to it).
   * @throws OtpbridgeError STORE_UNAVAILABLE.
   */
  async itemsOfSerial(serial: string): Promise<SharedItemRecord[]> {
    const { rows } = await this.query<SharedItemRow>(
      "look up a serial",
      `SELECT * FROM otpb_items WHERE serial = $1 AND state IN ('claimed', 'burned', 'verified', 'committed', 'failed', 'needs-check') ORDER BY id`,
      [serial],
    );
    return rows.map(sharedItemRecord);
  }

  /** Counts per state and every station with its readers. @throws BATCH_NOT_FOUND, STORE_UNAVAILABLE. */
  async status(batchId: number): Promise<SharedBatchStatus> {
    const batch = await this.batch(batchId);
    return this.run("read the batch status", (db) => batchStatus(db, batch, this.leaseMs));
  }

  /**
   * Says this station is alive (with its readers), and extends the leases this process holds.
   * @throws OtpbridgeError LEASE_LOST when another process registered under this station's name;
   *   STORE_UNAVAILABLE.
   */
  async heartbeat(readers: StationReader[], batchId: number | null = null): Promise<void> {
    await this.tx("send a heartbeat", async (db) => {
      const { rowCount } = await db.query("UPDATE otpb_stations SET heartbeat_at = now(), readers = $3, batch_id = $4 WHERE id = $1 AND session = $2", [
        this.station,
        this.session,
        JSON.stringify(readers),
        batchId,
      ]);
      if (rowCount === 0) {
        throw otpbError("LEASE_LOST", `station ${this.station} was registered again by another process`, {
          detail: { station: this.station },
        });
      }
      await db.query(
        `UPDATE otpb_items SET lease_expires_at = now() + $2 * interval '1 millisecond'
         WHERE session = $1 AND lease_expires_at IS NOT NULL`,
        [this.session, this.leaseMs],
      );
      await db.query("SELECT pg_notify($1, $2)", [PROGRESS_CHANNEL, JSON.stringify({ b: batchId, st: this.station })]);
    });
  }

  /**
   * Returns expired leases: to pending when no byte of the item was ever sent to a token (its serial
   * is unbound), to needs-check otherwise (it keeps its serial and seed, for a tap of that token).
   * Either way the fence moves on, so the station that held the lease can no longer update the item.
   * One sweeper at a time across all stations (an advisory lock); returns null when another held it.
   */
  async sweep(): Promise<SweepResult | null> {
    return this.tx("sweep expired leases", async (db) => {
      const { rows } = await db.query<{ ok: boolean }>("SELECT pg_try_advisory_xact_lock(hashtext($1)) AS ok", [SWEEP_LOCK]);
      if (rows[0]?.ok !== true) return null;
      const returned = await db.query<{ id: number; batch_id: number; serial: string }>(
        `UPDATE otpb_items i SET state = 'pending', serial = NULL, manufacturer = NULL, model = NULL,
                station = NULL, session = NULL, reader = NULL, lease_expires_at = NULL,
                fence = nextval('otpb_fence'), claimed_at = NULL, updated_at = now()
         FROM (SELECT id, serial FROM otpb_items WHERE state = 'claimed' AND write_started_at IS NULL
               AND lease_expires_at < now() FOR UPDATE) old
         WHERE i.id = old.id RETURNING i.id, i.batch_id, old.serial`,
      );
      const checks = await db.query<{ id: number; batch_id: number; serial: string; state: string }>(
        `UPDATE otpb_items i SET state = 'needs-check', session = NULL, lease_expires_at = NULL,
                fence = nextval('otpb_fence'), updated_at = now()
         FROM (SELECT id, state FROM otpb_items WHERE state IN ('claimed', 'burned', 'verified')
               AND write_started_at IS NOT NULL AND lease_expires_at < now() FOR UPDATE) old
         WHERE i.id = old.id RETURNING i.id, i.batch_id, i.serial, old.state`,
      );
      for (const r of returned.rows) {
        await logEvent(db, r.batch_id, r.id, this.station, "item.lease-expired", { serial: r.serial, to: "pending" });
      }
      for (const r of checks.rows) {
        await logEvent(db, r.batch_id, r.id, this.station, "item.lease-expired", { serial: r.serial, from: r.state, to: "needs-check" });
      }
      if (returned.rows.length + checks.rows.length > 0) await notify(db, null, null, "swept", this.station);
      return { returned: returned.rows.map((r) => r.id), needsCheck: checks.rows.map((r) => r.id) };
    });
  }

  /** Ends the pool. The store is unusable afterwards. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end().catch(() => undefined);
  }

  /** Runs `fn` in one transaction; connection failures become STORE_UNAVAILABLE. For this module's classes. */
  async tx<T>(action: string, fn: (db: Db) => Promise<T>): Promise<T> {
    return this.run(action, async (db) => {
      await db.query("BEGIN");
      try {
        const result = await fn(db);
        await db.query("COMMIT");
        return result;
      } catch (error) {
        await db.query("ROLLBACK").catch(() => undefined);
        throw error;
      }
    });
  }

  /** Runs `fn` on one pooled connection, tracking availability. For this module's classes. */
  async run<T>(action: string, fn: (db: Db) => Promise<T>): Promise<T> {
    let client: pg.PoolClient | undefined;
    // A checked-out client has no pool listener: its connection dying between two queries would
    // otherwise be an unhandled 'error'. The failing query rejects as well; that is what we report.
    const onError = (error: Error): void => this.#lost(error);
    try {
      client = await this.#pool.connect();
      client.on("error", onError);
      const result = await fn(client);
      client.off("error", onError);
      client.release();
      client = undefined;
      this.#reached();
      return result;
    } catch (error) {
      const mapped = storeError(error, action);
      client?.off("error", onError);
      // A connection that failed mid-transaction is discarded rather than returned to the pool.
      client?.release(mapped !== error ? (error as Error) : undefined);
      if (mapped !== error) this.#lost(error);
      throw mapped;
    }
  }

  async query<R extends pg.QueryResultRow>(action: string, sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.run(action, (db) => db.query<R>(sql, params));
  }

  async #batchRow(batchId: number): Promise<SharedBatchRow> {
    aint(batchId, "batchId", 1, 2 ** 31 - 1);
    const { rows } = await this.query<SharedBatchRow>("read a batch", "SELECT * FROM otpb_batches WHERE id = $1", [batchId]);
    if (rows[0] === undefined) throw noBatch(batchId);
    return rows[0];
  }

  #lost(error: unknown): void {
    if (this.#closed) return;
    if (this.#available) {
      this.#available = false;
      this.emit("unavailable", storeError(error, "keep a connection"));
    }
  }

  #reached(): void {
    if (!this.#available) {
      this.#available = true;
      this.emit("available");
    }
  }
}

/** Appends one event; `detail` must hold no secret (ids, serials, states, reasons). */
export async function logEvent(db: Db, batchId: number | null, itemId: number | null, station: string, kind: string, detail: object): Promise<void> {
  await db.query("INSERT INTO otpb_events (batch_id, item_id, station, kind, detail) VALUES ($1, $2, $3, $4, $5)", [
    batchId,
    itemId,
    station,
    kind,
    JSON.stringify(detail),
  ]);
}

/** {@link logEvent} and {@link notify} of an item's new state in one round trip. */
export async function logChange(db: Db, batchId: number, itemId: number, station: string, kind: string, detail: object, state: string): Promise<void> {
  await db.query(
    `WITH e AS (INSERT INTO otpb_events (batch_id, item_id, station, kind, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id)
     SELECT pg_notify($6, $7) FROM e`,
    [batchId, itemId, station, kind, JSON.stringify(detail), PROGRESS_CHANNEL, JSON.stringify({ b: batchId, i: itemId, s: state, st: station })],
  );
}

/** Tells LISTENing stations that a batch moved; delivered when the transaction commits. */
export async function notify(db: Db, batchId: number | null, itemId: number | null, state: string, station: string): Promise<void> {
  await db.query("SELECT pg_notify($1, $2)", [PROGRESS_CHANNEL, JSON.stringify({ b: batchId, i: itemId, s: state, st: station })]);
}

export function noBatch(batchId: number): Error {
  return otpbError("BATCH_NOT_FOUND", `no batch ${batchId} in the shared store`, { detail: { batchId } });
}
