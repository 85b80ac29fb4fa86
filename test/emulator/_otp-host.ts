/** A minimal host for the OTP-applet tests: seals and sends through any transmit function. */
import { decodeResponseApdu, type ResponseApdu } from "../../src/protocol/apdu.js";
import { getEcdhPubkeyApdu, IV_HOTP_SEED, IV_WRITE_SEED, sealedWriteApdu } from "../../src/protocol/otp-applet.js";
import { encodeEntryDelete, encodeEntryWrite, encodeHotpSlot, type OtpEntryWrite } from "../../src/protocol/otp-entries.js";
import { seal } from "../../src/protocol/otp-seal.js";

export type Send = (apdu: Uint8Array) => Uint8Array;

export function call(send: Send, apdu: Uint8Array): ResponseApdu {
  return decodeResponseApdu(send(apdu));
}

/** GET_ECDH_PUBKEY before every seal, as §4.4 requires. */
function devicePublic(send: Send): Uint8Array {
  const r = call(send, getEcdhPubkeyApdu());
  if (r.sw !== 0x9000 || r.data.length !== 64) throw new Error(`GET_ECDH_PUBKEY gave ${r.sw.toString(16)}`);
  return r.data;
}

export function writeEntry(send: Send, entry: OtpEntryWrite): number {
  return call(send, sealedWriteApdu("entry", seal(devicePublic(send), encodeEntryWrite(entry), IV_WRITE_SEED))).sw;
}

export function deleteEntry(send: Send, app: string, account: string): number {
  return call(send, sealedWriteApdu("entry", seal(devicePublic(send), encodeEntryDelete(app, account), IV_WRITE_SEED))).sw;
}

export function writeHotpSlot(send: Send, slot: { digits: 6 | 8; seed: Uint8Array } | null): number {
  return call(send, sealedWriteApdu("hotp", seal(devicePublic(send), encodeHotpSlot(slot), IV_HOTP_SEED))).sw;
}
