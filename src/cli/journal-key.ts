import type { KeySource } from "../store/journal.js";
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
  const bytes = readCustomerKey(
    "passphrase",
    { stdin: values["passphrase-stdin"], file: values["passphrase-file"], env: values["passphrase-env"] },
    readStdin,
  );
  if (bytes === undefined) return { kind: "keyFile" };
  try {
    return { kind: "passphrase", passphrase: new TextDecoder().decode(bytes) };
  } finally {
    bytes.fill(0);
  }
}
