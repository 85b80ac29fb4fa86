/**
 * The one classifier for everything an operator scans or pastes as a seed, shared by the CLI, the API
 * and batch import. It accepts otpauth://totp URIs, Google Authenticator otpauth-migration exports,
 * base32 and (only when asked) hex; it recognises the codes people scan by mistake and says what to
 * scan instead.
 */
import { otpbError } from "../lib/errors.js";
import type { HashAlgorithm } from "../crypto/hash.js";
import { checkBurnable, type DeviceCapabilities, type DeviceFamily, type ExportTarget } from "./capabilities.js";
import { decodeMigrationUri, type SkippedAccount } from "./migration.js";
import { parseBase32Secret, parseHexSecret, parseOtpauthUri, type TotpAccount } from "./secret.js";

/** The kinds of wrong code {@link classifySecretInput} recognises (WRONG_CODE_SCANNED detail.scanned). */
export type WrongCode = "hotp" | "phonefactor" | "fido" | "serial-barcode" | "web-link" | "otpauth-other";

export interface ClassifyOptions {
  /** The text is a hex seed (never guessed: many base32 strings look like hex). */
  hex?: boolean;
  /** Parameters for a bare base32/hex seed; defaults SHA1, 6 digits, 30 s. URIs carry their own. */
  defaults?: { algorithm?: HashAlgorithm; digits?: number; period?: number };
  /** When given, every account is checked against this device (and `target`) before it is returned. */
  device?: DeviceCapabilities;
  target?: ExportTarget;
  /** The family the seed is for, when known: the advice for an HOTP code depends on it. */
  family?: DeviceFamily;
}

export interface ClassifiedInput {
  kind: "totp";
  source: "otpauth" | "otpauth-migration" | "base32" | "hex";
  /** The caller owns these secrets and zeroes them after use. */
  accounts: TotpAccount[];
  /** Accounts of a migration export that cannot go onto a TOTP token. */
  skipped: SkippedAccount[];
  /** Part i of n of a multi-QR migration export. */
  part?: { index: number; count: number };
}

/**
 * Token2 serials are digit strings starting 86596 (docs/PROTOCOL.md §2.1; the factory serial is 14 digits).
 * Up to 16 digits, so even with --hex it is at most 8 bytes: below the 10 bytes a real seed has
 * (§2.7 burner rule), so calling it a serial never shadows a plausible hex seed.
 */
const TOKEN2_SERIAL = /^86596\d{2,11}$/;

function refuse(scanned: WrongCode, message: string): never {
  throw otpbError("WRONG_CODE_SCANNED", message, { detail: { scanned } });
}

/**
 * Classifies scanned or pasted text and returns its TOTP accounts.
 * @throws OtpbridgeError WRONG_CODE_SCANNED (detail.scanned says what it was) for an HOTP URI,
 *   a phonefactor:// activation code, a FIDO:/ passkey code, a token's own serial barcode, a web
 *   link, or a migration export holding no TOTP account; INVALID_SECRET_FORMAT for text that is no
 *   seed at all; NOT_BURNABLE when `device` is given and an account does not fit it (or `target`).
 * @example classifySecretInput("JBSW Y3DP EHPK 3PXP").accounts[0].secret.length // 10
 */
export function classifySecretInput(text: string, options: ClassifyOptions = {}): ClassifiedInput {
  const input = text.trim();
  if (input.length === 0) throw otpbError("INVALID_SECRET_FORMAT", "nothing was scanned or pasted");
  recogniseWrongCodes(input, options.family ?? options.device?.family);
  let result: ClassifiedInput;
  if (/^otpauth-migration:/i.test(input)) {
    const batch = decodeMigrationUri(input);
    if (batch.accounts.length === 0) {
      const hotp = batch.skipped.some((s) => s.reason === "hotp");
      refuse(
        hotp ? "hotp" : "otpauth-other",
        `this Google Authenticator export holds no time-based (TOTP) account${hotp ? " (only counter-based HOTP ones)" : ""}; ` +
          "export the TOTP accounts, or scan each site's TOTP setup QR code",
      );
    }
    result = { kind: "totp", source: "otpauth-migration", accounts: batch.accounts, skipped: batch.skipped };
    if (batch.part) result.part = batch.part;
  } else if (/^otpauth:/i.test(input)) {
    result = { kind: "totp", source: "otpauth", accounts: [parseOtpauthUri(input)], skipped: [] };
  } else {
    const secret = options.hex ? parseHexSecret(input) : parseBase32Secret(input);
    const account: TotpAccount = {
      secret,
      algorithm: options.defaults?.algorithm ?? "SHA1",
      digits: options.defaults?.digits ?? 6,
      period: options.defaults?.period ?? 30,
    };
    result = { kind: "totp", source: options.hex ? "hex" : "base32", accounts: [account], skipped: [] };
  }
  if (options.device) checkAll(result.accounts, options.device, options.target);
  return result;
}

/** Refuses, with advice, the codes that are not TOTP seeds but get scanned for one. */
function recogniseWrongCodes(input: string, family: DeviceFamily | undefined): void {
  if (/^otpauth:\/\/hotp\//i.test(input) && family === "otp-applet") {
    // The applet does keep HOTP entries, but they always start at counter 0 (docs/PROTOCOL.md §4.5).
    refuse(
      "hotp",
      "you scanned an otpauth://hotp code; the OTP applet takes HOTP entries as a base32 secret with the HOTP type, " +
        "and starts them at counter 0, so give the secret that way only if the service's counter is 0 too",
    );
  }
  if (/^otpauth:\/\/hotp\//i.test(input)) {
    refuse(
      "hotp",
      "you scanned an otpauth://hotp code: a counter-based (HOTP) account, but these tokens keep time-based codes only; " +
        "ask the service for its authenticator-app QR code of type TOTP (otpauth://totp/...)",
    );
  }
  if (/^otpauth:\/\//i.test(input) && !/^otpauth:\/\/totp\//i.test(input)) {
    refuse("otpauth-other", "this otpauth:// code is neither TOTP nor HOTP; scan the service's TOTP setup QR code (otpauth://totp/...)");
  }
  if (/^phonefactor:\/\//i.test(input)) {
    refuse(
      "phonefactor",
      "you scanned a Microsoft Authenticator activation code (phonefactor://): it registers the phone app for push " +
        "notifications and holds no seed; in Entra ID choose a hardware OATH token, or on the setup page pick " +
        '"use a different authenticator app" to get an otpauth://totp QR code',
    );
  }
  if (/^fido:\//i.test(input)) {
    refuse(
      "fido",
      "you scanned a passkey sign-in code (FIDO:/...), which a browser shows to sign in with a phone; it holds no seed. " +
        "Scan the site's two-factor (authenticator app) setup QR code instead",
    );
  }
  if (/^https?:\/\//i.test(input)) {
    refuse("web-link", "you scanned a web link, not a seed; open it in a browser, then scan the authenticator-app QR code it shows");
  }
  if (TOKEN2_SERIAL.test(input.replace(/\s/g, ""))) {
    refuse(
      "serial-barcode",
      "you scanned a token's serial-number barcode; it identifies the token and holds no seed. Tap the token on the " +
        "reader to burn it, and scan the account's QR code (otpauth://totp/...) or paste its base32 secret as the seed",
    );
  }
}

function checkAll(accounts: TotpAccount[], device: DeviceCapabilities, target?: ExportTarget): void {
  const failing = accounts.map((account, index) => ({ index, account, problems: checkBurnable(account, device, target) })).filter((f) => f.problems.length > 0);
  if (failing.length === 0) return;
  for (const account of accounts) account.secret.fill(0);
  const describe = (f: (typeof failing)[number]): string =>
    `${accounts.length > 1 ? `account ${f.index + 1}${f.account.label ? ` (${f.account.label})` : ""}: ` : ""}${f.problems.map((p) => p.message).join("; ")}`;
  throw otpbError("NOT_BURNABLE", failing.map(describe).join(". "), {
    detail: { family: device.family, ...(target ? { target } : {}), accounts: failing.map((f) => ({ index: f.index, problems: f.problems })) },
  });
}
