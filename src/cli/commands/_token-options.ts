/**
 * Options shared by burn and sync-time: the settings a single-profile token takes (TOKEN2.md
 * §2.6) and the seed sources, parsed and checked once.
 */
import type { SingleProfileSettings } from "../../drivers/single-profile.js";
import { otpbError } from "../../lib/errors.js";
import type { SeedInput } from "../secret-source.js";

/** parseArgs options of the seed sources (see SEED_SOURCE_HELP). */
export const SEED_OPTIONS = {
  secret: { type: "string" },
  hex: { type: "string" },
  uri: { type: "string" },
  qr: { type: "string" },
  "secret-stdin": { type: "boolean" },
  "secret-file": { type: "string" },
  "secret-env": { type: "string" },
  encoding: { type: "string" },
} as const;

/** parseArgs options of the device choice and the settings. */
export const TOKEN_OPTIONS = {
  reader: { type: "string" },
  family: { type: "string", multiple: true },
  simulate: { type: "boolean" },
  algorithm: { type: "string" },
  period: { type: "string" },
  display: { type: "string" },
  yes: { type: "boolean", short: "y" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const SETTINGS_HELP = `  --algorithm SHA1|SHA256  HMAC of the codes (default SHA1)
  --period 30|60           seconds per code (default 30)
  --display 15|30|60|120   seconds before the display turns off (default 30)`;

const pick = <T extends string | number>(flag: string, text: string, allowed: readonly T[]): T => {
  const found = allowed.find((a) => String(a) === text.toUpperCase().replace("-", ""));
  if (found === undefined) throw otpbError("INVALID_INPUT", `--${flag} must be ${allowed.join(", ")}; got ${JSON.stringify(text)}`);
  return found;
};

/**
 * Settings from the flags, or from an otpauth URI (then --algorithm and --period may not be given).
 * @throws OtpbridgeError INVALID_INPUT on a bad value; INVALID_SECRET_FORMAT when the URI asks for
 *   what these tokens cannot do (SHA-512, other than 6 digits, a period other than 30 or 60).
 */
export function settingsFrom(values: { algorithm?: string | undefined; period?: string | undefined; display?: string | undefined }, seed?: SeedInput): SingleProfileSettings {
  const display = pick("display", values.display ?? "30", [15, 30, 60, 120] as const);
  const account = seed?.account;
  if (account === undefined) {
    return {
      algorithm: pick("algorithm", values.algorithm ?? "SHA1", ["SHA1", "SHA256"] as const),
      period: pick("period", values.period ?? "30", [30, 60] as const),
      display,
    };
  }
  const given = (["algorithm", "period"] as const).filter((flag) => values[flag] !== undefined);
  if (given.length > 0) throw otpbError("INVALID_INPUT", `--${given[0]} cannot be combined with an otpauth URI, which sets it`);
  // Single-profile tokens show 6 digits, SHA-1 or SHA-256, 30 or 60 s (TOKEN2.md §2.1, §1.7).
  if (account.algorithm !== "SHA1" && account.algorithm !== "SHA256") {
    throw otpbError("INVALID_SECRET_FORMAT", `the otpauth URI asks for ${account.algorithm}; these tokens do SHA1 or SHA256`);
  }
  if (account.digits !== 6) throw otpbError("INVALID_SECRET_FORMAT", `the otpauth URI asks for ${account.digits} digits; these tokens show 6`);
  if (account.period !== 30 && account.period !== 60) {
    throw otpbError("INVALID_SECRET_FORMAT", `the otpauth URI asks for a ${account.period} s period; these tokens do 30 or 60`);
  }
  return { algorithm: account.algorithm, period: account.period, display };
}

/**
 * Refuses seeds a token cannot hold (over 63 bytes, §2.7) or that are implausibly short (under 10
 * bytes, 80 bits: the vendor burner's rule; RFC 4226 §4 asks for at least 128 bits).
 * @throws OtpbridgeError INVALID_INPUT
 */
export function checkSeedLength(seed: Uint8Array): void {
  if (seed.length < 10 || seed.length > 63) {
    throw otpbError("INVALID_INPUT", `the seed is ${seed.length} bytes; a token takes 10 to 63 (a shorter one is probably a typing error)`);
  }
}
