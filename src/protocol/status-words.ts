/**
 * Status words (SW1 SW2) of the three Token2 families as named values (docs/PROTOCOL.md §2.8, §3.14, §4.11).
 * Names follow ISO 7816-4 where the families use a value in its ISO meaning; the comments say what each
 * family means by it. Parametrised words (61XX, 6CXX, 63XX) have helpers instead of single values.
 */
export const SW = {
  /** ISO: normal processing. */
  OK: 0x9000,
  /** Molto2 key change and factory reset: accepted, waiting for the ▲ button (§3.11, §3.12). */
  WAITING_FOR_BUTTON: 0x9060,
  /** Wrong length (§2.8; §4.11 extended Lc on a T=0 reader). */
  WRONG_LENGTH: 0x6700,
  /** Molto2 emulator: secure command before authentication [EMU] (§3.16). */
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  /** Family A: wrong AUTH FINISH answer, key locked, bad MAC, not authenticated (§2.8). */
  AUTH_METHOD_BLOCKED: 0x6983,
  /** Molto2 emulator: bad MAC [EMU] (§3.16). */
  SM_DATA_INCORRECT: 0x6988,
  /** Wrong data: no armed challenge, bad padding, template mismatch; OTP applet: entry not found. */
  WRONG_DATA: 0x6a80,
  /** OTP applet: function not supported (§4.11). */
  FUNCTION_NOT_SUPPORTED: 0x6a81,
  /** Molto2: delete on an empty slot; OTP applet: entry not found / no entries (§3.14, §4.11). */
  RECORD_NOT_FOUND: 0x6a83,
  /** OTP applet: storage full (§4.11). */
  NOT_ENOUGH_MEMORY: 0x6a84,
  /** Molto2 emulator: profile out of range [EMU]; OTP applet: HID-HOTP unsupported / no applet (§4.11). */
  INCORRECT_P1_P2: 0x6a86,
  /** Unknown INS for the class (§2.8). */
  INS_NOT_SUPPORTED: 0x6d00,
  /** CLA not supported (§2.8). */
  CLA_NOT_SUPPORTED: 0x6e00,
  /** OTP applet: timed out waiting for a button press (§4.11). */
  BUTTON_TIMEOUT: 0x6ff9,
  /** Molto2: public read sent in case-4 form, with an Le [HW] (§3.3). */
  PUBLIC_READ_CASE4: 0x6ffb,
} as const;

export type NamedSw = (typeof SW)[keyof typeof SW];

const NAMES = new Map<number, string>(Object.entries(SW).map(([name, value]) => [value, name]));

/** SW1 of "response bytes still available" (T=0, §1.1): fetch them with GET RESPONSE. */
export const SW1_BYTES_AVAILABLE = 0x61;
/** SW1 of "wrong Le; SW2 is the exact length" (T=0, §1.1): re-send with Le = SW2. */
export const SW1_WRONG_LE = 0x6c;
/** SW1 of the Molto2's failed authentication: SW2 = attempts left (§3.6). */
export const SW1_TRIES_LEFT = 0x63;

/**
 * A readable name for a status word, for error messages and logs: `"WRONG_DATA (6A80)"`,
 * `"TRIES_LEFT(3) (6303)"`, `"UNKNOWN (6F00)"`.
 * @example swName(0x6983) // "AUTH_METHOD_BLOCKED (6983)"
 */
export function swName(sw: number): string {
  const hex = (sw & 0xffff).toString(16).toUpperCase().padStart(4, "0");
  const named = NAMES.get(sw);
  if (named !== undefined) return `${named} (${hex})`;
  const sw1 = sw >>> 8;
  const sw2 = sw & 0xff;
  if (sw1 === SW1_BYTES_AVAILABLE) return `BYTES_AVAILABLE(${sw2 === 0 ? 256 : sw2}) (${hex})`;
  if (sw1 === SW1_WRONG_LE) return `WRONG_LE(${sw2 === 0 ? 256 : sw2}) (${hex})`;
  if (sw1 === SW1_TRIES_LEFT) return `TRIES_LEFT(${sw2}) (${hex})`;
  return `UNKNOWN (${hex})`;
}

/** True for `90 XX`: the Token2 hosts treat any SW1 = 90 as success (§3.15, molto2.py). */
export function isSuccess(sw: number): boolean {
  return sw >>> 8 === 0x90;
}

/** Attempts left from a Molto2 `63 NN` answer, or null if `sw` is not of that form (§3.6). */
export function triesLeft(sw: number): number | null {
  return sw >>> 8 === SW1_TRIES_LEFT ? sw & 0xff : null;
}

/** The two bytes of a status word, SW1 first. */
export function swBytes(sw: number): Uint8Array {
  return Uint8Array.of((sw >>> 8) & 0xff, sw & 0xff);
}
