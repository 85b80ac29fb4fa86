/**
 * Turns better-sqlite3's SqliteError (its `code` is the extended SQLite result code name, e.g.
 * "SQLITE_IOERR_WRITE") into otpbridge reasons. Errors that are already ours pass through.
 */
import Database from "better-sqlite3";
import { OtpbridgeError, otpbError } from "../lib/errors.js";

/**
 * Maps a thrown value from a journal operation to a typed error; anything not from SQLite is
 * returned as is.
 */
export function journalError(error: unknown, path: string, action: string): unknown {
  if (error instanceof OtpbridgeError || !(error instanceof Database.SqliteError)) return error;
  const code = error.code;
  const detail = { path, sqlite: code };
  if (code === "SQLITE_FULL") {
    return otpbError("JOURNAL_FULL", `journal ${path} is full while trying to ${action}; nothing was changed`, {
      detail,
      cause: error,
    });
  }
  if (code === "SQLITE_BUSY" || code.startsWith("SQLITE_BUSY_") || code === "SQLITE_LOCKED") {
    return otpbError("JOURNAL_BUSY", `journal ${path} is held by another process (is another otpbridge running?)`, {
      detail,
      cause: error,
    });
  }
  if (code === "SQLITE_CORRUPT" || code.startsWith("SQLITE_CORRUPT_") || code === "SQLITE_NOTADB") {
    return otpbError("JOURNAL_CORRUPT", `journal ${path} is damaged (${code}) while trying to ${action}`, {
      detail,
      cause: error,
    });
  }
  if (code.startsWith("SQLITE_IOERR") || code === "SQLITE_CANTOPEN" || code === "SQLITE_READONLY") {
    return otpbError("JOURNAL_IO", `journal ${path}: I/O error (${code}) while trying to ${action}; nothing was changed`, {
      detail,
      cause: error,
    });
  }
  return otpbError("INTERNAL", `journal ${path}: SQLite error ${code} while trying to ${action}`, {
    detail,
    cause: error,
  });
}
