/**
 * The OTP-applet driver of Token2 FIDO keys (PIN+ / T2F2, docs/PROTOCOL.md §4): list, add (ECDH-sealed),
 * delete, compute codes, read settings and the serial, over one APDU channel that is either PC/SC
 * (SELECT the OTP AID first, T=0 continuations handled, §4.1, §4.10) or the HID vendor frames
 * (src/drivers/hid-apdu.ts, §4.9). Seeds are sealed to a device key fetched before EVERY seal (§4.4).
 */
import { otpbError } from "../lib/errors.js";
import { decodeResponseApdu, type ResponseApdu } from "../protocol/apdu.js";
import {
  FIDO_AID,
  IV_WRITE_SEED,
  OTP_AID,
  continueApdu,
  getEcdhPubkeyApdu,
  parseDeviceConfig,
  parseSerialResponse,
  readAllApdu,
  readConfigApdu,
  readOneApdu,
  readSerialApdu,
  sealedWriteApdu,
  selectApdu,
  type OtpDeviceConfig,
} from "../protocol/otp-applet.js";
import { encodeEntryDelete, encodeEntryWrite, parseEntryPage, parseEntryRecord, type OtpEntryRecord, type OtpEntryWrite } from "../protocol/otp-entries.js";
import { seal } from "../protocol/otp-seal.js";
import { describeSw, type SwOperation } from "../protocol/status-messages.js";
import { SW, isSuccess } from "../protocol/status-words.js";
import type { HidTransport } from "../transports/hid-types.js";
import { withT0Continuations } from "../transports/t0.js";
import type { ApduTransport } from "../transports/types.js";
import type { DriverSession } from "./session.js";
import { hidApduChannel, type HidApduOptions } from "./hid-apdu.js";
import { nowSeconds } from "../lib/time.js";

/** How the session reaches the applet: the two differ only in SELECTs (§4.8, §4.10). */
export type OtpAppletLink = "pcsc" | "hid";

/** READ_ALL pages before giving up on a key that never clears the more-pages bit. */
const MAX_PAGES = 256;
/** P-256 public key X ‖ Y, as GET_ECDH_PUBKEY returns it (§4.3). */
const DEVICE_KEY_LENGTH = 64;

/** What an OTP applet session knows at open: the link (the serial takes a command, `serial()`). */
export interface OtpAppletInfo {
  link: OtpAppletLink;
}

/** A session with the OTP applet of one key. Build it with {@link OtpAppletSession.openPcsc} or {@link OtpAppletSession.openHid}. */
export class OtpAppletSession implements DriverSession<OtpAppletInfo> {
  readonly #channel: ApduTransport;
  readonly #link: OtpAppletLink;
  #closed = false;

  private constructor(channel: ApduTransport, link: OtpAppletLink) {
    this.#channel = channel;
    this.#link = link;
  }

  /**
   * Over PC/SC: stacks the T=0 processor (some PIN+ keys answer SELECT with 61XX, §4.1) and SELECTs
   * the OTP applet.
   * @throws OtpbridgeError APPLET_NOT_FOUND if the SELECT fails; what the transport throws.
   * @example const otp = await OtpAppletSession.openPcsc(await pcsc.connect(reader));
   */
  static async openPcsc(transport: ApduTransport): Promise<OtpAppletSession> {
    const session = new OtpAppletSession(withT0Continuations(transport), "pcsc");
    await session.#selectOtp();
    return session;
  }

  /**
   * Over HID: frames reach the applet directly, no SELECT (§4.9).
   * @throws RangeError (INVALID_INPUT) on bad timeouts.
   * @example const otp = OtpAppletSession.openHid(await openHidTransport(path), { onTouch });
   */
  static async openHid(transport: HidTransport, options: HidApduOptions = {}): Promise<OtpAppletSession> {
    return new OtpAppletSession(hidApduChannel(transport, options), "hid");
  }

  get info(): OtpAppletInfo {
    return { link: this.#link };
  }

  /**
   * Every entry, with the codes the key computes for `time` (READ_ALL and its continuation pages,
   * §4.5). Codes are present only for TOTP entries without a button. An empty key is zero entries.
   * @throws OtpbridgeError MALFORMED_RESPONSE, DEVICE_ERROR {sw}; RangeError on a bad time.
   */
  async list(time: number = nowSeconds()): Promise<OtpEntryRecord[]> {
    let response = await this.#send(readAllApdu(time));
    if (response.sw === SW.WRONG_DATA || response.sw === SW.RECORD_NOT_FOUND) return [];
    const records: OtpEntryRecord[] = [];
    for (let page = 0; ; page++) {
      const { data } = this.#expect(response, "list entries", "list");
      const parsed = parseEntryPage(data);
      records.push(...parsed.records);
      if (!parsed.morePages) return records;
      if (page === MAX_PAGES) throw otpbError("MALFORMED_RESPONSE", `the key sent more than ${MAX_PAGES} entry pages`);
      response = await this.#send(continueApdu(time));
    }
  }

  /**
   * Adds (or replaces, §4.5) an entry: fetches the device key, seals the entry with a fresh
   * ephemeral key and IV-1 (§4.4), writes it.
   * @throws OtpbridgeError STORAGE_FULL (6A84), MALFORMED_RESPONSE (bad device key), DEVICE_ERROR;
   *   RangeError/TypeError (INVALID_INPUT) on a bad field, before anything is sent.
   */
  async add(entry: OtpEntryWrite): Promise<void> {
    const cleartext = encodeEntryWrite(entry);
    try {
      await this.#writeSealed(cleartext, `add ${entry.app}/${entry.account}`);
    } finally {
      cleartext.fill(0);
    }
  }

  /**
   * Deletes the entry (app, account): the zero-header delete record, sealed like a write (§4.5, O3).
   * @throws OtpbridgeError ENTRY_NOT_FOUND, DEVICE_ERROR; RangeError (INVALID_INPUT) on bad names.
   */
  async delete(app: string, account: string): Promise<void> {
    await this.#writeSealed(encodeEntryDelete(app, account), `delete ${app}/${account}`, true);
  }

  /**
   * One entry with its code for `time` (READ_ONE, §4.5). For an entry that needs a touch the key
   * waits for it (busy frames over HID: the session's onTouch prompt).
   * @throws OtpbridgeError ENTRY_NOT_FOUND, BUTTON_TIMEOUT (6FF9 or 20 s of busy frames), DEVICE_ERROR.
   */
  async code(app: string, account: string, time: number = nowSeconds()): Promise<OtpEntryRecord & { code: string }> {
    const { data } = this.#expect(await this.#send(readOneApdu(time, app, account)), `code of ${app}/${account}`, "code", true);
    const record = parseEntryRecord(data);
    return { ...record, code: record.code! };
  }

  /**
   * The device-info block (READ_CONFIG, §4.7); over CCID/NFC some firmware sends only byte 0.
   * @throws OtpbridgeError DEVICE_ERROR, MALFORMED_RESPONSE.
   */
  async settings(): Promise<OtpDeviceConfig> {
    const { data } = this.#expect(await this.#send(readConfigApdu(64)), "read settings", "settings");
    return parseDeviceConfig(data);
  }

  /**
   * The key's serial (GET SERIAL on the FIDO applet, §4.8). Over PC/SC: SELECT FIDO (its SW is
   * ignored: some PIN+ keys answer 6A81 yet switch), ask, then SELECT OTP again, or the next OTP
   * command fails with 6A86.
   * @throws OtpbridgeError DEVICE_ERROR, MALFORMED_RESPONSE, APPLET_NOT_FOUND (OTP re-select).
   */
  async serial(): Promise<{ hex: string; bytes: Uint8Array }> {
    if (this.#link === "hid") return parseSerialResponse(this.#expect(await this.#send(readSerialApdu()), "read serial", "serial").data);
    await this.#send(selectApdu(FIDO_AID));
    let response: ResponseApdu;
    try {
      response = await this.#send(readSerialApdu());
    } finally {
      await this.#selectOtp();
    }
    return parseSerialResponse(this.#expect(response, "read serial", "serial").data);
  }

  /** Ends the session (see DriverSession: the HID handle or the reader's connection stays open). */
  async close(): Promise<void> {
    this.#closed = true;
  }

  async #selectOtp(): Promise<void> {
    const { sw } = await this.#send(selectApdu(OTP_AID));
    if (!isSuccess(sw)) {
      throw otpbError("APPLET_NOT_FOUND", `this card has no Token2 OTP applet: SELECT answered that ${describeSw("otp-applet", sw, "select")}`, {
        detail: { sw },
      });
    }
  }

  /** GET_ECDH_PUBKEY, then the sealed WRITE_SEED; a fresh device key for every seal (§4.4). */
  async #writeSealed(cleartext: Uint8Array, operation: string, names = false): Promise<void> {
    const { data: devicePublic } = this.#expect(await this.#send(getEcdhPubkeyApdu()), "get device key", "device-key");
    if (devicePublic.length !== DEVICE_KEY_LENGTH) {
      throw otpbError("MALFORMED_RESPONSE", `device key: expected ${DEVICE_KEY_LENGTH} bytes, got ${devicePublic.length}`);
    }
    const blob = seal(devicePublic, cleartext, IV_WRITE_SEED);
    const apdu = sealedWriteApdu("entry", blob);
    try {
      this.#expect(await this.#send(apdu), operation, names ? "delete" : "add", names);
    } finally {
      blob.fill(0);
      apdu.fill(0);
    }
  }

  async #send(apdu: Uint8Array): Promise<ResponseApdu> {
    if (this.#closed) throw otpbError("TRANSPORT_CLOSED", "the OTP applet session is closed");
    return decodeResponseApdu(await this.#channel.transmit(apdu));
  }

  /**
   * Maps the SWs of §4.11 whose meaning is known; the rest is DEVICE_ERROR with the SW and what it
   * means for `kind` (src/protocol/status-messages.ts).
   */
  #expect(response: ResponseApdu, operation: string, kind: SwOperation<"otp-applet">, names = false): ResponseApdu {
    const { sw } = response;
    if (isSuccess(sw)) return response;
    const detail = { operation, sw };
    // 6A80 / 6A83 mean "entry not found" only for commands that name an entry (§4.11).
    if (names && (sw === SW.WRONG_DATA || sw === SW.RECORD_NOT_FOUND)) {
      throw otpbError("ENTRY_NOT_FOUND", `${operation}: ${describeSw("otp-applet", sw, kind)}`, { detail });
    }
    if (sw === SW.NOT_ENOUGH_MEMORY) throw otpbError("STORAGE_FULL", `${operation}: the key has no room for another entry`, { detail });
    if (sw === SW.BUTTON_TIMEOUT) throw otpbError("BUTTON_TIMEOUT", `${operation}: the key was not touched in time`, { detail });
    throw otpbError("DEVICE_ERROR", `${operation} failed: ${describeSw("otp-applet", sw, kind)}`, { detail });
  }
}
