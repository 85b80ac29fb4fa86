import { resolve } from "node:path";
import { defaultDataDir } from "../lib/daemon-paths.js";
import { reasonOf } from "../lib/errors.js";
import { Journal, type KeySource } from "../store/journal.js";
import type { CommandIo } from "./io.js";
import { readCustomerKey } from "./key-source.js";

/** parseArgs options choosing the journal's key, shared by `daemon` and `batch`. */
export const JOURNAL_KEY_OPTIONS = {
  "passphrase-stdin": { type: "boolean" },
  "passphrase-file": { type: "string" },
  "passphrase-env": { type: "string" },
} as const;

export const JOURNAL_KEY_HELP = `Seeds in the journal are encrypted (AES-256-GCM) under a key kept in the 0600 file seed.key
of the data directory, or, when the journal was created with one of these, under a key derived
from a passphrase (scrypt), so that the disk alone never yields a seed:
  --passphrase-stdin | --passphrase-file PATH | --passphrase-env NAME`;

/**
 * The journal key the flags ask for: the key file by default, else the passphrase read from the one
 * source given (never from an argument, which every local user could read).
 * @throws OtpbridgeError INVALID_INPUT (several sources, an empty passphrase, an unreadable file).
 */
export function journalKeyFrom(
  values: { "passphrase-stdin"?: boolean | undefined; "passphrase-file"?: string | undefined; "passphrase-env"?: string | undefined },
  readStdin?: () => string,
): KeySource {
  const bytes = readCustomerKey("passphrase", { stdin: values["passphrase-stdin"], file: values["passphrase-file"], env: values["passphrase-env"] }, readStdin);
  if (bytes === undefined) return { kind: "keyFile" };
  try {
    return { kind: "passphrase", passphrase: new TextDecoder().decode(bytes) };
  } finally {
    bytes.fill(0);
  }
}

/** parseArgs options of the journal's place and key, for the commands that open it. */
export const JOURNAL_OPTIONS = {
  "data-dir": { type: "string" },
  ...JOURNAL_KEY_OPTIONS,
} as const;

export const JOURNAL_OPTIONS_HELP = `  --data-dir DIR           the journal's data directory (default $XDG_DATA_HOME/otpbridge, the daemon's)
  --passphrase-stdin | --passphrase-file PATH | --passphrase-env NAME
                           the journal's passphrase, if it was created with one`;

/** The data directory the flags name, else the default one. */
export function dataDirFrom(values: { "data-dir"?: string | undefined }): string {
  return resolve(values["data-dir"] ?? defaultDataDir());
}

type JournalValues = Parameters<typeof journalKeyFrom>[0] & { "data-dir"?: string | undefined };

/**
 * Opens the journal of the data directory the flags name.
 * @throws OtpbridgeError JOURNAL_BUSY (a daemon holds it), JOURNAL_*, KEY_*, DATA_DIR_PERMISSIONS, INVALID_INPUT.
 */
export function openJournal(values: JournalValues, io: CommandIo): Journal {
  return Journal.open({ dataDir: dataDirFrom(values), key: journalKeyFrom(values, io.readStdin) });
}

/** How long a burn waits for a journal another otpbridge command holds (a burn holds it about a second). */
const BUSY_WAIT_MS = 30_000;

/**
 * Like {@link openJournal}, for a command that holds the journal for a moment only (a burn): while
 * another such command holds it (several burns started at once on several readers), waits for it.
 * @throws OtpbridgeError JOURNAL_BUSY after 30 s (a daemon or a `batch run` holds it); as openJournal.
 */
export async function openJournalWhenFree(values: JournalValues, io: CommandIo): Promise<Journal> {
  const key = journalKeyFrom(values, io.readStdin);
  const deadline = performance.now() + BUSY_WAIT_MS;
  for (;;) {
    try {
      return Journal.open({ dataDir: dataDirFrom(values), key });
    } catch (error) {
      if (reasonOf(error) !== "JOURNAL_BUSY" || performance.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
    }
  }
}
