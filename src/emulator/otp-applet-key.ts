/**
 * Device side of the OTP applet of a Token2 FIDO key (docs/PROTOCOL.md §4, emulator notes §4.12 [EMU]).
 * No device code is public: behaviour follows keyroost's host and the spec's recommendations.
 * APDU level here (PC/SC after SELECT, or HID frames through OtpAppletHidDevice).
 */
import { abytes, aint } from "../lib/checks.js";
import { hotp, totp } from "../crypto/index.js";
import { decodeCommandApdu, encodeResponseApdu, type DecodedCommand } from "../protocol/apdu.js";
import { FIDO_AID, INS_GET_SERIAL, IV_HOTP_SEED, IV_WRITE_SEED, OTP_AID, OTP_CMD, TAG_SERIAL } from "../protocol/otp-applet.js";
import { decodeEntryCommand, decodeEnumRequest, decodeHotpSlot, encodeEntryRecord, type OtpEntryParams } from "../protocol/otp-entries.js";
import { p256KeyPair, unseal, type P256KeyPair } from "../protocol/otp-seal.js";
import { SW, swBytes } from "../protocol/status-words.js";
import { buildAtr, constantTimeEqual, systemRng, type Rng } from "./common.js";

export interface OtpAppletKeyOptions {
  /** Device P-256 private scalar (32 bytes); default a fresh key pair, kept for the key's life [EMU]. */
  privateKey?: Uint8Array;
  /** Serial bytes (GET SERIAL answers their hex); default 8 bytes from `rng`. */
  serial?: Uint8Array;
  /** Entries before 6A84; [EMU] default 50. */
  maxEntries?: number;
  /** Page limit in bytes, so the continuation path gets exercised; default 200 (§4.12). */
  pageSize?: number;
  /** "manual": a touch must be armed with touch(); "auto": every touch is granted. Default "manual". */
  touchPolicy?: "manual" | "auto";
  /** False for models without the button-HOTP slot (6A86, §4.5). Default true. */
  hotpSlotSupported?: boolean;
  rng?: Rng;
}

interface StoredEntry {
  params: OtpEntryParams;
  seed: Uint8Array;
  /** HOTP counter, counted per entry [EMU: not specified]. */
  counter: number;
}

/** Snapshot for tests; seeds are copies. */
export interface OtpAppletState {
  entries: Array<OtpEntryParams & { seed: Uint8Array; counter: number }>;
  hotpSlot: { digits: number; seed: Uint8Array } | null;
  config: Uint8Array;
  selected: "otp" | "fido" | null;
  touchArmed: boolean;
  publicKey: Uint8Array;
}

const KEY_SEP = "\u0000";
/** READ_CONFIG block size: 10 defined bytes and reserved zeros (§4.7). */
const CONFIG_SIZE = 64;

/**
 * A FIDO key's OTP applet. A VirtualCard (src/transports/types.ts) for PC/SC (SELECT the OTP AID first,
 * §4.10); {@link transmitHid} serves the HID path, where no SELECT is needed.
 */
export class OtpAppletKey {
  readonly atr: Uint8Array = buildAtr(new TextEncoder().encode("T2OTP"));
  private readonly keys: P256KeyPair;
  private readonly serial: Uint8Array;
  private readonly maxEntries: number;
  private readonly pageSize: number;
  private readonly touchPolicy: "manual" | "auto";
  private readonly hotpSupported: boolean;
  private entries = new Map<string, StoredEntry>();
  private hotpSlot: { digits: number; seed: Uint8Array } | null = null;
  private readonly config = new Uint8Array(CONFIG_SIZE);
  private selected: "otp" | "fido" | null = null;
  private touchArmed = false;
  private pages: { timestamp: bigint; rest: Uint8Array[] } | null = null;

  /** @throws TypeError/RangeError (INVALID_INPUT) on bad options. */
  constructor(options: OtpAppletKeyOptions = {}) {
    this.keys = p256KeyPair(options.privateKey);
    const rng = options.rng ?? systemRng;
    this.serial = options.serial?.slice() ?? rng(8);
    abytes(this.serial, "serial", { min: 1, max: 32 });
    this.maxEntries = options.maxEntries ?? 50;
    aint(this.maxEntries, "maxEntries", 1, 1000);
    this.pageSize = options.pageSize ?? 200;
    aint(this.pageSize, "pageSize", 160, 250);
    this.touchPolicy = options.touchPolicy ?? "manual";
    this.hotpSupported = options.hotpSlotSupported ?? true;
    // §4.7: HOTP supported (byte 1 bit 04); FIDO 2.1, TOTP and CCID supported (byte 9) [EMU values].
    this.config[1] = this.hotpSupported ? 0x04 : 0x00;
    this.config.set([0x05, 0x04, 0x03], 6);
    this.config[9] = 0x01 | 0x02 | 0x10 | (this.hotpSupported ? 0 : 0x20);
  }

  /** The device public key X ‖ Y, as GET_ECDH_PUBKEY returns it. */
  get publicKey(): Uint8Array {
    return this.keys.publicKey.slice();
  }

  /** Arms one touch of the key's button: the next command that waits for a touch consumes it. */
  touch(): void {
    this.touchArmed = true;
  }

  /** True if a touch is armed (or the policy grants every touch). */
  get touchAvailable(): boolean {
    return this.touchPolicy === "auto" || this.touchArmed;
  }

  powerOn(): void {
    this.dropVolatile();
  }
  powerOff(): void {
    this.dropVolatile();
  }
  reset(): void {
    this.dropVolatile();
  }

  private dropVolatile(): void {
    this.selected = null;
    this.pages = null;
    this.touchArmed = false;
  }

  /** Inspection for tests. */
  state(): OtpAppletState {
    return {
      entries: [...this.entries.values()].map((e) => ({ ...e.params, seed: e.seed.slice(), counter: e.counter })),
      hotpSlot: this.hotpSlot && { digits: this.hotpSlot.digits, seed: this.hotpSlot.seed.slice() },
      config: this.config.slice(),
      selected: this.selected,
      touchArmed: this.touchArmed,
      publicKey: this.publicKey,
    };
  }

  /** PC/SC: the OTP commands need the OTP applet selected; GET SERIAL needs the FIDO one (§4.8). */
  transmit(apdu: Uint8Array): Uint8Array {
    abytes(apdu, "apdu");
    return this.process(apdu, false);
  }

  /** HID: the frames reach the applet directly (§4.9); no SELECT state is involved. */
  transmitHid(apdu: Uint8Array): Uint8Array {
    abytes(apdu, "apdu");
    return this.process(apdu, true);
  }

  /**
   * True if the device would wait for a touch before answering (ERASE ALL; READ_ONE of a
   * button-required entry, §4.12). The HID side uses it to emit busy frames.
   */
  needsTouch(apdu: Uint8Array, viaHid: boolean): boolean {
    let cmd: DecodedCommand;
    try {
      cmd = decodeCommandApdu(apdu);
    } catch {
      return false;
    }
    if (cmd.cla !== 0x80 || cmd.ins !== 0xc5 || (!viaHid && this.selected !== "otp")) return false;
    const p1p2 = (cmd.p1 << 8) | cmd.p2;
    if (p1p2 === OTP_CMD.WRITE_SEED) return cmd.data.length === 0;
    if (p1p2 !== OTP_CMD.ENUM_CODES) return false;
    try {
      const req = decodeEnumRequest(cmd.data);
      return req.kind === "one" && this.entries.get(req.app + KEY_SEP + req.account)?.params.buttonRequired === true;
    } catch {
      return false;
    }
  }

  private process(apdu: Uint8Array, viaHid: boolean): Uint8Array {
    const touch = this.needsTouch(apdu, viaHid);
    if (touch && !this.touchAvailable) return swBytes(SW.BUTTON_TIMEOUT);
    if (touch) this.touchArmed = false;
    let cmd: DecodedCommand;
    try {
      cmd = decodeCommandApdu(apdu);
    } catch {
      return swBytes(SW.WRONG_LENGTH);
    }
    if (cmd.cla === 0x00) return cmd.ins === 0xa4 ? this.select(cmd) : swBytes(SW.INS_NOT_SUPPORTED);
    if (cmd.cla !== 0x80) return swBytes(SW.CLA_NOT_SUPPORTED);
    if (cmd.ins === INS_GET_SERIAL) return this.getSerial(cmd, viaHid);
    if (cmd.ins !== 0xc5) return swBytes(SW.INS_NOT_SUPPORTED);
    if (!viaHid && this.selected !== "otp") return swBytes(SW.INCORRECT_P1_P2);
    return this.otpCommand(cmd);
  }

  /** SELECT by AID; an unknown AID is "function not supported" [EMU]. */
  private select(cmd: DecodedCommand): Uint8Array {
    if (cmd.p1 !== 0x04) return swBytes(SW.INCORRECT_P1_P2);
    if (constantTimeEqual(cmd.data, OTP_AID)) this.selected = "otp";
    else if (constantTimeEqual(cmd.data, FIDO_AID)) this.selected = "fido";
    else return swBytes(SW.FUNCTION_NOT_SUPPORTED);
    this.pages = null;
    return swBytes(SW.OK);
  }

  /** §4.8: `D1 len ‖ ASCII hex`; over PC/SC only with the FIDO applet selected. */
  private getSerial(cmd: DecodedCommand, viaHid: boolean): Uint8Array {
    if (!viaHid && this.selected !== "fido") return swBytes(SW.INCORRECT_P1_P2);
    if (cmd.data[0] !== TAG_SERIAL) return swBytes(SW.WRONG_DATA);
    const text = Buffer.from(this.serial).toString("hex").toUpperCase();
    return encodeResponseApdu(Uint8Array.from([TAG_SERIAL, text.length, ...Buffer.from(text, "ascii")]), SW.OK);
  }

  private otpCommand(cmd: DecodedCommand): Uint8Array {
    const p1p2 = (cmd.p1 << 8) | cmd.p2;
    const oneByte = (): number | null => (cmd.data.length === 1 ? cmd.data[0]! : null);
    switch (p1p2) {
      case OTP_CMD.GET_ECDH_PUBKEY:
        // §4.2: without the Le the device answers a stub; here, no data [EMU].
        return encodeResponseApdu(cmd.le === null ? new Uint8Array(0) : this.keys.publicKey, SW.OK);
      case OTP_CMD.READ_CONFIG:
        if (cmd.le === null) return swBytes(SW.WRONG_LENGTH);
        return encodeResponseApdu(this.config.subarray(0, Math.min(cmd.le, CONFIG_SIZE)), SW.OK);
      case OTP_CMD.SET_DEVICE_TYPE: {
        // §4.6: the firmware accepts even the all-disabled mask; the host refuses it.
        const mask = oneByte();
        if (mask === null) return swBytes(SW.WRONG_LENGTH);
        this.config[0] = mask & 0x07;
        return swBytes(SW.OK);
      }
      case OTP_CMD.CFG_HOTP_ENTER:
        return this.setBit(oneByte(), 1, 0x01);
      case OTP_CMD.CFG_HOTP_TOUCH:
        return this.setBit(oneByte(), 1, 0x20);
      case OTP_CMD.ENABLE_TOTP:
        return this.setBit(oneByte(), 9, 0x01);
      case OTP_CMD.CFG_HOTP_KBD_TYPE:
        return this.setBit(oneByte(), 9, 0x08);
      case OTP_CMD.WRITE_HOTP_SEED:
        return swBytes(this.writeHotpSlot(cmd.data));
      case OTP_CMD.WRITE_SEED:
        return swBytes(cmd.data.length === 0 ? this.eraseAll() : this.writeEntry(cmd.data));
      case OTP_CMD.ENUM_CODES:
        return this.enumCodes(cmd.data);
      case OTP_CMD.ENUM_CODES_CONTINUE:
        return this.continuePage(cmd.data);
      default:
        return swBytes(SW.INCORRECT_P1_P2);
    }
  }

  private setBit(value: number | null, byte: number, bit: number): Uint8Array {
    if (value === null) return swBytes(SW.WRONG_LENGTH);
    if (value > 1) return swBytes(SW.WRONG_DATA);
    this.config[byte] = value === 1 ? this.config[byte]! | bit : this.config[byte]! & ~bit;
    return swBytes(SW.OK);
  }

  private open(blob: Uint8Array, iv: Uint8Array): Uint8Array | null {
    try {
      return unseal(this.keys.privateKey, blob, iv);
    } catch {
      return null;
    }
  }

  private writeHotpSlot(blob: Uint8Array): number {
    if (!this.hotpSupported) return SW.INCORRECT_P1_P2;
    const clear = this.open(blob, IV_HOTP_SEED);
    if (clear === null) return SW.WRONG_DATA;
    let slot: ReturnType<typeof decodeHotpSlot>;
    try {
      slot = decodeHotpSlot(clear);
    } catch {
      return SW.WRONG_DATA;
    } finally {
      clear.fill(0);
    }
    this.hotpSlot?.seed.fill(0);
    this.hotpSlot = slot;
    this.config[1] = slot === null ? this.config[1]! & 0x7f : this.config[1]! | 0x80;
    return SW.OK;
  }

  private writeEntry(blob: Uint8Array): number {
    const clear = this.open(blob, IV_WRITE_SEED);
    if (clear === null) return SW.WRONG_DATA;
    let command: ReturnType<typeof decodeEntryCommand>;
    try {
      command = decodeEntryCommand(clear);
    } catch {
      return SW.WRONG_DATA;
    } finally {
      clear.fill(0);
    }
    this.pages = null;
    if (command.kind === "delete") {
      const id = command.app + KEY_SEP + command.account;
      const old = this.entries.get(id);
      if (old === undefined) return SW.RECORD_NOT_FOUND;
      old.seed.fill(0);
      this.entries.delete(id);
      return SW.OK;
    }
    const { seed, ...params } = command.entry;
    const id = params.app + KEY_SEP + params.account;
    const old = this.entries.get(id);
    if (old === undefined && this.entries.size >= this.maxEntries) {
      seed.fill(0);
      return SW.NOT_ENOUGH_MEMORY;
    }
    old?.seed.fill(0);
    this.entries.set(id, { params, seed, counter: 0 });
    return SW.OK;
  }

  private eraseAll(): number {
    for (const entry of this.entries.values()) entry.seed.fill(0);
    this.entries = new Map();
    this.pages = null;
    return SW.OK;
  }

  private codeOf(entry: StoredEntry, timestamp: number): string {
    const alg = entry.params.algorithm;
    if (entry.params.type === "TOTP") return totp(alg, entry.seed, { time: timestamp, period: entry.params.period, digits: entry.params.digits });
    return hotp(alg, entry.seed, entry.counter++, entry.params.digits);
  }

  /** READ_ALL computes codes for the host's timestamp (§4.12) and pages them; READ_ONE always adds the code. */
  private enumCodes(body: Uint8Array): Uint8Array {
    let req: ReturnType<typeof decodeEnumRequest>;
    try {
      req = decodeEnumRequest(body);
    } catch {
      return swBytes(SW.WRONG_DATA);
    }
    if (req.timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return swBytes(SW.WRONG_DATA);
    const time = Number(req.timestamp);
    if (req.kind === "one") {
      const entry = this.entries.get(req.app + KEY_SEP + req.account);
      if (entry === undefined) return swBytes(SW.RECORD_NOT_FOUND);
      return encodeResponseApdu(encodeEntryRecord(entry.params, this.codeOf(entry, time)), SW.OK);
    }
    if (this.entries.size === 0) return swBytes(SW.RECORD_NOT_FOUND);
    const pages: number[][] = [[]];
    for (const entry of this.entries.values()) {
      const withCode = entry.params.type === "TOTP" && !entry.params.buttonRequired;
      const record = encodeEntryRecord(entry.params, withCode ? this.codeOf(entry, time) : null);
      const page = pages[pages.length - 1]!;
      if (page.length > 0 && page.length + record.length > this.pageSize) pages.push([...record]);
      else page.push(...record);
    }
    const encoded = pages.map((p, i) => {
      const bytes = Uint8Array.from(p);
      if (i < pages.length - 1) bytes[0] = bytes[0]! | 0x80;
      return bytes;
    });
    this.pages = { timestamp: req.timestamp, rest: encoded.slice(1) };
    return this.nextPage(encoded[0]!);
  }

  private continuePage(body: Uint8Array): Uint8Array {
    if (body.length !== 8 || this.pages === null || this.pages.rest.length === 0) return swBytes(SW.WRONG_DATA);
    if (new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0) !== this.pages.timestamp) return swBytes(SW.WRONG_DATA);
    return this.nextPage(this.pages.rest.shift()!);
  }

  private nextPage(page: Uint8Array): Uint8Array {
    if (this.pages !== null && this.pages.rest.length === 0) this.pages = null;
    return encodeResponseApdu(page, SW.OK);
  }
}
