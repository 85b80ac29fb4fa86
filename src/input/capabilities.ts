/**
 * What each device family and each export target can hold, checked before the operator is asked to
 * tap a token: a seed that the device or the chosen export would reject is never burned.
 *
 * Device limits come from docs/PROTOCOL.md; export limits from the vendors' import documentation as cited
 * beside each target. Where a limit is not published, the table says what we chose and why.
 */
import { otpbError } from "../lib/errors.js";
import type { HashAlgorithm } from "../crypto/hash.js";
import type { TotpAccount } from "./secret.js";
import type { DeviceFamily } from "../lib/device-family.js";

export type { DeviceFamily };

/** An inclusive range, or an explicit list of allowed values. */
export type Allowed = readonly number[] | { readonly min: number; readonly max: number };

export interface DeviceCapabilities {
  readonly family: DeviceFamily;
  readonly seedBytes: { readonly min: number; readonly max: number };
  readonly algorithms: readonly HashAlgorithm[];
  readonly periods: Allowed;
  readonly digits: Allowed;
  /** Molto2 profile title, in UTF-8 bytes (docs/PROTOCOL.md §3.8). */
  readonly titleBytes?: { readonly min: number; readonly max: number };
  /** OTP applet entry names: ASCII, issuer 0–64 bytes, account 1–64 bytes (docs/PROTOCOL.md §4.5). */
  readonly asciiNames?: { readonly issuerMax: number; readonly accountMin: number; readonly accountMax: number };
  /** The all-zero seed is the Molto2 vendor tool's reserved "clear" value (docs/PROTOCOL.md §3.7). */
  readonly zeroSeedReserved?: boolean;
}

/**
 * Per family. Single-profile models share one table: every model takes the same config TLV and no
 * per-model SHA-256/60 s table is published (docs/PROTOCOL.md §2.1 [UNK]); codes are always 6 digits.
 */
/**
 * What a single-profile token takes (§2.7 seed 1–63 bytes; §2.6 config: SHA-1/SHA-256, 30/60 s;
 * §2.1 always 6 digits): the one place for these limits, which the driver and the front ends read.
 */
export const SINGLE_PROFILE_LIMITS = Object.freeze({
  seedBytes: Object.freeze({ min: 1, max: 63 }),
  algorithms: Object.freeze(["SHA1", "SHA256"] as const),
  periods: Object.freeze([30, 60] as const),
  digits: Object.freeze([6] as const),
});

export const DEVICE_CAPABILITIES: Readonly<Record<DeviceFamily, DeviceCapabilities>> = Object.freeze({
  "single-profile": { family: "single-profile", ...SINGLE_PROFILE_LIMITS },
  // §3.7 seed 1–63; §3.9 config: algorithm 01/02, digits 04/06/08/0A, step 1E/3C; §3.8 title 1–12 bytes.
  molto2: {
    family: "molto2",
    seedBytes: { min: 1, max: 63 },
    algorithms: ["SHA1", "SHA256"],
    periods: [30, 60],
    digits: [4, 6, 8, 10],
    titleBytes: { min: 1, max: 12 },
    zeroSeedReserved: true,
  },
  // §4.5 entry payload: C1/C2, step u16 1–65535, digits 4–10, seed 1–64, ASCII names.
  "otp-applet": {
    family: "otp-applet",
    seedBytes: { min: 1, max: 64 },
    algorithms: ["SHA1", "SHA256"],
    periods: { min: 1, max: 65535 },
    digits: { min: 4, max: 10 },
    asciiNames: { issuerMax: 64, accountMin: 1, accountMax: 64 },
  },
});

export type ExportTarget = "entra-csv" | "graph-json" | "duo" | "pingid" | "privacyidea-csv" | "privacyidea-pskc" | "pskc" | "otpauth";

export const EXPORT_TARGETS: readonly ExportTarget[] = ["entra-csv", "graph-json", "duo", "pingid", "privacyidea-csv", "privacyidea-pskc", "pskc", "otpauth"];

export interface TargetCapabilities {
  readonly target: ExportTarget;
  readonly title: string;
  readonly algorithms: readonly HashAlgorithm[];
  readonly digits: Allowed;
  readonly periods: Allowed;
  /** Largest seed whose base32 form fits the importer's limit, when there is one. */
  readonly maxSeedBytes?: number;
  /** Seed lengths the importer would misread (privacyIDEA guesses the hash from the hex length). */
  readonly forbiddenSeedBytes?: readonly number[];
  /** "upn": the label must be a user principal name; "optional": used when present. */
  readonly label: "upn" | "optional";
  /** Why each limit is what it is, for messages. */
  readonly note: string;
}

/** base32 of n bytes is ceil(8n/5) characters: 128 characters hold at most 80 bytes. */
const ENTRA_MAX_SEED = 80;

export const TARGET_CAPABILITIES: Readonly<Record<ExportTarget, TargetCapabilities>> = Object.freeze({
  // Entra ID hardware OATH CSV: the limits (base32 secret ≤ 128 characters, 6 digits,
  // 30 or 60 s); the CSV has no hash column, so Entra reads every row as SHA-1.
  "entra-csv": {
    target: "entra-csv",
    title: "Entra ID CSV",
    algorithms: ["SHA1"],
    digits: [6],
    periods: [30, 60],
    maxSeedBytes: ENTRA_MAX_SEED,
    label: "upn",
    note: "Entra ID CSV rows are SHA-1, 6 digits, 30 or 60 s, base32 secret of at most 128 characters",
  },
  // Microsoft Graph beta hardwareOathTokenAuthenticationMethodDevice: hashFunction hmacsha1 or
  // hmacsha256, timeIntervalInSeconds, base32 secretKey (learn.microsoft.com, "Create
  // hardwareOathTokenAuthenticationMethodDevice"). No digits property: Entra verifies 6 digits.
  // We apply the CSV's 128-character secret limit to Graph too (not stated there).
  "graph-json": {
    target: "graph-json",
    title: "Microsoft Graph hardware OATH JSON",
    algorithms: ["SHA1", "SHA256"],
    digits: [6],
    periods: [30, 60],
    maxSeedBytes: ENTRA_MAX_SEED,
    label: "optional",
    note: "Graph hardware OATH tokens are SHA-1 or SHA-256, 6 digits, 30 or 60 s",
  },
  // Duo "Import Hardware Tokens": token types HOTP/TOTP 6 or 8 digits (Duo Admin API token types),
  // seeds in hex (token2.com "Using Token2 TOTP hardware tokens with Duo"); Duo lists no SHA-256 type.
  duo: {
    target: "duo",
    title: "Duo hardware token import",
    algorithms: ["SHA1"],
    digits: [6, 8],
    periods: [30, 60],
    label: "optional",
    note: "Duo imports SHA-1 tokens of 6 or 8 digits, 30 or 60 s",
  },
  // PingOne MFA OATH tokens (developer.pingidentity.com "OATH Tokens"): hashAlgorithm HmacSHA1,
  // HmacSHA256 or HmacSHA512; otpLength 6 or 8; totp.timeStep (allowed values not stated: we take 30/60).
  pingid: {
    target: "pingid",
    title: "PingID / PingOne OATH tokens",
    algorithms: ["SHA1", "SHA256", "SHA512"],
    digits: [6, 8],
    periods: [30, 60],
    label: "optional",
    note: "PingOne OATH tokens have 6 or 8 digits; we export 30 or 60 s steps",
  },
  // privacyIDEA OATH CSV `<serial>, <seed hex>, TOTP, <otp length>, <time step>`: the hash is
  // guessed from the seed length (privacyidea.readthedocs.io, Import; importotp.parseOATHcsv takes
  // 32 hex digits as SHA-256, the docs say length decides): only SHA-1 seeds of other lengths are safe.
  "privacyidea-csv": {
    target: "privacyidea-csv",
    title: "privacyIDEA OATH CSV",
    algorithms: ["SHA1"],
    digits: [6, 8],
    periods: [30, 60],
    forbiddenSeedBytes: [16, 32],
    label: "optional",
    note: "privacyIDEA's CSV carries SHA-1 only and guesses SHA-256 from 16- or 32-byte seeds: use privacyidea-pskc",
  },
  // privacyIDEA PSKC import reads ResponseFormat Length, Suite hashalgo and TimeInterval.
  "privacyidea-pskc": {
    target: "privacyidea-pskc",
    title: "privacyIDEA PSKC",
    algorithms: ["SHA1", "SHA256", "SHA512"],
    digits: [6, 8],
    periods: [30, 60],
    label: "optional",
    note: "privacyIDEA TOTP tokens have 6 or 8 digits, 30 or 60 s",
  },
  // RFC 6030 with the TOTP profile: the schema leaves no room for a hash Suite beside
  // ResponseFormat, so the generic PSKC export is SHA-1 (see store/export/pskc.ts).
  pskc: {
    target: "pskc",
    title: "PSKC (RFC 6030)",
    algorithms: ["SHA1"],
    digits: { min: 4, max: 10 },
    periods: { min: 1, max: 86400 },
    label: "optional",
    note: "generic PSKC export carries SHA-1 TOTP",
  },
  otpauth: {
    target: "otpauth",
    title: "otpauth URIs",
    algorithms: ["SHA1", "SHA256", "SHA512"],
    digits: { min: 4, max: 10 },
    periods: { min: 1, max: 86400 },
    label: "optional",
    note: "otpauth URIs carry any TOTP",
  },
});

/** One reason an account cannot be burned as asked. */
export interface BurnProblem {
  field: "seed" | "algorithm" | "period" | "digits" | "title" | "label" | "issuer";
  /** Who would reject it: the device, or the chosen export target. */
  by: "device" | "target";
  message: string;
}

/** The account as it would be burned; `title` is the Molto2 profile title when one is set. */
export type BurnCandidate = Pick<TotpAccount, "secret" | "algorithm" | "digits" | "period" | "issuer" | "label"> & {
  title?: string;
};

/** True when `value` is allowed. */
export function allows(allowed: Allowed, value: number): boolean {
  return Array.isArray(allowed)
    ? (allowed as readonly number[]).includes(value)
    : Number.isInteger(value) && value >= (allowed as { min: number }).min && value <= (allowed as { max: number }).max;
}

/** "30 or 60", "4 to 10". */
export function describeAllowed(allowed: Allowed): string {
  if (!Array.isArray(allowed)) {
    const range = allowed as { min: number; max: number };
    return `${range.min} to ${range.max}`;
  }
  const list = allowed as readonly number[];
  return list.length === 1 ? String(list[0]) : `${list.slice(0, -1).join(", ")} or ${list[list.length - 1]}`;
}

/**
 * The form of an Entra ID user principal name: a local part of A-Z a-z 0-9 and ' . - _ ! # ^ ~ (at
 * most 64 characters, Microsoft's UPN character rules), "@", a DNS domain with at least one dot.
 */
export const UPN_PATTERN = /^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/**
 * Every problem that would stop `account` from being burned onto a `device` token and, when given,
 * exported to `target`. An empty list means go ahead. Never reads the seed's content beyond its
 * length (and, for the Molto2, whether it is all zero).
 * @example checkBurnable(account, DEVICE_CAPABILITIES["single-profile"], "entra-csv")
 */
export function checkBurnable(account: BurnCandidate, device: DeviceCapabilities, target?: ExportTarget): BurnProblem[] {
  const problems: BurnProblem[] = [];
  const add = (field: BurnProblem["field"], by: BurnProblem["by"], message: string): void => {
    problems.push({ field, by, message });
  };
  const family = device.family;
  const seedLength = account.secret.length;
  if (seedLength < device.seedBytes.min || seedLength > device.seedBytes.max) {
    add("seed", "device", `the seed is ${seedLength} bytes; ${family} tokens hold ${device.seedBytes.min} to ${device.seedBytes.max}`);
  }
  if (device.zeroSeedReserved && seedLength > 0 && account.secret.every((b) => b === 0)) {
    add("seed", "device", `an all-zero seed is the ${family} "clear" value, not a seed`);
  }
  if (!device.algorithms.includes(account.algorithm)) {
    add("algorithm", "device", `${family} tokens compute ${device.algorithms.join(" or ")}, not ${account.algorithm}`);
  }
  if (!allows(device.periods, account.period)) {
    add("period", "device", `${family} tokens step every ${describeAllowed(device.periods)} s, not ${account.period} s`);
  }
  if (!allows(device.digits, account.digits)) {
    add("digits", "device", `${family} tokens show ${describeAllowed(device.digits)} digits, not ${account.digits}`);
  }
  if (device.titleBytes && account.title !== undefined) {
    const bytes = Buffer.byteLength(account.title, "utf8");
    if (bytes < device.titleBytes.min || bytes > device.titleBytes.max) {
      add("title", "device", `the title is ${bytes} UTF-8 bytes; a ${family} title is ${device.titleBytes.min} to ${device.titleBytes.max}`);
    }
  }
  if (device.asciiNames) checkAsciiNames(account, device.asciiNames, add);
  if (target !== undefined) problems.push(...checkExportable(account, target));
  return problems;
}

/**
 * The problems the export `target` alone has with an account (the linter's item check).
 * @example checkExportable(account, "duo").map((p) => p.message)
 */
export function checkExportable(account: BurnCandidate, target: ExportTarget): BurnProblem[] {
  const problems: BurnProblem[] = [];
  checkTarget(account, TARGET_CAPABILITIES[target], (field, by, message) => problems.push({ field, by, message }));
  return problems;
}

function checkAsciiNames(
  account: BurnCandidate,
  limits: NonNullable<DeviceCapabilities["asciiNames"]>,
  add: (field: BurnProblem["field"], by: BurnProblem["by"], message: string) => void,
): void {
  const issuer = account.issuer ?? "";
  const label = account.label ?? "";
  // eslint-disable-next-line no-control-regex
  const ascii = /^[\x20-\x7e]*$/;
  if (!ascii.test(issuer) || issuer.length > limits.issuerMax) {
    add("issuer", "device", `the issuer must be printable ASCII of at most ${limits.issuerMax} characters on the OTP applet`);
  }
  if (!ascii.test(label) || label.length < limits.accountMin || label.length > limits.accountMax) {
    add("label", "device", `the account name must be printable ASCII of ${limits.accountMin} to ${limits.accountMax} characters on the OTP applet`);
  }
}

function checkTarget(account: BurnCandidate, t: TargetCapabilities, add: (field: BurnProblem["field"], by: BurnProblem["by"], message: string) => void): void {
  const seedLength = account.secret.length;
  if (t.maxSeedBytes !== undefined && seedLength > t.maxSeedBytes) {
    add(
      "seed",
      "target",
      `the seed is ${seedLength} bytes; ${t.title} takes at most ${t.maxSeedBytes} (${Math.ceil((t.maxSeedBytes * 8) / 5)} base32 characters)`,
    );
  }
  if (t.forbiddenSeedBytes?.includes(seedLength)) {
    add("seed", "target", `a ${seedLength}-byte seed would be read as another hash by ${t.title}: ${t.note}`);
  }
  if (!t.algorithms.includes(account.algorithm)) {
    add("algorithm", "target", `${t.title} takes ${t.algorithms.join(" or ")}, not ${account.algorithm}`);
  }
  if (!allows(t.digits, account.digits)) {
    add("digits", "target", `${t.title} takes ${describeAllowed(t.digits)} digits, not ${account.digits}`);
  }
  if (!allows(t.periods, account.period)) {
    add("period", "target", `${t.title} takes ${describeAllowed(t.periods)} s steps, not ${account.period} s`);
  }
  if (t.label === "upn" && !UPN_PATTERN.test(account.label ?? "")) {
    add("label", "target", account.label ? `${t.title} needs a UPN (user@domain) as the label` : `${t.title} needs a UPN (user@domain) for every token`);
  }
}

/**
 * {@link checkBurnable} for code paths about to burn: throws when anything is wrong.
 * @throws OtpbridgeError NOT_BURNABLE, the message listing every problem, detail.problems the list.
 */
export function assertBurnable(account: BurnCandidate, device: DeviceCapabilities, target?: ExportTarget): void {
  const problems = checkBurnable(account, device, target);
  if (problems.length > 0) {
    throw otpbError("NOT_BURNABLE", `not burned: ${problems.map((p) => p.message).join("; ")}`, {
      detail: { problems, family: device.family, ...(target ? { target } : {}) },
    });
  }
}
