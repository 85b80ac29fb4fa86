/**
 * Single-profile (Family A) models by serial prefix, and their time-sync class (docs/PROTOCOL.md §2.1).
 * The class comes only from the burner's list of seed-keeping prefixes; every other known model
 * erases its seed on a config write ("restricted").
 */
import { otpbError } from "../lib/errors.js";

/** One programmable single-profile model. */
export interface SingleProfileModel {
  /** Serial prefix, ASCII digits. */
  readonly prefix: string;
  readonly name: string;
  /** True if a config (clock) write erases the seed (§2.6). */
  readonly restrictedSync: boolean;
}

/** §2.1 table [SRC t2nfc_burner `MODELS`, `UNRESTRICTED_SYNC_PREFIXES`; keyroost commands.rs]. */
export const SINGLE_PROFILE_MODELS: readonly SingleProfileModel[] = Object.freeze(
  [
    { prefix: "8659612", name: "OTPC-P1-i", restrictedSync: false },
    { prefix: "8659622", name: "OTPC-P2-i", restrictedSync: true },
    { prefix: "8659621", name: "OTPC-P2-i-NB", restrictedSync: true },
    { prefix: "8659600", name: "miniOTP-2-i", restrictedSync: false },
    { prefix: "8659601", name: "miniOTP-3-i", restrictedSync: true },
    { prefix: "8659609", name: "miniOTP-3-i-NB", restrictedSync: true },
    { prefix: "8659610", name: "C301-i", restrictedSync: true },
    { prefix: "8659632", name: "C302-i", restrictedSync: false },
  ].map((m) => Object.freeze(m)),
);

/**
 * The model of a serial by longest matching prefix, after trimming whitespace (§2.1), or null.
 * A null result means: do not authenticate or write (non-programmable products such as 8659623
 * are deliberately absent from the table).
 * @example modelOfSerial("86596220000001")?.name // "OTPC-P2-i"
 */
export function modelOfSerial(serial: string): SingleProfileModel | null {
  const s = serial.trim();
  let best: SingleProfileModel | null = null;
  for (const model of SINGLE_PROFILE_MODELS) {
    if (s.startsWith(model.prefix) && (best === null || model.prefix.length > best.prefix.length)) best = model;
  }
  return best;
}

/**
 * Like {@link modelOfSerial} but refuses unknown serials, for code paths about to authenticate.
 * @throws OtpbridgeError UNKNOWN_MODEL (the serial itself is not secret and is put in detail).
 */
export function requireModel(serial: string): SingleProfileModel {
  const model = modelOfSerial(serial);
  if (model === null) {
    throw otpbError("UNKNOWN_MODEL", "the serial matches no known programmable single-profile model", {
      detail: { serial: serial.trim() },
    });
  }
  return model;
}
