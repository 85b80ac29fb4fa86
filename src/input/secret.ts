import { createRequire } from "node:module";
import type base32 from "hi-base32";
import type * as Otpauth from "otpauth";
import { otpbError } from "../lib/errors.js";
import type { HashAlgorithm } from "../crypto/hash.js";

/** A TOTP account as a user hands it over: a seed and the parameters codes are computed with. */
export interface TotpAccount {
  secret: Uint8Array;
  algorithm: HashAlgorithm;
  digits: number;
  period: number;
  issuer?: string;
  label?: string;
}

// Loaded by require when first used: otpauth brings its own hash code and takes several
// milliseconds to load (only a URI needs it), and a CommonJS package imported as an ES module
// costs a source scan on every start.
const require = createRequire(import.meta.url);
const otpauth = (): typeof Otpauth => require("otpauth");
const hiBase32 = (): typeof base32 => require("hi-base32");

const ALGORITHMS: readonly HashAlgorithm[] = ["SHA1", "SHA256", "SHA512"];

// Unpadded base32 of whole bytes has length 0, 2, 4, 5 or 7 mod 8; 1, 3 and 6 cannot occur
// (RFC 4648 §6). hi-base32 decodes such strings to fewer bytes without complaint, so check first.
const IMPOSSIBLE_LENGTHS = new Set([1, 3, 6]);

/**
 * Decodes a base32 seed as people type and paste it: case, spaces, dashes and `=` padding ignored.
 * @throws OtpbridgeError INVALID_SECRET_FORMAT naming the problem, never the content.
 */
export function parseBase32Secret(text: string): Uint8Array {
  const normalized = text.replace(/[\s-]/g, "").toUpperCase().replace(/=+$/, "");
  if (normalized.length === 0) throw otpbError("INVALID_SECRET_FORMAT", "the base32 secret is empty");
  const bad = normalized.search(/[^A-Z2-7]/);
  if (bad >= 0) {
    throw otpbError(
      "INVALID_SECRET_FORMAT",
      `the base32 secret has a character outside A-Z and 2-7 at position ${bad + 1}` +
        (/[0189]/.test(normalized[bad]!) ? " (0, 1, 8 and 9 are not base32: is it a hex seed? use --hex)" : ""),
    );
  }
  if (IMPOSSIBLE_LENGTHS.has(normalized.length % 8)) {
    throw otpbError("INVALID_SECRET_FORMAT", `a base32 secret of ${normalized.length} characters cannot encode whole bytes (truncated copy?)`);
  }
  return Uint8Array.from(hiBase32().decode.asBytes(normalized));
}

/**
 * Decodes a hex seed (spaces and colons ignored). Hex is taken only when the user says so: many
 * base32 secrets are also valid hex-looking strings, and guessing burns the wrong seed.
 * @throws OtpbridgeError INVALID_SECRET_FORMAT
 */
export function parseHexSecret(text: string): Uint8Array {
  const normalized = text.replace(/[\s:]/g, "");
  if (normalized.length === 0) throw otpbError("INVALID_SECRET_FORMAT", "the hex secret is empty");
  if (!/^[0-9a-fA-F]*$/.test(normalized)) {
    throw otpbError("INVALID_SECRET_FORMAT", "the hex secret has a character outside 0-9 and A-F");
  }
  if (normalized.length % 2 !== 0) {
    throw otpbError("INVALID_SECRET_FORMAT", `the hex secret has an odd number of digits (${normalized.length})`);
  }
  return Uint8Array.from(Buffer.from(normalized, "hex"));
}

/**
 * Parses an `otpauth://totp/...` URI (Key Uri Format) with the `otpauth` package, then checks
 * what that package lets through (it accepts digits=99, for instance).
 * @throws OtpbridgeError INVALID_SECRET_FORMAT; for an `otpauth://hotp` URI the message says why.
 */
export function parseOtpauthUri(uri: string): TotpAccount {
  if (!/^otpauth:\/\//i.test(uri.trim())) {
    throw otpbError("INVALID_SECRET_FORMAT", "not an otpauth:// URI");
  }
  const { URI, HOTP } = otpauth();
  let parsed: Otpauth.TOTP | Otpauth.HOTP;
  try {
    parsed = URI.parse(uri.trim());
  } catch (error) {
    // otpauth's messages name the parameter ("Invalid 'digits' parameter"), never its value.
    throw otpbError("INVALID_SECRET_FORMAT", `bad otpauth URI: ${(error as Error).message}`);
  }
  const secretView = parsed.secret.bytes;
  try {
    if (parsed instanceof HOTP) {
      throw otpbError("INVALID_SECRET_FORMAT", "this is an otpauth://hotp (counter-based) account; these tokens only hold TOTP (time-based) seeds");
    }
    const algorithm = parsed.algorithm.toUpperCase().replace("-", "") as HashAlgorithm;
    if (!ALGORITHMS.includes(algorithm)) {
      throw otpbError("INVALID_SECRET_FORMAT", `the otpauth URI's algorithm must be one of ${ALGORITHMS.join(", ")}`);
    }
    if (!Number.isInteger(parsed.digits) || parsed.digits < 4 || parsed.digits > 10) {
      throw otpbError("INVALID_SECRET_FORMAT", "the otpauth URI's digits must be 4 to 10");
    }
    if (secretView.length === 0) throw otpbError("INVALID_SECRET_FORMAT", "the otpauth URI has an empty secret");
    const account: TotpAccount = {
      secret: Uint8Array.from(secretView),
      algorithm,
      digits: parsed.digits,
      period: parsed.period,
    };
    if (parsed.issuer) account.issuer = parsed.issuer;
    if (parsed.label) account.label = parsed.label;
    return account;
  } finally {
    secretView.fill(0);
  }
}
