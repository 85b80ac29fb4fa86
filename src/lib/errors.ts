/**
 * Every error otpbridge raises on purpose carries a stable `reason`: the API sends it as
 * `error.data.reason`, the CLI maps it to an exit code, and docs/ERRORS.md lists them all.
 * Each entry's doc comment is its documentation: first what the reason means, then, after "Fix:",
 * what to do; scripts/errors-doc.mjs renders docs/ERRORS.md and docs/TROUBLESHOOTING.md from them.
 * Messages name what was wrong and what was expected; they never quote secret values.
 */
export const REASONS = {
  /**
   * A caller-supplied value has the wrong type, length or range.
   * Fix: Read the message: it names the field and what it accepts. Correct the option or parameter and
   * run again; `otpbridge <command> --help` lists every option.
   */
  INVALID_INPUT: { exitCode: 2, rpcCode: -32602 },
  /**
   * An otpauth URI, base32 or hex string could not be parsed.
   * Fix: Check that the secret was copied whole (base32 uses A-Z and 2-7; spaces, case and trailing `=`
   * are ignored). A hex seed needs `--hex` or `--encoding hex`; a URI must start with
   * `otpauth://totp/`.
   */
  INVALID_SECRET_FORMAT: { exitCode: 2, rpcCode: -32602 },
  /**
   * Ciphertext did not decrypt (wrong key or corrupted data); no detail, to give no padding oracle.
   * Fix: It comes from the AES layer: an OTP-applet entry sealed to a device key that no longer matches
   * (the FIDO key was reset after its device key was fetched). Run the command again, which fetches the
   * device key afresh; if it persists, report it with the `--debug` log.
   */
  DECRYPTION_FAILED: { exitCode: 3, rpcCode: -32014 },
  /**
   * A response from a device or a peer did not match the protocol.
   * Fix: Hold the token still on the reader and run the command again; a token pulled away mid-answer
   * often gives a short response. If it repeats, run with `--debug` and report the log (it never
   * contains seeds or APDUs).
   */
  MALFORMED_RESPONSE: { exitCode: 3, rpcCode: -32010 },
  /**
   * A command APDU or HID frame received by a device (emulator) side did not match the protocol.
   * Fix: Only the emulators raise this: a host sent bytes the protocol does not allow. If otpbridge
   * itself was the host, it is a bug: report it with the `--debug` log.
   */
  MALFORMED_COMMAND: { exitCode: 3, rpcCode: -32013 },
  /**
   * The device answered with a status word that means failure.
   * Fix: The message says what the status word means for this device and step, and what to do. An
   * `unknown status word`: run the command again with `--debug` and report the log.
   */
  DEVICE_ERROR: { exitCode: 3, rpcCode: -32011 },
  /**
   * The serial matches no known programmable model: nothing is sent that could lock it.
   * Fix: Check `otpbridge devices`: the card is not a programmable single-profile token (a C202/C203, a
   * bank card, a FIDO key). Use the tool for its family, or ask Token2 whether the model is
   * programmable; never force it, a wrong key can lock it.
   */
  UNKNOWN_MODEL: { exitCode: 3, rpcCode: -32012 },
  /**
   * A HID device went away (unplugged, reset, destroyed) while open or between listing and opening.
   * Fix: Plug the key in again (directly, not through a hub that sleeps) and run the command again;
   * check with `otpbridge devices` that it is listed.
   */
  DEVICE_GONE: { exitCode: 3, rpcCode: -32020 },
  /**
   * A HID device sent no report within the time allowed for one.
   * Fix: Unplug the key and plug it in again, then retry. If another program (a browser's FIDO prompt,
   * a password manager) is talking to the key, close it first.
   */
  DEVICE_TIMEOUT: { exitCode: 3, rpcCode: -32021 },
  /**
   * USB HID cannot be used: node-hid's native part did not load (libusb-1.0 missing) or open was
   * refused.
   * Fix: Run `otpbridge doctor`: install libusb (`sudo apt install libusb-1.0-0`), and add the udev
   * rule it prints so that a normal user can open Token2 keys; replug the key afterwards.
   */
  HID_UNAVAILABLE: { exitCode: 69, rpcCode: -32022 },
  /**
   * The transport was closed by its owner; nothing more can be sent or received through it.
   * Fix: An operation outlived its session (the daemon released the device, or the command was ending).
   * Acquire the device again and repeat the operation; if the CLI shows this, report it as a bug.
   */
  TRANSPORT_CLOSED: { exitCode: 70, rpcCode: -32023 },
  /**
   * The journal file is not a readable SQLite database, or fails its integrity check; it is left
   * untouched.
   * Fix: Stop otpbridge, keep a copy of the file, and restore the journal from a backup. To start
   * afresh, move the file away (the seeds in it are then only in your exports).
   */
  JOURNAL_CORRUPT: { exitCode: 65, rpcCode: -32040 },
  /**
   * The journal file is a SQLite database of another application; it is left untouched.
   * Fix: The path points at another program's database: choose another `--data-dir` (or move that file
   * away). otpbridge never writes into it.
   */
  JOURNAL_FOREIGN: { exitCode: 65, rpcCode: -32041 },
  /**
   * The journal was written by a newer otpbridge (schema version above ours); it is left untouched.
   * Fix: Upgrade otpbridge to the version that wrote the journal (or newer); an older version cannot
   * read it safely.
   */
  JOURNAL_VERSION: { exitCode: 65, rpcCode: -32042 },
  /**
   * A journal write failed for lack of space (SQLITE_FULL): the change was rolled back.
   * Fix: Free disk space on the data directory's file system (`df -h`), then run the operation again:
   * nothing was half-written.
   */
  JOURNAL_FULL: { exitCode: 74, rpcCode: -32043 },
  /**
   * A journal read or write failed at the I/O level: the change was rolled back.
   * Fix: Check the disk and the file system (`dmesg`, a full or read-only mount, a network share that
   * dropped); then run again. Nothing was half-written.
   */
  JOURNAL_IO: { exitCode: 74, rpcCode: -32044 },
  /**
   * Another process holds the journal open.
   * Fix: Another otpbridge (often the daemon) has the journal: stop it, or run the command through it,
   * or give this one its own `--data-dir`.
   */
  JOURNAL_BUSY: { exitCode: 75, rpcCode: -32045 },
  /**
   * The seed key file, or the daemon's token file, is readable by group or others (or is not a regular
   * file).
   * Fix: `chmod 600` the file named in the message (and make sure it is a regular file owned by you).
   * If others could read it, treat it as exposed: for the daemon token, delete the file and restart the
   * daemon to get a new one.
   */
  KEY_FILE_PERMISSIONS: { exitCode: 77, rpcCode: -32046 },
  /**
   * The data directory or the journal file is open to group or others (or is not what it should be).
   * Fix: `chmod 700` the data directory and `chmod 600` the files in it (journal, pairings); the path
   * is in the message. A path that is not a directory must be moved away.
   */
  DATA_DIR_PERMISSIONS: { exitCode: 77, rpcCode: -32055 },
  /**
   * The configuration file cannot be read, is not valid TOML, or holds an unknown option or a value of
   * the wrong type or range; the message gives the file, the line and the reason (never the value).
   * Fix: Correct that line (`otpbridge daemon --help` lists the options; keys are the flag names without
   * `--`), or point `--config` at another file. `otpbridge daemon --print-config` shows what is in
   * effect and where each value comes from.
   */
  CONFIG_INVALID: { exitCode: 78, rpcCode: -32059 },
  /**
   * The seed key file is missing or is not the key this journal was created with.
   * Fix: Restore the seed key file that belongs to this journal (from the backup you made with it), or
   * point otpbridge at the journal that key belongs to. Without that key the sealed seeds cannot be
   * read.
   */
  KEY_MISMATCH: { exitCode: 77, rpcCode: -32047 },
  /**
   * The passphrase does not derive the key this journal was created with.
   * Fix: Enter the passphrase this journal was created with (check the keyboard layout and caps lock).
   * There is no recovery without it.
   */
  WRONG_PASSPHRASE: { exitCode: 77, rpcCode: -32048 },
  /**
   * An encrypted seed failed authentication: the row was altered or moved.
   * Fix: The journal was edited outside otpbridge or restored partly from another copy: restore the
   * whole journal and its key from one backup. Do not burn or export that item; re-enrol its account
   * instead.
   */
  SEED_TAMPERED: { exitCode: 65, rpcCode: -32049 },
  /**
   * No batch with that id in the journal.
   * Fix: Check the batch id against the ones the journal lists, and that otpbridge opened the right
   * data directory (`--data-dir`).
   */
  BATCH_NOT_FOUND: { exitCode: 2, rpcCode: -32050 },
  /**
   * No item with that id in the journal.
   * Fix: Check the item id (journal.item returns it for an existing item), and that otpbridge opened
   * the right data directory (`--data-dir`).
   */
  ITEM_NOT_FOUND: { exitCode: 2, rpcCode: -32051 },
  /**
   * The batch's state forbids the operation (claiming while paused or cancelled, resuming a cancelled
   * batch).
   * Fix: Resume a paused batch before taking taps; a cancelled batch cannot be resumed: create a new
   * batch for the remaining accounts.
   */
  BATCH_STATE: { exitCode: 2, rpcCode: -32052 },
  /**
   * The item's state forbids the transition (commit before verify, burn of a committed item).
   * Fix: Follow the item's order: claimed, burned, verified (the code the token shows was checked),
   * then committed. A committed or superseded item is final: enrol a new item to burn that token again.
   */
  ITEM_STATE: { exitCode: 2, rpcCode: -32053 },
  /**
   * Batch verification failed: the token's clock, read back after the burn, is more than 2 s from the
   * host's, so its codes would be off; the item is marked failed.
   * Fix: Check the host clock (`otpbridge doctor`), then burn the token again: `otpbridge batch run ID
   * --reburn` (or the API with reburn) retries the same item with the same seed. A token whose clock
   * drifts again at once is faulty: set it aside.
   */
  VERIFY_MISMATCH: { exitCode: 3, rpcCode: -32056 },
  /**
   * The batch engine is driving another batch that is running and not finished (one batch takes taps
   * at a time); `detail.batchId` names it.
   * Fix: Pause or cancel that batch (`batch.pause`, `batch.cancel`), then start this one.
   */
  BATCH_BUSY: { exitCode: 75, rpcCode: -32057 },
  /**
   * The stations' shared store (PostgreSQL, `--store`) cannot be reached, or dropped the connection
   * mid-operation; claims pause until it answers again.
   * Fix: Check that the server named in `--store` is up and reachable from this station (`pg_isready
   * -d URL`), and its TLS settings. Nothing needs re-doing: a claim that failed burned nothing, and a
   * burn under way is finished and kept in the local journal until the server is back.
   */
  STORE_UNAVAILABLE: { exitCode: 69, rpcCode: -32080 },
  /**
   * This station's lease on a shared item ended (it expired, or another station took the item over),
   * so the fence number it holds is refused and its update is not applied.
   * Fix: Nothing was overwritten. Tap the token again: the item is resumed with the same seed on
   * whichever station holds the token. If it happens often, the station lost its server for longer
   * than the lease (`docs/STATIONS.md`).
   */
  LEASE_LOST: { exitCode: 75, rpcCode: -32081 },
  /**
   * The shared store's schema is newer than this otpbridge, or older and this role may not upgrade it.
   * Fix: Upgrade otpbridge on this station to the version the other stations run; or, for an older
   * schema, connect once with the owner role so it upgrades the tables (docs/STATIONS.md, "Roles").
   */
  STORE_VERSION: { exitCode: 65, rpcCode: -32082 },
  /**
   * The export format cannot represent an item (for example SHA-256 in an Entra ID CSV).
   * Fix: Choose an export target that takes these items (the message lists what it refuses), or burn
   * such accounts with settings that target accepts (SHA-1, 30 s, 6 digits for most).
   */
  EXPORT_UNSUPPORTED: { exitCode: 2, rpcCode: -32054 },
  /**
   * The reader is held by another session or another PC/SC client (exclusive access).
   * Fix: Close the other program using the reader (another otpbridge, a browser smart-card prompt,
   * `pcsc_scan`), or release the device in the daemon; then run again.
   */
  DEVICE_BUSY: { exitCode: 75, rpcCode: -32030 },
  /**
   * No card in the reader, or the card left it (or was reset) during the session.
   * Fix: Place the token flat on the reader, powered on, and hold it still until the command ends. If
   * the message says the seed state, follow it (on restricted models, run burn again). A burn already
   * retries by itself when the same token comes back.
   */
  CARD_REMOVED: { exitCode: 4, rpcCode: -32031 },
  /**
   * The reader does not exist, or was unplugged.
   * Fix: Plug the reader in again and check `otpbridge devices`; if it is not listed, run `otpbridge
   * doctor` (CCID driver, kernel NFC modules that grab the reader).
   */
  READER_GONE: { exitCode: 4, rpcCode: -32032 },
  /**
   * The PC/SC service (pcscd) is not running, or stopped during the operation.
   * Fix: Start it: `sudo systemctl restart pcscd.socket pcscd` (or install it: `sudo apt install
   * pcscd`). `otpbridge doctor` checks the socket and prints the fix for this system.
   */
  PCSC_UNAVAILABLE: { exitCode: 69, rpcCode: -32033 },
  /**
   * Molto2: the customer key was refused (63 NN); `detail.triesLeft` attempts remain. Never retried
   * (TOKEN2.md §3.6).
   * Fix: Find the right customer key before trying again: each wrong try costs one of the token's few
   * attempts. Check `--key-hex` (hex vs ASCII) and stray newlines in a key file. A forgotten key:
   * `otpbridge molto2 reset` (erases every profile).
   */
  WRONG_CUSTOMER_KEY: { exitCode: 77, rpcCode: -32070 },
  /**
   * Molto2: no authentication attempts left (63 00); only a factory reset recovers the token (§3.6,
   * §3.12).
   * Fix: Run `otpbridge molto2 reset` and press ▲ on the token: it erases every profile and restores
   * the factory key; then set your own key and write the profiles again.
   */
  CUSTOMER_KEY_BLOCKED: { exitCode: 77, rpcCode: -32071 },
  /**
   * Molto2: the profile already holds a seed and overwriting was not asked for (§3.15 step 6).
   * Fix: Choose an empty profile (`otpbridge molto2 list`), or delete this one first (`molto2 delete
   * --profile N`), or pass `--overwrite` if replacing it is intended.
   */
  PROFILE_OCCUPIED: { exitCode: 3, rpcCode: -32072 },
  /**
   * Molto2: the profile holds no seed (delete answered 6A83, §3.10).
   * Fix: Nothing to delete: check the profile number with `otpbridge molto2 list`.
   */
  PROFILE_EMPTY: { exitCode: 3, rpcCode: -32073 },
  /**
   * The ▲ button or the key's touch sensor was not pressed in time (Molto2 key change, OTP applet 6FF9
   * / 20 s of busy frames).
   * Fix: Run the command again and press ▲ on the Molto2, or touch the FIDO key, when asked; without a
   * terminal, `otpbridge molto2` waits `--button-wait S` seconds (default 20).
   */
  BUTTON_TIMEOUT: { exitCode: 75, rpcCode: -32074 },
  /**
   * Molto2: after the ▲ press the token still refuses the new customer key; the old one is in force.
   * Fix: Keep using the old key. Run `otpbridge molto2 set-key` again and press ▲ within the time
   * shown; the check cost one try (the message says how many are left).
   */
  KEY_CHANGE_NOT_APPLIED: { exitCode: 3, rpcCode: -32075 },
  /**
   * OTP applet: no entry with that issuer and account (6A80 / 6A83, TOKEN2.md §4.11).
   * Fix: List the entries (`otpbridge applet list`) and use the issuer and account exactly as shown
   * (they are case-sensitive).
   */
  ENTRY_NOT_FOUND: { exitCode: 3, rpcCode: -32076 },
  /**
   * OTP applet: the key has no room for another entry (6A84, §4.11).
   * Fix: Delete an entry you no longer need (`otpbridge applet delete`), or use another key.
   */
  STORAGE_FULL: { exitCode: 3, rpcCode: -32077 },
  /**
   * The card or key does not have the OTP applet (its SELECT failed, §4.1).
   * Fix: Check the device: only Token2 PIN+ / T2F2 FIDO keys carry the OTP applet. A single-profile
   * token goes with `otpbridge burn`, a Molto2 with `otpbridge molto2`; fix the reader's `--family`
   * mapping if it is wrong.
   */
  APPLET_NOT_FOUND: { exitCode: 3, rpcCode: -32078 },
  /**
   * The scanned or pasted code is not a TOTP seed (HOTP URI, phonefactor://, FIDO:/, a token's serial
   * barcode); detail.scanned says which.
   * Fix: Scan the enrolment QR code that the service shows for an authenticator app (it starts with
   * `otpauth://totp/`), not the token's serial barcode or a passkey code; for Microsoft Entra, choose
   * "other authenticator" / hardware token.
   */
  WRONG_CODE_SCANNED: { exitCode: 2, rpcCode: -32090 },
  /**
   * The account cannot be burned as asked: the device or the chosen export target would reject it;
   * detail.problems lists every reason.
   * Fix: Read the listed problems: re-enrol the account with settings the token shows (single-profile
   * tokens: 6 digits, 30 or 60 s, SHA-1 or SHA-256), or pick a device or export target that supports
   * them.
   */
  NOT_BURNABLE: { exitCode: 2, rpcCode: -32091 },
  /**
   * The host clock is known to be unsynchronised or too far from the --ntp server: burning would set a
   * wrong time (--force, or `force: true` in the API call, overrides).
   * Fix: Synchronise the clock (`sudo timedatectl set-ntp true`, or start chrony / systemd-timesyncd)
   * and check with `otpbridge doctor`; only if you know the clock is right, pass `--force` (API:
   * `force: true`).
   */
  CLOCK_UNTRUSTED: { exitCode: 3, rpcCode: -32092 },
  /**
   * The SNTP server did not answer in time, or answered with a packet RFC 4330 says to discard.
   * Fix: Check the `--ntp` host and port (of the command, or of `otpbridge daemon`) and that UDP 123
   * is allowed out; try another server (`pool.ntp.org`), or leave out `--ntp` when the system clock
   * is synchronised.
   */
  NTP_UNAVAILABLE: { exitCode: 69, rpcCode: -32093 },
  /**
   * `otpbridge console` found no daemon serving this data directory: its launch file is missing, or
   * older than any URL in it is valid (the daemon is gone).
   * Fix: Start `otpbridge daemon` (with the same `--data-dir`, if you gave one) and run
   * `otpbridge console` again, as the user who runs the daemon.
   */
  CONSOLE_UNAVAILABLE: { exitCode: 69, rpcCode: -32094 },
  /**
   * AUTH FINISH answered 6983 to a correct answer: the key is locked, or the device is not of the
   * family assumed (TOKEN2.md §2.8). Nothing was written.
   * Fix: Do not retry: check the family (`otpbridge devices`; a Molto2 or FIDO key needs its own
   * command). A single-profile token that refuses its public key was sealed by an administrator or
   * locked by old firmware: ask Token2.
   */
  TOKEN_LOCKED: { exitCode: 3, rpcCode: -32060 },
  /**
   * A secure write was refused with 6983 again after one re-authentication: authentication lost or a
   * MAC mismatch (TOKEN2.md §2.8).
   * Fix: Hold the token still and run the command again (the message says whether the token was left
   * without a seed). If it repeats on the same token, report it with the `--debug` log.
   */
  AUTH_FAILED: { exitCode: 3, rpcCode: -32061 },
  /**
   * A time sync on a restricted model (config write erases the seed, TOKEN2.md §2.1) was not confirmed:
   * nothing was sent.
   * Fix: In the CLI pass `--wipe-seed` (over the API `confirmSeedWipe: true`) to accept that the seed
   * is erased, and give the seed so it is written again; or burn the token anew with `otpbridge burn`,
   * which sets the clock too.
   */
  SEED_WIPE_NOT_CONFIRMED: { exitCode: 2, rpcCode: -32062 },
  /**
   * No token to work with: no reader with a card of the expected family (or none matching --reader).
   * Fix: Put the token on the reader and switch it on, then check `otpbridge devices` (the message
   * lists what was seen). Check the `--reader` text, and add `--family READER=FAMILY` for virtual
   * readers.
   */
  NO_DEVICE: { exitCode: 4, rpcCode: -32063 },
  /**
   * More than one token matches: the caller must name one (--reader).
   * Fix: Name the reader with `--reader TEXT` (any part of its name, as listed in the message or by
   * `otpbridge devices`), or remove the other tokens.
   */
  AMBIGUOUS_DEVICE: { exitCode: 2, rpcCode: -32064 },
  /**
   * An operation that changes a token needs a confirmation that could not be asked (no terminal) and
   * was not given (--yes).
   * Fix: Run it in a terminal to answer the question, or add `--yes` in scripts once you are sure of
   * the target token.
   */
  CONFIRMATION_REQUIRED: { exitCode: 2, rpcCode: -32065 },
  /**
   * The QR image could not be read, or holds no QR code, or its QR code holds no otpauth URI.
   * Fix: Give a PNG or JPEG screenshot in which the whole QR code is sharp and not scaled down; or
   * paste the secret text instead (`--secret-stdin`).
   */
  QR_UNREADABLE: { exitCode: 2, rpcCode: -32066 },
  /**
   * A resource (a resident key set) was used after release(): a bug in the caller.
   * Fix: A programming error in the code calling otpbridge's crypto: create a new key set instead of
   * reusing a released one. If otpbridge's own command shows it, report it.
   */
  RELEASED: { exitCode: 70, rpcCode: -32603 },
  /**
   * Daemon: a page that is not paired (it presented no valid pairing secret in hello, or its origin was
   * revoked) called a method other than hello / pairing.request.
   * Fix: Call pairing.request from the page, approve the code on the computer running the daemon
   * (`otpbridge pair approve CODE`), and keep the secret of the pairing.approved event in the page's
   * storage for hello; a page that lost it pairs again.
   */
  NOT_PAIRED: { exitCode: 77, rpcCode: -32000 },
  /**
   * Daemon: the Origin is never accepted (null, a wildcard, not https and not a loopback page): refused
   * at the upgrade (HTTP 403).
   * Fix: Serve the page over https (or from localhost); sandboxed iframes and file:// pages send a null
   * Origin and can never connect.
   */
  FORBIDDEN_ORIGIN: { exitCode: 77, rpcCode: -32001 },
  /**
   * Daemon: the Host header is not a loopback name (a DNS-rebinding page): refused at the upgrade (HTTP
   * 403).
   * Fix: Connect to `ws://127.0.0.1:PORT` or `ws://localhost:PORT`; any other host name reaching the
   * daemon is treated as a rebinding attack.
   */
  FORBIDDEN_HOST: { exitCode: 77, rpcCode: -32015 },
  /**
   * Daemon: a native client over TCP (no Origin) that did not prove the token: no `OtpbridgeProof` nor
   * a valid bearer token at the upgrade (HTTP 401), a call before auth.prove, or a wrong proof.
   * Fix: Connect to the Unix socket `daemon.sock` in the daemon's data directory (no token needed), or
   * prove the token from the file `daemon.token` as docs/API.md "Native clients over TCP" describes.
   */
  UNAUTHORIZED: { exitCode: 77, rpcCode: -32002 },
  /**
   * Daemon: the client sent more requests per second than it may (`detail.retryAfterMs` says when to
   * try again), or the open-socket limit is reached (HTTP 503 at the upgrade).
   * Fix: Wait `detail.retryAfterMs` before the next request and send fewer per second; for the socket
   * limit, close connections you do not use.
   */
  RATE_LIMITED: { exitCode: 75, rpcCode: -32003 },
  /**
   * Daemon: the client was not granted the capability the method needs (`detail.capability`).
   * Fix: Revoke the origin (`otpbridge pair revoke ORIGIN`), have the page call pairing.request again,
   * and approve it with the capability included: `otpbridge pair approve CODE --capabilities
   * read,burn`.
   */
  CAPABILITY_DENIED: { exitCode: 77, rpcCode: -32004 },
  /**
   * Daemon: the client holds no session on that device (acquire it first), or the session has ended.
   * Fix: Call device.acquire and use the session it returns; after a disconnect or device.release,
   * acquire again.
   */
  NOT_ACQUIRED: { exitCode: 2, rpcCode: -32005 },
  /**
   * Daemon: device.acquire named a `previous` session that is not the device's current one
   * (compare-and-swap).
   * Fix: List the devices (devices.list shows each one's current session) and call device.acquire again
   * with that session as `previous` (null for a free device).
   */
  WRONG_PREVIOUS_SESSION: { exitCode: 2, rpcCode: -32006 },
  /**
   * Daemon: `hello` was not the first call, or asked for an apiVersion this daemon does not speak.
   * Fix: Send `hello` first on every connection, with an apiVersion from `detail.supported`.
   */
  HELLO_REQUIRED: { exitCode: 2, rpcCode: -32007 },
  /**
   * Daemon: no pending pairing with that code (wrong, expired, already used, or its page was closed),
   * or no approval of the origin to revoke.
   * Fix: Check the code (`otpbridge pair list`, with the daemon running); if it expired, have the page
   * call pairing.request again and approve the new code promptly.
   */
  PAIRING_NOT_FOUND: { exitCode: 2, rpcCode: -32008 },
  /**
   * Daemon: the device's family has no such operation (token.burn on a Molto2, molto2.* on a
   * single-profile token).
   * Fix: Call the methods of the device's family (devices.list gives it): token.* for single-profile
   * tokens, molto2.* for a Molto2, otpApplet.* for FIDO keys.
   */
  WRONG_FAMILY: { exitCode: 2, rpcCode: -32009 },
  /**
   * The WebAssembly core is in a state it should never reach.
   * Fix: A bug in otpbridge: run the command again with `--debug` (it prints the stack) and report it
   * with that output.
   */
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
