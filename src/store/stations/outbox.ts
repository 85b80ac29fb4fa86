/**
 * A station's outbox: the local record of every step it takes on a shared item, written (and on
 * disk: WAL with synchronous = FULL) before the step is sent to the server. When the server is away
 * the burn under way still finishes or fails and the step waits here; `pending()` hands the waiting
 * steps back, oldest first, for replay when the server answers again. It holds no seed: the seed of
 * an unfinished item is in the shared store, sealed, and a tap of its token resumes it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { assertPrivateFile, createPrivateFile, ensurePrivateDir } from "../private-files.js";

export const OUTBOX_FILE = "stations-outbox.sqlite";

/** The steps a station records; `claimed` and `write-started` are only sent through, never queued. */
export type OutboxStep = "claimed" | "write-started" | "burned" | "verified" | "committed" | "failed";

export interface OutboxEntry {
  id: number;
  batchId: number;
  itemId: number;
  fence: number;
  serial: string;
  step: OutboxStep;
  reason: string | null;
  /** Whether the server has it. */
  sent: boolean;
  at: number;
}

interface Row {
  id: number;
  batch_id: number;
  item_id: number;
  fence: number;
  serial: string;
  step: OutboxStep;
  reason: string | null;
  sent: number;
  at: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS steps (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL,
    item_id INTEGER NOT NULL,
    fence INTEGER NOT NULL,
    serial TEXT NOT NULL,
    step TEXT NOT NULL,
    reason TEXT,
    sent INTEGER NOT NULL DEFAULT 0,
    at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS steps_unsent ON steps (sent, id);
`;

export class Outbox {
  readonly path: string;
  readonly #db: Database.Database;

  private constructor(db: Database.Database, path: string) {
    this.#db = db;
    this.path = path;
  }

  /** Opens (or creates, 0600) the outbox in the station's data directory.
   * @throws OtpbridgeError DATA_DIR_PERMISSIONS. */
  static open(dataDir: string): Outbox {
    ensurePrivateDir(dataDir);
    const path = join(dataDir, OUTBOX_FILE);
    if (!existsSync(path)) createPrivateFile(path, new Uint8Array(0));
    else assertPrivateFile(path, "station outbox", "DATA_DIR_PERMISSIONS");
    const db = new Database(path, { fileMustExist: true });
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec(SCHEMA);
    return new Outbox(db, path);
  }

  /** Records a step before it is sent; returns its id for {@link Outbox.sent}. */
  record(entry: { batchId: number; itemId: number; fence: number; serial: string; step: OutboxStep; reason?: string }): number {
    const info = this.#db
      .prepare("INSERT INTO steps (batch_id, item_id, fence, serial, step, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(entry.batchId, entry.itemId, entry.fence, entry.serial, entry.step, entry.reason ?? null, Date.now());
    return Number(info.lastInsertRowid);
  }

  /** The server has the step (or a later one that supersedes it). */
  sent(...ids: number[]): void {
    const mark = this.#db.prepare("UPDATE steps SET sent = 1 WHERE id = ?");
    this.#db.transaction(() => ids.forEach((id) => mark.run(id)))();
  }

  /** Every step of an item is on the server (its final step was taken, under the latest lease). */
  sentItem(itemId: number): void {
    this.#db.prepare("UPDATE steps SET sent = 1 WHERE item_id = ? AND sent = 0").run(itemId);
  }

  /** Steps the server does not have yet, oldest first. */
  pending(): OutboxEntry[] {
    return (this.#db.prepare("SELECT * FROM steps WHERE sent = 0 ORDER BY id").all() as Row[]).map(entryOf);
  }

  close(): void {
    this.#db.close();
  }
}

function entryOf(row: Row): OutboxEntry {
  return {
    id: row.id,
    batchId: row.batch_id,
    itemId: row.item_id,
    fence: row.fence,
    serial: row.serial,
    step: row.step,
    reason: row.reason,
    sent: row.sent === 1,
    at: row.at,
  };
}
