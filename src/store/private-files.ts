/**
 * Files that may hold secrets or let someone reach them (the journal, the seed key file, exports) are
 * created owner-only from the first byte: the data directory 0700, files 0600. Modes are given to
 * open(2) itself rather than fixed with chmod afterwards, so there is no window in which another user
 * could open the file.
 */
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from "node:fs";
import { dirname, basename, join } from "node:path";
import { randomBytes } from "node:crypto";
import { otpbError, type Reason } from "../lib/errors.js";

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Refuses a path owned by another user: a directory or file planted by someone else (a token they
 * know, pairings they chose) must not be trusted because its mode looks private. Root is not
 * exempt: a root daemon trusts only root's files.
 */
function assertOwned(path: string, st: Stats, what: string, reason: Reason): void {
  const uid = process.getuid?.();
  if (uid === undefined || st.uid === uid) return;
  throw otpbError(
    reason,
    `${what} ${path} belongs to uid ${st.uid}, not to the user running otpbridge (uid ${uid}); move it away, or run otpbridge as its owner`,
    { detail: { path, uid: st.uid } },
  );
}

/**
 * Creates the data directory (and parents) as 0700 if absent; refuses an existing one that group or
 * others can enter, since the key file and journal inside would be exposed.
 * @throws OtpbridgeError DATA_DIR_PERMISSIONS when the directory is open to group or others.
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const st = statSync(dir);
  if (!st.isDirectory()) {
    throw otpbError("DATA_DIR_PERMISSIONS", `data directory ${dir} is not a directory`);
  }
  assertOwned(dir, st, "data directory", "DATA_DIR_PERMISSIONS");
  if ((st.mode & 0o077) !== 0) {
    throw otpbError(
      "DATA_DIR_PERMISSIONS",
      `data directory ${dir} has mode ${modeString(st.mode)}; it must not be open to group or others. Fix: chmod 700 ${dir}`,
      { detail: { path: dir, mode: st.mode & 0o777 } },
    );
  }
}

/**
 * Refuses a file that is not a regular file (a symbolic link is refused, whatever it points to),
 * that another user owns, or that group or others may read or write.
 * @throws OtpbridgeError with `reason` (KEY_FILE_PERMISSIONS, DATA_DIR_PERMISSIONS) and the chmod
 *   command that fixes it; Node's ENOENT error when the file is absent.
 */
export function assertPrivateFile(path: string, what: string, reason: Reason): void {
  const st = lstatSync(path);
  if (!st.isFile()) {
    throw otpbError(reason, `${what} ${path} is not a regular file${st.isSymbolicLink() ? " (a symbolic link)" : ""}`, { detail: { path } });
  }
  assertOwned(path, st, what, reason);
  if ((st.mode & 0o077) !== 0) {
    throw otpbError(reason, `${what} ${path} has mode ${modeString(st.mode)}; it must be readable by its owner only. Fix: chmod 600 ${path}`, {
      detail: { path, mode: st.mode & 0o777 },
    });
  }
}

/**
 * Refuses a data directory holding anything another user owns, or a symbolic link: every entry of
 * it is the daemon user's own (files planted by another user could otherwise be read as ours).
 * @throws OtpbridgeError DATA_DIR_PERMISSIONS naming the first such entry.
 */
export function assertPrivateTree(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isSymbolicLink())
      throw otpbError("DATA_DIR_PERMISSIONS", `${path} is a symbolic link; the data directory holds its own files only: move it away`, { detail: { path } });
    assertOwned(path, st, "data directory entry", "DATA_DIR_PERMISSIONS");
  }
}

/**
 * Creates a new file with mode 0600 and writes `data` to it, fsynced. Fails if the file exists
 * (O_EXCL), so two processes racing to create a key file cannot both win.
 * @throws Node's EEXIST error when the file already exists.
 */
export function createPrivateFile(path: string, data: Uint8Array): void {
  const fd = openSync(path, "wx", PRIVATE_FILE_MODE);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  fsyncDir(dirname(path));
}

/**
 * Replaces `path` atomically: the bytes go to a 0600 temporary file in the same directory, are
 * fsynced, then renamed over the target, so a reader sees the old file or the complete new one, never
 * a torn export. The directory is fsynced so the rename itself survives a crash.
 * @throws Node's fs errors (ENOENT for a missing directory, ENOSPC...); the temporary file is removed.
 */
export function writePrivateFileAtomic(path: string, data: Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const fd = openSync(tmp, "wx", PRIVATE_FILE_MODE);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, path);
  } catch (error) {
    try {
      closeSync(fd);
    } catch {
      // already closed before the failing rename
    }
    unlinkSync(tmp);
    throw error;
  }
  fsyncDir(dirname(path));
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function modeString(mode: number): string {
  return `0${(mode & 0o777).toString(8)}`;
}
