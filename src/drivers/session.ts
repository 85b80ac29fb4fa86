/**
 * What every driver session is (SingleProfileSession, Molto2Session, OtpAppletSession), as every
 * yubikit session has one shape: opened on a transport by a static async `open*` that identifies
 * the device before anything authenticates; `info` is what the device told at open (its identity);
 * `close()` ends the session: it wipes what the session derived (keys), and later calls fail with
 * TRANSPORT_CLOSED. It never closes the transport: whoever opened that (a reader's exclusive
 * connection, a HID handle) owns it and closes it after the session.
 */
export interface DriverSession<Info> {
  readonly info: Info;
  /** Idempotent. */
  close(): Promise<void>;
}
