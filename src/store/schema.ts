/**
 * The journal's on-disk identity and schema. A journal is a SQLite file whose header carries our
 * application id and schema version (SQLite file format §1.3: user version at offset 60, application
 * id at offset 68). Both are set in the same rollback-journal transaction that creates the tables,
 * before the file is switched to WAL, so they are in the main file from the first commit on, and an
 * existing file can be judged from its first 100 bytes without SQLite ever opening it.
 */
import { closeSync, openSync, readSync } from "node:fs";
import { otpbError } from "../lib/errors.js";

/** "OTPB" in ASCII. */
export const APPLICATION_ID = 0x4f545042;
export const SCHEMA_VERSION = 1;
const HEADER_BYTES = 100;
const SQLITE_MAGIC = Buffer.from("SQLite format 3\0", "latin1");

/** Tables. STRICT makes SQLite refuse values of the wrong type instead of storing them. */
export const SCHEMA_SQL = `
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) STRICT;

CREATE TABLE batches (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL,
  issuer     TEXT,
  params     TEXT NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('created', 'running', 'paused', 'cancelled')),
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE items (
  id           INTEGER PRIMARY KEY,
  batch_id     INTEGER NOT NULL REFERENCES batches (id),
  position     INTEGER NOT NULL,
  label        TEXT,
  algorithm    TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256')),
  digits       INTEGER NOT NULL,
  period       INTEGER NOT NULL,
  seed_nonce   BLOB NOT NULL,
  seed_sealed  BLOB NOT NULL,
  serial       TEXT,
  manufacturer TEXT,
  model        TEXT,
  state        TEXT NOT NULL CHECK (state IN
                 ('pending', 'claimed', 'burned', 'verified', 'committed', 'failed', 'superseded')),
  fail_reason  TEXT,
  attempts     INTEGER NOT NULL DEFAULT 0,
  created_at   INTEGER NOT NULL,
  claimed_at   INTEGER,
  burned_at    INTEGER,
  verified_at  INTEGER,
  committed_at INTEGER,
  updated_at   INTEGER NOT NULL,
  UNIQUE (batch_id, position),
  CHECK ((state = 'pending') = (serial IS NULL))
) STRICT;

-- One live item per token and batch; a superseded item keeps its serial as history.
CREATE UNIQUE INDEX items_batch_serial ON items (batch_id, serial) WHERE state <> 'superseded';
CREATE INDEX items_serial ON items (serial) WHERE serial IS NOT NULL;
CREATE INDEX items_next ON items (batch_id, state, position);

-- What happened, for the operator and for audits; ids, serials and reasons only, never seeds.
CREATE TABLE events (
  id       INTEGER PRIMARY KEY,
  at       INTEGER NOT NULL,
  batch_id INTEGER,
  item_id  INTEGER,
  kind     TEXT NOT NULL,
  detail   TEXT NOT NULL
) STRICT;

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'journal events are append-only'); END;
`;

/** What the first bytes of the journal path say. */
/**
 * "unclaimed": a SQLite file with neither an application id nor a schema version, which is what
 * another otpbridge process's new journal looks like for the moment it is being created; only its
 * content, read under the exclusive lock, tells it from another application's database.
 */
export type JournalFileKind = "absent" | "empty" | "unclaimed" | "ours";

/**
 * Classifies an existing journal file from its header alone, so a foreign or damaged file is refused
 * without being opened (opening could replay a hot journal or create -wal/-shm files beside it).
 * @throws OtpbridgeError JOURNAL_CORRUPT (not a SQLite header, or ours but never initialised),
 *   JOURNAL_FOREIGN (another application id), JOURNAL_VERSION (a newer schema than this build).
 */
export function inspectJournalFile(path: string): JournalFileKind {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
  }
  const header = Buffer.alloc(HEADER_BYTES);
  let got: number;
  try {
    got = readSync(fd, header, 0, HEADER_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (got === 0) return "empty";
  if (got < HEADER_BYTES || !header.subarray(0, SQLITE_MAGIC.length).equals(SQLITE_MAGIC)) {
    throw otpbError("JOURNAL_CORRUPT", `${path} is not a SQLite database; it was left untouched`, {
      detail: { path, size: got },
    });
  }
  const applicationId = header.readUInt32BE(68);
  const userVersion = header.readUInt32BE(60);
  if (applicationId === 0 && userVersion === 0) return "unclaimed";
  if (applicationId !== APPLICATION_ID) {
    throw otpbError(
      "JOURNAL_FOREIGN",
      `${path} is a SQLite database of another application (application id 0x${applicationId.toString(16)}); it was left untouched`,
      { detail: { path, applicationId } },
    );
  }
  if (userVersion > SCHEMA_VERSION) {
    throw otpbError("JOURNAL_VERSION", `${path} has journal schema ${userVersion}, newer than this otpbridge (${SCHEMA_VERSION}); upgrade otpbridge`, {
      detail: { path, userVersion, supported: SCHEMA_VERSION },
    });
  }
  if (userVersion < 1) {
    throw otpbError("JOURNAL_CORRUPT", `${path} carries the otpbridge id but no schema; it was left untouched`, {
      detail: { path, userVersion },
    });
  }
  return "ours";
}
