/**
 * Every error otpbridge raises on purpose carries a stable `reason`. This layer knows only the
 * reasons and what each means (its doc comment); the edges map them: the CLI to exit codes
 * (src/cli/exit-codes.ts), the daemon to JSON-RPC codes (src/daemon/rpc-codes.ts), and what to do
 * about each is in docs/error-fixes.md. `npm run docs:errors` renders docs/ERRORS.md and
 * docs/TROUBLESHOOTING.md from the four. A new reason goes at the end of its group here, with a line
 * in each table and a section in docs/error-fixes.md (the type checker and a test ask for them).
 * Messages name what was wrong and what was expected; they never quote secret values.
 */
export const REASONS = [
  /** A caller-supplied value has the wrong type, length or range. */
  "INVALID_INPUT",
  /** An otpauth URI, base32 or hex string could not be parsed. */
  "INVALID_SECRET_FORMAT",
  /** Ciphertext did not decrypt (wrong key or corrupted data); no detail, to give no padding oracle. */
  "DECRYPTION_FAILED",
  /** A response from a device or a peer did not match the protocol. */
  "MALFORMED_RESPONSE",
  /** A command APDU or HID frame received by a device (emulator) side did not match the protocol. */
  "MALFORMED_COMMAND",
  /** The device answered with a status word that means failure. */
  "DEVICE_ERROR",
  /** The serial matches no known programmable model: nothing is sent that could lock it. */
  "UNKNOWN_MODEL",
  /** A HID device went away (unplugged, reset, destroyed) while open or between listing and opening. */
  "DEVICE_GONE",
  /** A HID device sent no report within the time allowed for one. */
  "DEVICE_TIMEOUT",
  /** USB HID cannot be used: node-hid's native part did not load (libusb-1.0 missing) or open was refused. */
  "HID_UNAVAILABLE",
  /** The transport was closed by its owner; nothing more can be sent or received through it. */
  "TRANSPORT_CLOSED",
  /**
   * The journal file is not a readable SQLite database, or fails its integrity check; it is left
   * untouched.
   */
  "JOURNAL_CORRUPT",
  /** The journal file is a SQLite database of another application; it is left untouched. */
  "JOURNAL_FOREIGN",
  /** The journal was written by a newer otpbridge (schema version above ours); it is left untouched. */
  "JOURNAL_VERSION",
  /** A journal write failed for lack of space (SQLITE_FULL): the change was rolled back. */
  "JOURNAL_FULL",
  /** A journal read or write failed at the I/O level: the change was rolled back. */
  "JOURNAL_IO",
  /** Another process holds the journal open. */
  "JOURNAL_BUSY",
  /**
   * The seed key file, or the daemon's token file, is readable by group or others (or is not a regular
   * file).
   */
  "KEY_FILE_PERMISSIONS",
  /** The data directory or the journal file is open to group or others (or is not what it should be). */
  "DATA_DIR_PERMISSIONS",
  /**
   * The configuration file cannot be read, is not valid TOML, or holds an unknown option or a value
   * of the wrong type or range; the message gives the file, the line and the reason (never the
   * value).
   */
  "CONFIG_INVALID",
  /** The seed key file is missing or is not the key this journal was created with. */
  "KEY_MISMATCH",
  /** The passphrase does not derive the key this journal was created with. */
  "WRONG_PASSPHRASE",
  /** An encrypted seed failed authentication: the row was altered or moved. */
  "SEED_TAMPERED",
  /** No batch with that id in the journal. */
  "BATCH_NOT_FOUND",
  /** No item with that id in the journal. */
  "ITEM_NOT_FOUND",
  /**
   * The batch's state forbids the operation (claiming while paused or cancelled, resuming a cancelled
   * batch).
   */
  "BATCH_STATE",
  /** The item's state forbids the transition (commit before verify, burn of a committed item). */
  "ITEM_STATE",
  /**
   * Batch verification failed: the token's clock, read back after the burn, is more than 2 s from the
   * host's, so its codes would be off; the item is marked failed.
   */
  "VERIFY_MISMATCH",
  /**
   * The batch engine is driving another batch that is running and not finished (one batch takes taps
   * at a time); `detail.batchId` names it.
   */
  "BATCH_BUSY",
  /**
   * The stations' shared store (PostgreSQL, `--store`) cannot be reached, or dropped the connection
   * mid-operation; claims pause until it answers again.
   */
  "STORE_UNAVAILABLE",
  /**
   * This station's lease on a shared item ended (it expired, or another station took the item over),
   * so the fence number it holds is refused and its update is not applied.
   */
  "LEASE_LOST",
  /**
   * The shared store's schema is newer than this otpbridge, or older and this role may not upgrade
   * it.
   */
  "STORE_VERSION",
  /** The export format cannot represent an item (for example SHA-256 in an Entra ID CSV). */
  "EXPORT_UNSUPPORTED",
  /** The reader is held by another session or another PC/SC client (exclusive access). */
  "DEVICE_BUSY",
  /** No card in the reader, or the card left it (or was reset) during the session. */
  "CARD_REMOVED",
  /** The reader does not exist, or was unplugged. */
  "READER_GONE",
  /** The PC/SC service (pcscd) is not running, or stopped during the operation. */
  "PCSC_UNAVAILABLE",
  /**
   * Molto2: the customer key was refused (63 NN); `detail.triesLeft` attempts remain. Never retried
   * (docs/PROTOCOL.md §3.6).
   */
  "WRONG_CUSTOMER_KEY",
  /**
   * Molto2: no authentication attempts left (63 00); only a factory reset recovers the token (§3.6,
   * §3.12).
   */
  "CUSTOMER_KEY_BLOCKED",
  /** Molto2: the profile already holds a seed and overwriting was not asked for (§3.15 step 6). */
  "PROFILE_OCCUPIED",
  /** Molto2: the profile holds no seed (delete answered 6A83, §3.10). */
  "PROFILE_EMPTY",
  /**
   * The ▲ button or the key's touch sensor was not pressed in time (Molto2 key change, OTP applet 6FF9
   * / 20 s of busy frames).
   */
  "BUTTON_TIMEOUT",
  /** Molto2: after the ▲ press the token still refuses the new customer key; the old one is in force. */
  "KEY_CHANGE_NOT_APPLIED",
  /**
   * Molto2: after the ▲ press the token is not reset: a profile still holds a seed or a title, or the
   * factory key is refused (docs/PROTOCOL.md §3.12); the message says which, and the request may
   * still be pending on the token.
   */
  "FACTORY_RESET_NOT_APPLIED",
  /** OTP applet: no entry with that issuer and account (6A80 / 6A83, docs/PROTOCOL.md §4.11). */
  "ENTRY_NOT_FOUND",
  /** OTP applet: the key has no room for another entry (6A84, §4.11). */
  "STORAGE_FULL",
  /** The card or key does not have the OTP applet (its SELECT failed, §4.1). */
  "APPLET_NOT_FOUND",
  /**
   * The scanned or pasted code is not a TOTP seed (HOTP URI, phonefactor://, FIDO:/, a token's serial
   * barcode); detail.scanned says which.
   */
  "WRONG_CODE_SCANNED",
  /**
   * The account cannot be burned as asked: the device or the chosen export target would reject it;
   * detail.problems lists every reason.
   */
  "NOT_BURNABLE",
  /**
   * The host clock is known to be unsynchronised or too far from the --ntp server: burning would set a
   * wrong time (--force, or `force: true` in the API call, overrides).
   */
  "CLOCK_UNTRUSTED",
  /** The SNTP server did not answer in time, or answered with a packet RFC 4330 says to discard. */
  "NTP_UNAVAILABLE",
  /**
   * `otpbridge console` found no daemon serving this data directory: its launch file is missing, or
   * older than any URL in it is valid (the daemon is gone).
   */
  "CONSOLE_UNAVAILABLE",
  /**
   * AUTH FINISH answered 6983 to a correct answer: the key is locked, or the device is not of the
   * family assumed (docs/PROTOCOL.md §2.8). Nothing was written.
   */
  "TOKEN_LOCKED",
  /**
   * A secure write was refused with 6983 again after one re-authentication: authentication lost or a
   * MAC mismatch (docs/PROTOCOL.md §2.8).
   */
  "AUTH_FAILED",
  /**
   * A time sync on a restricted model (config write erases the seed, docs/PROTOCOL.md §2.1) was not confirmed:
   * nothing was sent.
   */
  "SEED_WIPE_NOT_CONFIRMED",
  /** No token to work with: no reader with a card of the expected family (or none matching --reader). */
  "NO_DEVICE",
  /** More than one token matches: the caller must name one (--reader). */
  "AMBIGUOUS_DEVICE",
  /**
   * An operation that changes a token needs a confirmation that could not be asked (no terminal) and
   * was not given (--yes).
   */
  "CONFIRMATION_REQUIRED",
  /** The QR image could not be read, or holds no QR code, or its QR code holds no otpauth URI. */
  "QR_UNREADABLE",
  /** A resource (a resident key set) was used after release(): a bug in the caller. */
  "RELEASED",
  /**
   * Daemon: a page that is not paired (it presented no valid pairing secret in hello, or its origin
   * was revoked) called a method other than hello / pairing.request.
   */
  "NOT_PAIRED",
  /**
   * Daemon: the Origin is never accepted (null, a wildcard, not https and not a loopback page): refused
   * at the upgrade (HTTP 403).
   */
  "FORBIDDEN_ORIGIN",
  /**
   * Daemon: the Host header is not a loopback name (a DNS-rebinding page): refused at the upgrade (HTTP
   * 403).
   */
  "FORBIDDEN_HOST",
  /**
   * Daemon: a native client over TCP (no Origin) that did not prove the token: no `OtpbridgeProof`
   * nor a valid bearer token at the upgrade (HTTP 401), a call before auth.prove, or a wrong proof.
   */
  "UNAUTHORIZED",
  /**
   * Daemon: the client sent more requests per second than it may (`detail.retryAfterMs` says when to
   * try again), or the open-socket limit is reached (HTTP 503 at the upgrade).
   */
  "RATE_LIMITED",
  /** Daemon: the client was not granted the capability the method needs (`detail.capability`). */
  "CAPABILITY_DENIED",
  /** Daemon: the client holds no session on that device (acquire it first), or the session has ended. */
  "NOT_ACQUIRED",
  /**
   * Daemon: device.acquire named a `previous` session that is not the device's current one
   * (compare-and-swap).
   */
  "WRONG_PREVIOUS_SESSION",
  /** Daemon: `hello` was not the first call, or asked for an apiVersion this daemon does not speak. */
  "HELLO_REQUIRED",
  /**
   * Daemon: no pending pairing with that code (wrong, expired, already used, or its page was closed),
   * or no approval of the origin to revoke.
   */
  "PAIRING_NOT_FOUND",
  /**
   * Daemon: the device's family has no such operation (token.burn on a Molto2, molto2.* on a
   * single-profile token).
   */
  "WRONG_FAMILY",
  /**
   * The daemon that serves the data directory stopped (or could not be reached) while the command
   * ran through it.
   */
  "DAEMON_GONE",
  /** The WebAssembly core is in a state it should never reach. */
  "INTERNAL",
] as const;

export type Reason = (typeof REASONS)[number];

export interface OtpbridgeErrorOptions {
  /** Non-secret structured detail (field names, lengths, status words) for logs and `error.data`. */
  detail?: Record<string, unknown>;
  cause?: unknown;
}

/** An error with a stable {@link Reason}. Build it through {@link otpbError}. */
export class OtpbridgeError extends Error {
  readonly reason: Reason;
  readonly detail: Record<string, unknown>;

  constructor(reason: Reason, message: string, options: OtpbridgeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "OtpbridgeError";
    this.reason = reason;
    this.detail = options.detail ?? {};
  }
}

/** The one factory for otpbridge errors. */
export function otpbError(reason: Reason, message: string, options?: OtpbridgeErrorOptions): OtpbridgeError {
  return new OtpbridgeError(reason, message, options);
}

/** A TypeError or RangeError from an input check, shaped as an OtpbridgeError is: a reason and a detail. */
export type InputError = (TypeError | RangeError) & { readonly reason: "INVALID_INPUT"; readonly detail: Record<string, unknown> };

/**
 * The one factory of the input checks' errors (src/lib/checks.ts and the checks of each layer):
 * TypeError for the wrong kind of value, RangeError for the wrong length or range, each carrying
 * `reason` INVALID_INPUT and `detail` as an OtpbridgeError does, so that every error with a reason
 * has one shape: `reason`, `message`, `detail`.
 */
export function inputError(kind: "type" | "range", message: string, detail: Record<string, unknown> = {}): InputError {
  const error = kind === "type" ? new TypeError(message) : new RangeError(message);
  Object.defineProperty(error, "reason", { value: "INVALID_INPUT", enumerable: true });
  Object.defineProperty(error, "detail", { value: detail, enumerable: true });
  return error as InputError;
}

/** The reason of any thrown value: its own if it has one, else INTERNAL. */
export function reasonOf(error: unknown): Reason {
  const reason = error instanceof Error ? (error as { reason?: unknown }).reason : undefined;
  return typeof reason === "string" && (REASONS as readonly string[]).includes(reason) ? (reason as Reason) : "INTERNAL";
}

/** The detail of any thrown value that has a reason (empty for any other). */
export function detailOf(error: unknown): Record<string, unknown> {
  const detail = error instanceof Error ? (error as { detail?: unknown }).detail : undefined;
  return detail !== null && typeof detail === "object" ? (detail as Record<string, unknown>) : {};
}
