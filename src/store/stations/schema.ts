/**
 * The shared store's tables and their migrations. Every migration runs in one transaction under an
 * advisory lock, so stations starting together upgrade the schema once. A station's role normally has
 * no DDL rights (docs/STATIONS.md, "Roles"): when the schema is current it only reads the version.
 *
 * Item states: pending → claimed → burned → verified → committed; claimed/burned/verified → failed;
 * an expired lease → pending (nothing written) or needs-check (a byte may be on the token); another
 * batch's re-burn of the token → superseded. `write_started_at` is the phase inside `claimed`: NULL
 * means no byte of this item has ever been sent to a token, so the item may go back to pending.
 */
import type pg from "pg";
import { otpbError } from "../../lib/errors.js";

export const SCHEMA_VERSION = 1;
const MIGRATION_LOCK = "otpbridge.stations.migrate";

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE otpb_schema (version integer NOT NULL);
   INSERT INTO otpb_schema VALUES (0);
   CREATE SEQUENCE otpb_fence;
   CREATE TABLE otpb_batches (
     id serial PRIMARY KEY,
     uid bytea NOT NULL UNIQUE,
     name text NOT NULL,
     issuer text,
     params jsonb NOT NULL,
     state text NOT NULL CHECK (state IN ('created', 'running', 'paused', 'cancelled')),
     kdf_salt bytea NOT NULL,
     kdf_n integer NOT NULL,
     kdf_r integer NOT NULL,
     kdf_p integer NOT NULL,
     key_check bytea NOT NULL,
     created_at timestamptz NOT NULL DEFAULT now(),
     updated_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE otpb_items (
     id serial PRIMARY KEY,
     batch_id integer NOT NULL REFERENCES otpb_batches (id),
     position integer NOT NULL,
     label text,
     algorithm text NOT NULL,
     digits integer NOT NULL,
     period integer NOT NULL,
     seed_nonce bytea NOT NULL,
     seed_sealed bytea NOT NULL,
     state text NOT NULL CHECK (state IN ('pending', 'claimed', 'burned', 'verified', 'committed', 'failed',
                                          'needs-check', 'superseded')),
     serial text,
     manufacturer text,
     model text,
     station text,
     session text,
     reader text,
     fence bigint,
     lease_expires_at timestamptz,
     attempts integer NOT NULL DEFAULT 0,
     fail_reason text,
     created_at timestamptz NOT NULL DEFAULT now(),
     claimed_at timestamptz,
     write_started_at timestamptz,
     burned_at timestamptz,
     verified_at timestamptz,
     committed_at timestamptz,
     updated_at timestamptz NOT NULL DEFAULT now(),
     UNIQUE (batch_id, position)
   );
   CREATE UNIQUE INDEX otpb_items_serial ON otpb_items (batch_id, serial)
     WHERE serial IS NOT NULL AND state <> 'superseded';
   CREATE INDEX otpb_items_pending ON otpb_items (batch_id, position) WHERE state = 'pending';
   CREATE INDEX otpb_items_leases ON otpb_items (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
   CREATE INDEX otpb_items_session ON otpb_items (session) WHERE session IS NOT NULL;
   CREATE TABLE otpb_stations (
     id text PRIMARY KEY,
     session text NOT NULL,
     host text NOT NULL,
     batch_id integer REFERENCES otpb_batches (id),
     readers jsonb NOT NULL DEFAULT '[]',
     started_at timestamptz NOT NULL DEFAULT now(),
     heartbeat_at timestamptz NOT NULL DEFAULT now()
   );
   CREATE TABLE otpb_events (
     id bigserial PRIMARY KEY,
     at timestamptz NOT NULL DEFAULT now(),
     batch_id integer,
     item_id integer,
     station text,
     kind text NOT NULL,
     detail jsonb NOT NULL
   );
   CREATE INDEX otpb_events_batch ON otpb_events (batch_id, id);`,
];

/** Brings the schema to {@link SCHEMA_VERSION}; a no-op (one read) when it is already there.
 * @throws OtpbridgeError STORE_VERSION (newer schema, or an older one this role may not upgrade). */
export async function migrate(pool: pg.Pool): Promise<void> {
  if ((await currentVersion(pool)) === SCHEMA_VERSION) return;
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [MIGRATION_LOCK]);
    let version = await currentVersion(client);
    if (version > SCHEMA_VERSION) throw newerSchema(version);
    for (; version < SCHEMA_VERSION; version += 1) {
      await client.query(MIGRATIONS[version]!);
      await client.query("UPDATE otpb_schema SET version = $1", [version + 1]);
    }
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    if ((error as { code?: string }).code === "42501") {
      throw otpbError("STORE_VERSION", `the shared store's schema is older than version ${SCHEMA_VERSION} and this role may not upgrade it`, {
        detail: { expected: SCHEMA_VERSION },
        cause: error,
      });
    }
    throw error;
  } finally {
    client.release();
  }
}

async function currentVersion(db: pg.Pool | pg.PoolClient): Promise<number> {
  // Not to_regclass(): it can answer from a stale catalog cache while another station's migration
  // just committed; a plain read of pg_tables sees it.
  const exists = await db.query<{ e: boolean }>(
    "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename = 'otpb_schema') AS e",
  );
  if (exists.rows[0]?.e !== true) return 0;
  const { rows } = await db.query<{ version: number }>("SELECT version FROM otpb_schema");
  const version = rows[0]?.version ?? 0;
  if (version > SCHEMA_VERSION) throw newerSchema(version);
  return version;
}

function newerSchema(version: number): Error {
  return otpbError("STORE_VERSION", `the shared store's schema is version ${version}; this otpbridge knows up to ${SCHEMA_VERSION}`, {
    detail: { found: version, expected: SCHEMA_VERSION },
  });
}
