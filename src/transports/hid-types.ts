/**
 * What the HID side of otpbridge needs from a USB HID link, owned by its consumers (the HID framing
 * codec and the Token2 FIDO-key driver), so that node-hid and the in-memory emulator link are
 * interchangeable (docs/ARCHITECTURE.md; as trezord-go's core declares the USB interfaces it needs).
 *
 * Unit: one whole 64-byte report. Fragmenting APDUs into reports, sequence numbers and busy polling
 * belong to the framing codec (docs/PROTOCOL.md §4.9), not to a transport.
 */

/** Payload size of one Token2 FIDO-key HID report, in both directions (docs/PROTOCOL.md §4.9). */
export const HID_REPORT_SIZE = 64;

/** Longest single read a transport accepts; longer waits (a 20 s touch) are several reads. */
export const MAX_READ_TIMEOUT_MS = 600_000;

/** One open USB HID link that moves whole 64-byte reports. */
export interface HidTransport {
  /**
   * Sends one 64-byte output report (the transport adds the report ID byte the OS wants).
   * @throws OtpbridgeError DEVICE_GONE if the device went away, TRANSPORT_CLOSED after close().
   * @throws RangeError (INVALID_INPUT) unless the report is exactly 64 bytes.
   */
  write(report: Uint8Array): Promise<void>;
  /**
   * Receives the next 64-byte input report, waiting at most `timeoutMs`. Reads are served one at a
   * time in call order; a read's time starts when it reaches the device, not when it was called.
   * @throws OtpbridgeError DEVICE_TIMEOUT if nothing arrived in time (the transport stays usable),
   *   DEVICE_GONE if the device went away, TRANSPORT_CLOSED if close() was called.
   */
  read(timeoutMs: number): Promise<Uint8Array>;
  /** Releases the device. Idempotent; never throws, also after DEVICE_GONE. */
  close(): Promise<void>;
}

/**
 * The device side of a report link: the emulator of a Token2 FIDO key, or a test fixture.
 * Called once per output report from the host; returns the input reports to send back, in order
 * (none, one, or several such as busy frames followed by the answer).
 */
export interface HidReportDevice {
  handleReport(report: Uint8Array): Uint8Array[];
}
