/**
 * Every error otpbridge raises on purpose carries a stable `reason`: the API sends it as
 * `error.data.reason`, the CLI maps it to an exit code, and docs/ERRORS.md lists them all.
 * Messages name what was wrong and what was expected; they never quote secret values.
 */
export const REASONS = {
  /** A caller-supplied value has the wrong type, length or range. */
  INVALID_INPUT: { exitCode: 2, rpcCode: -32602 },
  /** An otpauth URI, base32 or hex string could not be parsed. */
  INVALID_SECRET_FORMAT: { exitCode: 2, rpcCode: -32602 },
  /** Ciphertext did not decrypt (wrong key or corrupted data); no detail, to give no padding oracle. */
  DECRYPTION_FAILED: { exitCode: 3, rpcCode: -32014 },
  /** A response from a device or a peer did not match the protocol. */
  MALFORMED_RESPONSE: { exitCode: 3, rpcCode: -32010 },
  /** A command APDU or HID frame received by a device (emulator) side did not match the protocol. */
  MALFORMED_COMMAND: { exitCode: 3, rpcCode: -32013 },
  /** The device answered with a status word that means failure. */
  DEVICE_ERROR: { exitCode: 3, rpcCode: -32011 },
  /** The serial matches no known programmable model: nothing is sent that could lock it. */
  UNKNOWN_MODEL: { exitCode: 3, rpcCode: -32012 },
  /** A HID device went away (unplugged, reset, destroyed) while open or between listing and opening. */
  DEVICE_GONE: { exitCode: 3, rpcCode: -32020 },
  /** A HID device sent no report within the time allowed for one. */
  DEVICE_TIMEOUT: { exitCode: 3, rpcCode: -32021 },
  /** USB HID cannot be used: node-hid's native part did not load (libusb-1.0 missing) or open was refused. */
  HID_UNAVAILABLE: { exitCode: 69, rpcCode: -32022 },
  /** The transport was closed by its owner; nothing more can be sent or received through it. */
  TRANSPORT_CLOSED: { exitCode: 70, rpcCode: -32023 },
  /** The journal file is not a readable SQLite database, or fails its integrity check; it is left untouched. */
  JOURNAL_CORRUPT: { exitCode: 65, rpcCode: -32040 },
  /** The journal file is a SQLite database of another application; it is left untouched. */
  JOURNAL_FOREIGN: { exitCode: 65, rpcCode: -32041 },
  /** The journal was written by a newer otpbridge (schema version above ours); it is left untouched. */
  JOURNAL_VERSION: { exitCode: 65, rpcCode: -32042 },
  /** A journal write failed for lack of space (SQLITE_FULL): the change was rolled back. */
  JOURNAL_FULL: { exitCode: 74, rpcCode: -32043 },
  /** A journal read or write failed at the I/O level: the change was rolled back. */
  JOURNAL_IO: { exitCode: 74, rpcCode: -32044 },
  /** Another process holds the journal open. */
  JOURNAL_BUSY: { exitCode: 75, rpcCode: -32045 },
  /** The seed key file is readable by group or others (or is not a regular file). */
  KEY_FILE_PERMISSIONS: { exitCode: 77, rpcCode: -32046 },
  /** The data directory or the journal file is open to group or others (or is not what it should be). */
  DATA_DIR_PERMISSIONS: { exitCode: 77, rpcCode: -32055 },
  /** The seed key file is missing or is not the key this journal was created with. */
  KEY_MISMATCH: { exitCode: 77, rpcCode: -32047 },
  /** The passphrase does not derive the key this journal was created with. */
  WRONG_PASSPHRASE: { exitCode: 77, rpcCode: -32048 },
  /** An encrypted seed failed authentication: the row was altered or moved. */
  SEED_TAMPERED: { exitCode: 65, rpcCode: -32049 },
  /** No batch with that id in the journal. */
  BATCH_NOT_FOUND: { exitCode: 2, rpcCode: -32050 },
  /** No item with that id in the journal. */
  ITEM_NOT_FOUND: { exitCode: 2, rpcCode: -32051 },
  /** The batch's state forbids the operation (claiming while paused or cancelled, resuming a cancelled batch). */
  BATCH_STATE: { exitCode: 2, rpcCode: -32052 },
  /** The item's state forbids the transition (commit before verify, burn of a committed item). */
  ITEM_STATE: { exitCode: 2, rpcCode: -32053 },
  /** Batch verification failed: the token's clock read back more than 2 s from the host's, or the code the operator typed is not the one the token should show. */
  VERIFY_MISMATCH: { exitCode: 3, rpcCode: -32056 },
  /** The batch engine is driving another batch: pause or cancel it before starting this one (one batch takes taps at a time). */
  BATCH_BUSY: { exitCode: 75, rpcCode: -32057 },
  /** The export format cannot represent an item (for example SHA-256 in an Entra ID CSV). */
  EXPORT_UNSUPPORTED: { exitCode: 2, rpcCode: -32054 },
  /** The reader is held by another session or another PC/SC client (exclusive access). */
  DEVICE_BUSY: { exitCode: 75, rpcCode: -32030 },
  /** No card in the reader, or the card left it (or was reset) during the session. */
  CARD_REMOVED: { exitCode: 4, rpcCode: -32031 },
  /** The reader does not exist, or was unplugged. */
  READER_GONE: { exitCode: 4, rpcCode: -32032 },
  /** The PC/SC service (pcscd) is not running, or stopped during the operation. */
  PCSC_UNAVAILABLE: { exitCode: 69, rpcCode: -32033 },
  /** Molto2: the customer key was refused (63 NN); `detail.triesLeft` attempts remain. Never retried (TOKEN2.md §3.6). */
  WRONG_CUSTOMER_KEY: { exitCode: 77, rpcCode: -32070 },
  /** Molto2: no authentication attempts left (63 00); only a factory reset recovers the token (§3.6, §3.12). */
  CUSTOMER_KEY_BLOCKED: { exitCode: 77, rpcCode: -32071 },
  /** Molto2: the profile already holds a seed and overwriting was not asked for (§3.15 step 6). */
  PROFILE_OCCUPIED: { exitCode: 3, rpcCode: -32072 },
  /** Molto2: the profile holds no seed (delete answered 6A83, §3.10). */
  PROFILE_EMPTY: { exitCode: 3, rpcCode: -32073 },
  /** The ▲ button or the key's touch sensor was not pressed in time (Molto2 key change, OTP applet 6FF9 / 20 s of busy frames). */
  BUTTON_TIMEOUT: { exitCode: 75, rpcCode: -32074 },
  /** Molto2: after the ▲ press the token still refuses the new customer key; the old one is in force. */
  KEY_CHANGE_NOT_APPLIED: { exitCode: 3, rpcCode: -32075 },
  /** OTP applet: no entry with that issuer and account (6A80 / 6A83, TOKEN2.md §4.11). */
  ENTRY_NOT_FOUND: { exitCode: 3, rpcCode: -32076 },
  /** OTP applet: the key has no room for another entry (6A84, §4.11). */
  STORAGE_FULL: { exitCode: 3, rpcCode: -32077 },
  /** The card or key does not have the OTP applet (its SELECT failed, §4.1). */
  APPLET_NOT_FOUND: { exitCode: 3, rpcCode: -32078 },
  /** The scanned or pasted code is not a TOTP seed (HOTP URI, phonefactor://, FIDO:/, a token's serial barcode); detail.scanned says which. */
  WRONG_CODE_SCANNED: { exitCode: 2, rpcCode: -32090 },
  /** The account cannot be burned as asked: the device or the chosen export target would reject it; detail.problems lists every reason. */
  NOT_BURNABLE: { exitCode: 2, rpcCode: -32091 },
  /** The host clock is known to be unsynchronised or too far from the --ntp server: burning would set a wrong time (--force overrides). */
  CLOCK_UNTRUSTED: { exitCode: 3, rpcCode: -32092 },
  /** The SNTP server did not answer in time, or answered with a packet RFC 4330 says to discard. */
  NTP_UNAVAILABLE: { exitCode: 69, rpcCode: -32093 },
  /** AUTH FINISH answered 6983 to a correct answer: the key is locked, or the device is not of the family assumed (TOKEN2.md §2.8). Nothing was written. */
  TOKEN_LOCKED: { exitCode: 3, rpcCode: -32060 },
  /** A secure write was refused with 6983 again after one re-authentication: authentication lost or a MAC mismatch (TOKEN2.md §2.8). */
  AUTH_FAILED: { exitCode: 3, rpcCode: -32061 },
  /** A time sync on a restricted model (config write erases the seed, TOKEN2.md §2.1) was not confirmed: nothing was sent. */
  SEED_WIPE_NOT_CONFIRMED: { exitCode: 2, rpcCode: -32062 },
  /** No token to work with: no reader with a card of the expected family (or none matching --reader). */
  NO_DEVICE: { exitCode: 4, rpcCode: -32063 },
  /** More than one token matches: the caller must name one (--reader). */
  AMBIGUOUS_DEVICE: { exitCode: 2, rpcCode: -32064 },
  /** An operation that changes a token needs a confirmation that could not be asked (no terminal) and was not given (--yes). */
  CONFIRMATION_REQUIRED: { exitCode: 2, rpcCode: -32065 },
  /** The QR image could not be read, or holds no QR code, or its QR code holds no otpauth URI. */
  QR_UNREADABLE: { exitCode: 2, rpcCode: -32066 },
  /** A resource (a resident key set) was used after release(): a bug in the caller. */
  RELEASED: { exitCode: 70, rpcCode: -32603 },
  /** Daemon: a browser origin that the user has not approved (or has revoked) called a method other than hello / pairing.request. */
  NOT_PAIRED: { exitCode: 77, rpcCode: -32000 },
  /** Daemon: the Origin is never accepted (null, a wildcard, not https and not a loopback page): refused at the upgrade (HTTP 403). */
  FORBIDDEN_ORIGIN: { exitCode: 77, rpcCode: -32001 },
  /** Daemon: the Host header is not a loopback name (a DNS-rebinding page): refused at the upgrade (HTTP 403). */
  FORBIDDEN_HOST: { exitCode: 77, rpcCode: -32015 },
  /** Daemon: a native client (no Origin) without the right bearer token: refused at the upgrade (HTTP 401). */
  UNAUTHORIZED: { exitCode: 77, rpcCode: -32002 },
  /** Daemon: the client sent more requests per second than it may (`detail.retryAfterMs` says when to try again), or the open-socket limit is reached (HTTP 503 at the upgrade). */
  RATE_LIMITED: { exitCode: 75, rpcCode: -32003 },
  /** Daemon: the client was not granted the capability the method needs (`detail.capability`). */
  CAPABILITY_DENIED: { exitCode: 77, rpcCode: -32004 },
  /** Daemon: the client holds no session on that device (acquire it first), or the session has ended. */
  NOT_ACQUIRED: { exitCode: 2, rpcCode: -32005 },
  /** Daemon: device.acquire named a `previous` session that is not the device's current one (compare-and-swap). */
  WRONG_PREVIOUS_SESSION: { exitCode: 2, rpcCode: -32006 },
  /** Daemon: `hello` was not the first call, or asked for an apiVersion this daemon does not speak. */
  HELLO_REQUIRED: { exitCode: 2, rpcCode: -32007 },
  /** Daemon: no pending pairing with that code (wrong, expired or already used). */
  PAIRING_NOT_FOUND: { exitCode: 2, rpcCode: -32008 },
  /** Daemon: the device's family has no such operation (token.burn on a Molto2, molto2.* on a single-profile token). */
  WRONG_FAMILY: { exitCode: 2, rpcCode: -32009 },
  /** The WebAssembly core is in a state it should never reach. */
  INTERNAL: { exitCode: 70, rpcCode: -32603 },
} as const satisfies Record<string, { exitCode: number; rpcCode: number }>;

export type Reason = keyof typeof REASONS;

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

/** The reason of any thrown value: its own if it has one, else INTERNAL. */
export function reasonOf(error: unknown): Reason {
  if (error instanceof OtpbridgeError) return error.reason;
  if (error instanceof TypeError || error instanceof RangeError) {
    const reason = (error as { reason?: unknown }).reason;
    if (typeof reason === "string" && reason in REASONS) return reason as Reason;
  }
  return "INTERNAL";
}
