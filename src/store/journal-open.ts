/**
 * Opening a journal: refuse what is not ours without touching it, create a new one owner-only,
 * take the exclusive lock, and bring up the seed vault that matches the journal's key check.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import Database from "better-sqlite3";
import { otpbError } from "../lib/errors.js";
import { assertPrivateFile, createPrivateFile, ensurePrivateDir } from "./private-files.js";
import { APPLICATION_ID, type JournalFileKind, SCHEMA_SQL, SCHEMA_VERSION, inspectJournalFile } from "./schema.js";
import { DEFAULT_SCRYPT, SeedVault, type ScryptParams } from "./seed-vault.js";
import { journalError } from "./sqlite-errors.js";

/** Where the journal key comes from. */
export type KeySource =
  /** A 32-byte 0600 key file, created beside a new journal; default `<dataDir>/seed.key`. */
  | { kind: "keyFile"; path?: string }
  /** scrypt of a passphrase; `scrypt` sets the cost of a new journal (an existing one keeps its own). */
  | { kind: "passphrase"; passphrase: string; scrypt?: ScryptParams };

export interface JournalOptions {
  /** Created 0700 if absent; refused if group or others can enter it. */
  dataDir: string;
  /** Default "journal.sqlite". */
  fileName?: string;
  key: KeySource;
  /**
   * Caps the database at this many pages (SQLite `PRAGMA max_page_count`); a write that would grow it
   * further fails as JOURNAL_FULL. Leaves room on a shared disk; the fault tests use it as a full disk.
   */
  maxPageCount?: number;
}

export interface OpenedJournal {
  db: Database.Database;
  vault: SeedVault;
  journalId: Uint8Array;
  path: string;
}

export const DEFAULT_JOURNAL_FILE = "journal.sqlite";
export const DEFAULT_KEY_FILE = "seed.key";

/**
 * Opens (or creates) the journal and its vault.
 * @throws OtpbridgeError JOURNAL_CORRUPT, JOURNAL_FOREIGN, JOURNAL_VERSION (file left untouched),
 *   JOURNAL_BUSY, DATA_DIR_PERMISSIONS, KEY_FILE_PERMISSIONS, KEY_MISMATCH, WRONG_PASSPHRASE.
 */
export function openJournalFile(options: JournalOptions): OpenedJournal {
  ensurePrivateDir(options.dataDir);
  const path = join(options.dataDir, options.fileName ?? DEFAULT_JOURNAL_FILE);
  const kind = inspectJournalFile(path);
  if (kind !== "absent" || !createdHere(path)) assertPrivateFile(path, "journal", "DATA_DIR_PERMISSIONS");

  let db: Database.Database;
  try {
    // timeout 0: a journal held by another process is reported at once, not after 5 s of retries.
    db = new Database(path, { fileMustExist: true, timeout: 0 });
  } catch (error) {
    throw journalError(error, path, "open the journal");
  }
  try {
    // One daemon per journal: EXCLUSIVE keeps the file lock from the first transaction until close,
    // and in WAL mode it also keeps the index in process memory instead of a -shm file.
    db.pragma("locking_mode = EXCLUSIVE");
    // FULL: every commit, the claim's above all, is fsynced before the call returns (claim before burn).
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    db.exec("BEGIN EXCLUSIVE; COMMIT");
    const opened = ownedNow(db, path, kind) ? openExisting(db, path, options) : initialise(db, path, options);
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
    return opened;
  } catch (error) {
    db.close();
    throw journalError(error, path, "open the journal");
  }
}

/**
 * Creates the empty journal file; false when another process created it between the inspection and
 * now (several `otpbridge burn` at once on a new data directory): its kind is decided under the lock.
 */
function createdHere(path: string): boolean {
  try {
    createPrivateFile(path, new Uint8Array(0));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
}

/**
 * Whether the journal, now that this process holds its exclusive lock, is one to open (true) or a new
 * one to initialise (false). A file that was new when inspected may have been initialised meanwhile by
 * another process (several `otpbridge burn` at once, one per reader); an unclaimed file that holds
 * tables is another application's.
 * @throws OtpbridgeError JOURNAL_FOREIGN.
 */
function ownedNow(db: Database.Database, path: string, kind: JournalFileKind): boolean {
  if (kind === "ours") return true;
  const applicationId = db.pragma("application_id", { simple: true }) as number;
  if (applicationId === APPLICATION_ID) return true;
  const tables = db.prepare("SELECT count(*) FROM sqlite_schema").pluck().get() as number;
  if (applicationId === 0 && tables === 0) return false;
  throw otpbError(
    "JOURNAL_FOREIGN",
    `${path} is a SQLite database of another application (application id 0x${applicationId.toString(16)}); it was left untouched`,
    {
      detail: { path, applicationId },
    },
  );
}

function initialise(db: Database.Database, path: string, options: JournalOptions): OpenedJournal {
  const journalId = new Uint8Array(randomBytes(16));
  const meta = new Map<string, Uint8Array | string>();
  let vault: SeedVault;
  if (options.key.kind === "keyFile") {
    vault = SeedVault.fromKeyFile(options.key.path ?? join(options.dataDir, DEFAULT_KEY_FILE), { create: true });
    meta.set("key_mode", "keyFile");
  } else {
    const params = options.key.scrypt ?? DEFAULT_SCRYPT;
    const salt = new Uint8Array(randomBytes(16));
    vault = SeedVault.fromPassphrase(options.key.passphrase, salt, params);
    meta.set("key_mode", "passphrase");
    meta.set("scrypt_salt", salt);
    meta.set("scrypt_params", JSON.stringify(params));
  }
  try {
    meta.set("journal_id", journalId);
    meta.set("key_check", vault.checkValue(journalId));
    meta.set("created_at", String(Date.now()));
    // Rollback-journal mode for this first transaction, so the header (application id, version) and
    // the tables land in the main file itself; only then switch to WAL for the batch traffic.
    db.transaction(() => {
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.exec(SCHEMA_SQL);
      const put = db.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
      for (const [key, value] of meta) put.run(key, typeof value === "string" ? Buffer.from(value) : value);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    db.pragma("journal_mode = WAL");
  } catch (error) {
    vault.destroy();
    throw error;
  }
  return { db, vault, journalId, path };
}

function openExisting(db: Database.Database, path: string, options: JournalOptions): OpenedJournal {
  const check = db.pragma("quick_check", { simple: true });
  if (check !== "ok") {
    throw otpbError("JOURNAL_CORRUPT", `journal ${path} fails its integrity check; it was left untouched`, {
      detail: { path, quickCheck: String(check) },
    });
  }
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").pluck().all() as string[];
  for (const table of ["meta", "batches", "items", "events"]) {
    if (!tables.includes(table)) {
      throw otpbError("JOURNAL_CORRUPT", `journal ${path} lacks its ${table} table; it was left untouched`, {
        detail: { path, table },
      });
    }
  }
  db.pragma("journal_mode = WAL");
  const meta = new Map((db.prepare("SELECT key, value FROM meta").all() as { key: string; value: Buffer }[]).map((r) => [r.key, r.value]));
  const journalId = metaBytes(meta, "journal_id", path);
  const keyCheck = metaBytes(meta, "key_check", path);
  const mode = metaBytes(meta, "key_mode", path).toString();
  if (mode !== options.key.kind) {
    throw otpbError(
      "KEY_MISMATCH",
      mode === "passphrase"
        ? `journal ${path} was created with a passphrase; open it with the passphrase`
        : `journal ${path} was created with a key file; open it with the key file`,
      { detail: { path, keyMode: mode } },
    );
  }
  let vault: SeedVault;
  if (options.key.kind === "keyFile") {
    vault = SeedVault.fromKeyFile(options.key.path ?? join(options.dataDir, DEFAULT_KEY_FILE), { create: false });
  } else {
    const params = JSON.parse(metaBytes(meta, "scrypt_params", path).toString()) as ScryptParams;
    vault = SeedVault.fromPassphrase(options.key.passphrase, metaBytes(meta, "scrypt_salt", path), params);
  }
  if (!vault.matches(keyCheck, journalId)) {
    vault.destroy();
    throw options.key.kind === "passphrase"
      ? otpbError("WRONG_PASSPHRASE", `wrong passphrase for journal ${path}`, { detail: { path } })
      : otpbError("KEY_MISMATCH", `the seed key file is not the key journal ${path} was created with`, {
          detail: { path },
        });
  }
  return { db, vault, journalId: new Uint8Array(journalId), path };
}

function metaBytes(meta: Map<string, Buffer>, key: string, path: string): Buffer {
  const value = meta.get(key);
  if (value === undefined) {
    throw otpbError("JOURNAL_CORRUPT", `journal ${path} lacks its ${key} entry`, { detail: { path, key } });
  }
  return value;
}
