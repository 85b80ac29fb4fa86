/**
 * Google Authenticator "Transfer accounts" exports: `otpauth-migration://offline?data=BASE64`, where
 * the data is a protobuf `MigrationPayload`. The schema below is written from the publicly known
 * field layout (message and enum numbers); decoding is done by protobufjs.
 *
 * Google Authenticator has no period field: every exported TOTP account uses 30 s. Large exports are
 * split over several QR codes (batch_size / batch_index); each one is decoded on its own.
 */
import { createRequire } from "node:module";
import type protobuf from "protobufjs";
import { otpbError } from "../lib/errors.js";
import type { HashAlgorithm } from "../crypto/hash.js";
import type { TotpAccount } from "./secret.js";

const SCHEMA = `
syntax = "proto3";
message MigrationPayload {
  enum Algorithm { ALGORITHM_UNSPECIFIED = 0; SHA1 = 1; SHA256 = 2; SHA512 = 3; MD5 = 4; }
  enum DigitCount { DIGIT_COUNT_UNSPECIFIED = 0; SIX = 1; EIGHT = 2; }
  enum OtpType { OTP_TYPE_UNSPECIFIED = 0; HOTP = 1; TOTP = 2; }
  message OtpParameters {
    bytes secret = 1;
    string name = 2;
    string issuer = 3;
    Algorithm algorithm = 4;
    DigitCount digits = 5;
    OtpType type = 6;
    int64 counter = 7;
  }
  repeated OtpParameters otp_parameters = 1;
  int32 version = 2;
  int32 batch_size = 3;
  int32 batch_index = 4;
  int32 batch_id = 5;
}`;

/** Google Authenticator exports carry no period; its TOTP accounts are all 30 s. */
const GOOGLE_PERIOD = 30;
/** A QR code holds at most ~3 KB; refuse anything far larger before decoding it. */
const MAX_DATA_CHARS = 8192;

// protobufjs takes tens of milliseconds to load: it is loaded when a migration export is read, not at start.
const require = createRequire(import.meta.url);

let payloadType: protobuf.Type | undefined;
function migrationType(): protobuf.Type {
  payloadType ??= (require("protobufjs") as typeof protobuf).parse(SCHEMA, { keepCase: true }).root.lookupType("MigrationPayload");
  return payloadType;
}

/** An account of the export that cannot go onto a TOTP token, and why (names are not secret). */
export interface SkippedAccount {
  /** 0-based position in this QR code's payload. */
  index: number;
  name: string;
  issuer?: string;
  reason: "hotp" | "unknown-type" | "unsupported-algorithm" | "empty-secret";
}

export interface MigrationBatch {
  accounts: TotpAccount[];
  skipped: SkippedAccount[];
  /** Which QR code of a multi-code export this was (1-based), when the export says. */
  part?: { index: number; count: number };
}

interface RawParameters {
  secret?: Uint8Array;
  name?: string;
  issuer?: string;
  algorithm?: number;
  digits?: number;
  type?: number;
}

const ALGORITHMS: Record<number, HashAlgorithm | undefined> = { 0: "SHA1", 1: "SHA1", 2: "SHA256", 3: "SHA512" };
const DIGITS: Record<number, number | undefined> = { 0: 6, 1: 6, 2: 8 };

/**
 * Decodes an `otpauth-migration://offline?data=...` URI into its TOTP accounts. HOTP accounts, MD5
 * accounts and accounts of unstated type are listed in `skipped` rather than guessed.
 * The caller owns the returned secrets and zeroes them after use.
 * @throws OtpbridgeError INVALID_SECRET_FORMAT when the URI, its base64 or its protobuf is malformed.
 */
export function decodeMigrationUri(uri: string): MigrationBatch {
  const data = migrationData(uri.trim());
  let bytes: Buffer | undefined;
  try {
    bytes = Buffer.from(data, "base64");
    let message: RawPayload;
    try {
      message = migrationType().toObject(migrationType().decode(bytes), { defaults: false }) as RawPayload;
    } catch (error) {
      // protobufjs messages name wire types and offsets, never field contents.
      throw otpbError("INVALID_SECRET_FORMAT", `the otpauth-migration payload is not a valid export: ${(error as Error).message}`);
    }
    return toBatch(message);
  } finally {
    // protobufjs hands out `bytes` fields as views into this buffer: zeroing it clears them too.
    bytes?.fill(0);
  }
}

interface RawPayload {
  otp_parameters?: RawParameters[];
  batch_size?: number;
  batch_index?: number;
}

function migrationData(uri: string): string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw otpbError("INVALID_SECRET_FORMAT", "the otpauth-migration URI is malformed");
  }
  if (url.protocol !== "otpauth-migration:" || url.host !== "offline") {
    throw otpbError("INVALID_SECRET_FORMAT", "an otpauth-migration URI must start with otpauth-migration://offline?data=");
  }
  // URLSearchParams turns a literal '+' into a space; QR encoders often leave '+' unescaped.
  const raw = url.searchParams.get("data")?.replace(/ /g, "+");
  if (!raw) throw otpbError("INVALID_SECRET_FORMAT", "the otpauth-migration URI has no data parameter");
  if (raw.length > MAX_DATA_CHARS) {
    throw otpbError("INVALID_SECRET_FORMAT", `the otpauth-migration data is ${raw.length} characters; one QR code holds far less`);
  }
  // Standard or URL-safe base64, optional padding: anything else means a damaged copy.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(raw) || raw.replace(/=+$/, "").length % 4 === 1) {
    throw otpbError("INVALID_SECRET_FORMAT", "the otpauth-migration data is not base64 (damaged or truncated copy?)");
  }
  return raw.replace(/-/g, "+").replace(/_/g, "/");
}

function toBatch(message: RawPayload): MigrationBatch {
  const accounts: TotpAccount[] = [];
  const skipped: SkippedAccount[] = [];
  (message.otp_parameters ?? []).forEach((p, index) => {
    const name = p.name ?? "";
    const skip = (reason: SkippedAccount["reason"]): void => {
      skipped.push({ index, name, ...(p.issuer ? { issuer: p.issuer } : {}), reason });
    };
    const algorithm = ALGORITHMS[p.algorithm ?? 0];
    const digits = DIGITS[p.digits ?? 0];
    if (p.type === 1) return skip("hotp");
    if (p.type !== 2) return skip("unknown-type");
    if (algorithm === undefined || digits === undefined) return skip("unsupported-algorithm");
    if (!p.secret || p.secret.length === 0) return skip("empty-secret");
    const account: TotpAccount = { secret: Uint8Array.from(p.secret), algorithm, digits, period: GOOGLE_PERIOD };
    if (p.issuer) account.issuer = p.issuer;
    // Google Authenticator stores "Issuer:account" in name when both are known; keep the account part.
    const label = p.issuer && name.startsWith(`${p.issuer}:`) ? name.slice(p.issuer.length + 1) : name;
    if (label) account.label = label;
    accounts.push(account);
  });
  const batch: MigrationBatch = { accounts, skipped };
  if ((message.batch_size ?? 0) > 1) batch.part = { index: (message.batch_index ?? 0) + 1, count: message.batch_size! };
  return batch;
}

/**
 * Encodes accounts as a migration URI, as Google Authenticator does; used by tests and by anyone
 * moving accounts back to a phone. The caller zeroes the account secrets.
 */
export function encodeMigrationUri(
  accounts: readonly { secret: Uint8Array; name: string; issuer?: string; algorithm?: number; digits?: number; type: number }[],
  part?: { index: number; count: number },
): string {
  const type = migrationType();
  const copies = accounts.map((a) => Buffer.from(a.secret));
  const message = type.fromObject({
    otp_parameters: accounts.map((a, i) => ({ ...a, secret: copies[i] })),
    version: 1,
    batch_size: part?.count ?? 1,
    batch_index: (part?.index ?? 1) - 1,
  });
  const bytes = type.encode(message).finish();
  try {
    return `otpauth-migration://offline?data=${encodeURIComponent(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64"))}`;
  } finally {
    bytes.fill(0);
    for (const copy of copies) copy.fill(0);
  }
}
