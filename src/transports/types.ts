/**
 * The interfaces between drivers and transports. Drivers own these shapes (the consumer declares
 * what it needs, as trezord's core declares its USB interfaces): a driver never knows whether a
 * real reader, pcscd with a virtual card, or an in-memory emulator is behind an {@link ApduTransport}.
 */

/**
 * A card that can sit behind a transport: the device-side emulators of src/emulator and the test
 * fixtures satisfy it structurally. `transmit` gets one command APDU and returns the full
 * response APDU (data ‖ SW1 SW2), synchronously, as a card's firmware would.
 */
export interface VirtualCard {
  /** Answer to reset, as the reader reports it (at least 2 bytes, TS first). */
  readonly atr: Uint8Array;
  transmit(apdu: Uint8Array): Uint8Array;
  /** Called when the reader powers the card up (insertion, cold reset). */
  powerOn?(): void;
  /** Called when the reader cuts the power. */
  powerOff?(): void;
  /** Called on a warm reset. */
  reset?(): void;
}

/**
 * One exclusive session with one card. `transmit` sends a command APDU and resolves with the
 * response APDU (data ‖ SW1 SW2); a status word is returned, never thrown: only the link itself
 * fails, with an OtpbridgeError of reason CARD_REMOVED, READER_GONE, PCSC_UNAVAILABLE or
 * DEVICE_ERROR. `close` ends the session (idempotent, never throws).
 */
export interface ApduTransport {
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Something that opens exclusive sessions on named readers (PC/SC, or a test double of it). */
export interface CardConnector {
  /**
   * Opens an exclusive session on `reader`, runs `fn` with it, and closes it whatever happens.
   * No other session (in this process or in another PC/SC client) can send APDUs meanwhile.
   * @throws OtpbridgeError READER_GONE, CARD_REMOVED, DEVICE_BUSY or PCSC_UNAVAILABLE when the
   *   session cannot be opened; whatever `fn` throws.
   */
  withCard<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T>;
}
