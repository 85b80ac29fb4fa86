/**
 * OTP-applet entry payloads (docs/PROTOCOL.md §4.5), both directions: what the host seals and sends, what
 * the device answers to READ_ALL / READ_ONE, and the device-side readers the emulator uses.
 * Record layout: type(1) alg(1) step(2) digits(1) button(1) appLen(1) app acctLen(1) acct [codeLen(1) code].
 */
import { abytes, aint, aoneOf } from "../lib/checks.js";
import { invalidInput, malformed, hexByte, type WireSide } from "./_errors.js";
import { asciiName, ENUM_READ_ALL, ENUM_READ_ONE } from "./otp-applet.js";

export type OtpEntryType = "HOTP" | "TOTP";
export type OtpAlgorithm = "SHA1" | "SHA256";

/** The public parameters of an entry. */
export interface OtpEntryParams {
  type: OtpEntryType;
  algorithm: OtpAlgorithm;
  /** Time step in seconds (TOTP 1..65535; HOTP entries carry 0). */
  period: number;
  /** 4..10. */
  digits: number;
  buttonRequired: boolean;
  /** Issuer, 0..64 ASCII characters. */
  app: string;
  /** Account, 1..64 ASCII characters. */
  account: string;
}

/** An entry to write: parameters and the raw seed (1..64 bytes). */
export interface OtpEntryWrite extends OtpEntryParams {
  seed: Uint8Array;
}

/** An entry as READ_ALL / READ_ONE report it: parameters and the code, if the device sent one. */
export interface OtpEntryRecord extends OtpEntryParams {
  code: string | null;
}

const TYPE_BYTE: Record<OtpEntryType, number> = { HOTP: 0x00, TOTP: 0x01 };
const ALG_BYTE: Record<OtpAlgorithm, number> = { SHA1: 0xc1, SHA256: 0xc2 };

function header(p: OtpEntryParams): number[] {
  aoneOf(p.type, "type", ["HOTP", "TOTP"] as const);
  aoneOf(p.algorithm, "algorithm", ["SHA1", "SHA256"] as const);
  aint(p.period, "period", p.type === "TOTP" ? 1 : 0, 65535);
  aint(p.digits, "digits", 4, 10);
  if (typeof p.buttonRequired !== "boolean") throw invalidInput("buttonRequired must be a boolean");
  return [TYPE_BYTE[p.type], ALG_BYTE[p.algorithm], p.period >>> 8, p.period & 0xff, p.digits, p.buttonRequired ? 1 : 0];
}

function withNames(head: number[], app: string, account: string, tail: number[] | Uint8Array): Uint8Array {
  const a = asciiName(app, "app", 0);
  const b = asciiName(account, "account", 1);
  return Uint8Array.from([...head, a.length, ...a, b.length, ...b, ...tail]);
}

/**
 * The write cleartext (to seal with IV-1 and send with WRITE_SEED). Writing an existing
 * (app, account) pair replaces it.
 * @throws TypeError/RangeError (INVALID_INPUT) on any field out of range (seed 1..64 bytes).
 * @example encodeEntryWrite({ type: "TOTP", algorithm: "SHA1", period: 30, digits: 6, buttonRequired: false, app: "Test", account: "alice", seed }) // vector O2
 */
export function encodeEntryWrite(entry: OtpEntryWrite): Uint8Array {
  abytes(entry.seed, "seed", { min: 1, max: 64 });
  return withNames(header(entry), entry.app, entry.account, [entry.seed.length, ...entry.seed]);
}

/**
 * The delete cleartext: six zero bytes, the names, seed length 0 (vector O3).
 * @throws RangeError (INVALID_INPUT) on names out of range.
 */
export function encodeEntryDelete(app: string, account: string): Uint8Array {
  return withNames([0, 0, 0, 0, 0, 0], app, account, [0]);
}

/**
 * Button-HOTP slot cleartext `digits ‖ seedLen ‖ seed` (seal with IV-2), or `00 00` to clear (§4.5).
 * @throws RangeError (INVALID_INPUT) on digits other than 6/8 or a seed outside 1..64 bytes.
 */
export function encodeHotpSlot(slot: { digits: 6 | 8; seed: Uint8Array } | null): Uint8Array {
  if (slot === null) return new Uint8Array(2);
  aoneOf(slot.digits, "digits", [6, 8] as const);
  abytes(slot.seed, "seed", { min: 1, max: 64 });
  return Uint8Array.from([slot.digits, slot.seed.length, ...slot.seed]);
}

/** A cursor over untrusted bytes: every read checks bounds and names its field. */
class Reader {
  i = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly side: WireSide,
    public what: string,
  ) {}
  get left(): number {
    return this.bytes.length - this.i;
  }
  byte(field: string): number {
    if (this.i >= this.bytes.length) throw malformed(this.side, `${this.what} ${field}`, "1 byte", "end of data");
    return this.bytes[this.i++]!;
  }
  take(n: number, field: string): Uint8Array {
    if (this.i + n > this.bytes.length) throw malformed(this.side, `${this.what} ${field}`, `${n} bytes`, this.left);
    const out = this.bytes.slice(this.i, this.i + n);
    this.i += n;
    return out;
  }
  name(field: string, min: number): string {
    const n = this.byte(`${field} length`);
    if (n < min || n > 64) throw malformed(this.side, `${this.what} ${field} length`, `${min}..64`, n);
    const raw = this.take(n, field);
    if (raw.some((c) => c < 0x20 || c > 0x7e)) throw malformed(this.side, `${this.what} ${field}`, "printable ASCII");
    return String.fromCharCode(...raw);
  }
}

function readParams(r: Reader, typeByte: number): OtpEntryParams {
  if (typeByte > 1) throw malformed(r.side, `${r.what} type`, "00 (HOTP) or 01 (TOTP)", hexByte(typeByte));
  const alg = r.byte("algorithm");
  if (alg !== 0xc1 && alg !== 0xc2) throw malformed(r.side, `${r.what} algorithm`, "C1 or C2", hexByte(alg));
  const period = (r.byte("step") << 8) | r.byte("step");
  if (typeByte === 1 && period === 0) throw malformed(r.side, `${r.what} step`, "1..65535 for TOTP", 0);
  const digits = r.byte("digits");
  if (digits < 4 || digits > 10) throw malformed(r.side, `${r.what} digits`, "4..10", digits);
  const button = r.byte("button");
  if (button > 1) throw malformed(r.side, `${r.what} button`, "00 or 01", hexByte(button));
  const app = r.name("app", 0);
  const account = r.name("account", 1);
  return {
    type: typeByte === 1 ? "TOTP" : "HOTP",
    algorithm: alg === 0xc1 ? "SHA1" : "SHA256",
    period,
    digits,
    buttonRequired: button === 1,
    app,
    account,
  };
}

function readCode(r: Reader): string {
  const n = r.byte("code length");
  if (n < 1 || n > 10) throw malformed(r.side, `${r.what} code length`, "1..10", n);
  const raw = r.take(n, "code");
  if (raw.some((c) => c < 0x30 || c > 0x39)) throw malformed(r.side, `${r.what} code`, "ASCII digits");
  return String.fromCharCode(...raw);
}

/**
 * Parses a READ_ALL / CONTINUE page. Bit 7 of byte 0 means more pages; the code is present only for
 * TOTP entries without button (§4.5: getting this wrong desynchronises the page). An empty page is
 * zero entries.
 * @throws OtpbridgeError MALFORMED_RESPONSE naming the record and field.
 */
export function parseEntryPage(page: Uint8Array): { records: OtpEntryRecord[]; morePages: boolean } {
  abytes(page, "page");
  if (page.length === 0) return { records: [], morePages: false };
  const morePages = (page[0]! & 0x80) !== 0;
  const bytes = page.slice();
  bytes[0] = bytes[0]! & 0x7f;
  const records: OtpEntryRecord[] = [];
  const r = new Reader(bytes, "response", "record 0");
  while (r.left > 0) {
    r.what = `record ${records.length}`;
    const params = readParams(r, r.byte("type"));
    const hasCode = params.type === "TOTP" && !params.buttonRequired;
    records.push({ ...params, code: hasCode ? readCode(r) : null });
  }
  return { records, morePages };
}

/**
 * Parses a READ_ONE answer: one record that always carries its code (§4.5).
 * @throws OtpbridgeError MALFORMED_RESPONSE on a malformed or trailing-byte record.
 */
export function parseEntryRecord(data: Uint8Array): OtpEntryRecord {
  abytes(data, "data");
  const r = new Reader(data, "response", "READ_ONE record");
  const params = readParams(r, r.byte("type"));
  const code = readCode(r);
  if (r.left !== 0) throw malformed("response", "READ_ONE record", "no bytes after the code", r.left);
  return { ...params, code };
}

// ---- device side (emulator) ----

/** What a WRITE_SEED cleartext asks for. */
export type EntryCommand = { kind: "write"; entry: OtpEntryWrite } | { kind: "delete"; app: string; account: string };

/**
 * Device side: reads a WRITE_SEED cleartext (write or delete).
 * @throws OtpbridgeError MALFORMED_COMMAND naming the field.
 */
export function decodeEntryCommand(cleartext: Uint8Array): EntryCommand {
  const r = new Reader(cleartext, "command", "entry");
  const head = r.take(6, "header");
  if (head.every((b) => b === 0)) {
    const app = r.name("app", 0);
    const account = r.name("account", 1);
    const seedLen = r.byte("seed length");
    if (seedLen === 0 && r.left === 0) return { kind: "delete", app, account };
    throw malformed("command", "entry", "a delete (zero header, seed length 00, nothing after)");
  }
  r.i = 0;
  const params = readParams(r, r.byte("type"));
  const n = r.byte("seed length");
  if (n < 1 || n > 64) throw malformed("command", "entry seed length", "1..64", n);
  const seed = r.take(n, "seed");
  if (r.left !== 0) throw malformed("command", "entry", "no bytes after the seed", r.left);
  return { kind: "write", entry: { ...params, seed } };
}

/**
 * Device side: reads a button-HOTP slot cleartext; null means "clear" (`00 00`).
 * @throws OtpbridgeError MALFORMED_COMMAND.
 */
export function decodeHotpSlot(cleartext: Uint8Array): { digits: 6 | 8; seed: Uint8Array } | null {
  const r = new Reader(cleartext, "command", "HOTP slot");
  const digits = r.byte("digits");
  const n = r.byte("seed length");
  if (digits === 0 && n === 0 && r.left === 0) return null;
  if (digits !== 6 && digits !== 8) throw malformed("command", "HOTP slot digits", "06 or 08", digits);
  if (n < 1 || n > 64) throw malformed("command", "HOTP slot seed length", "1..64", n);
  const seed = r.take(n, "seed");
  if (r.left !== 0) throw malformed("command", "HOTP slot", "no bytes after the seed", r.left);
  return { digits, seed };
}

/** An ENUM_CODES request as the device reads it; the timestamp is a u64 (bigint). */
export type EnumRequest = { kind: "all"; timestamp: bigint } | { kind: "one"; timestamp: bigint; app: string; account: string };

/**
 * Device side: reads the ENUM_CODES body (`03 ‖ u64` or `01 ‖ u64 ‖ names`).
 * @throws OtpbridgeError MALFORMED_COMMAND.
 */
export function decodeEnumRequest(body: Uint8Array): EnumRequest {
  const r = new Reader(body, "command", "ENUM_CODES");
  const sub = r.byte("sub-command");
  const timestamp = new DataView(r.take(8, "timestamp").buffer).getBigUint64(0);
  if (sub === ENUM_READ_ALL && r.left === 0) return { kind: "all", timestamp };
  if (sub !== ENUM_READ_ONE) throw malformed("command", "ENUM_CODES sub-command", "01 or 03 (with nothing after the timestamp)", hexByte(sub));
  const app = r.name("app", 0);
  const account = r.name("account", 1);
  if (r.left !== 0) throw malformed("command", "ENUM_CODES", "no bytes after the account", r.left);
  return { kind: "one", timestamp, app, account };
}

/**
 * Device side: one record, with `code` appended if given (READ_ALL decides by type and button,
 * READ_ONE always sends it). Inputs come from the emulator's own validated state.
 */
export function encodeEntryRecord(params: OtpEntryParams, code: string | null): Uint8Array {
  const head = header(params);
  const tail = code === null ? [] : [code.length, ...Array.from(code, (c) => c.charCodeAt(0))];
  return withNames(head, params.app, params.account, tail);
}
