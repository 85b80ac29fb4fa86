import { describe, expect, it } from "vitest";
import {
  SCARD_E_NOT_TRANSACTED,
  SCARD_E_NO_SERVICE,
  SCARD_E_SHARING_VIOLATION,
  SCARD_W_REMOVED_CARD,
  definiteReason,
  hexCode,
  pcscCode,
} from "../../src/transports/pcsc-errors.js";

describe("PC/SC error codes", () => {
  it("reads the code from the binding's messages, as they were observed through pcscd", () => {
    expect(pcscCode(new Error("SCardTransmit error: Transaction failed.(0x80100016)"))).toBe(SCARD_E_NOT_TRANSACTED);
    expect(pcscCode(new Error("SCardConnect error: Sharing violation.(0x8010000b)"))).toBe(SCARD_E_SHARING_VIOLATION);
    expect(pcscCode(new Error("SCardGetStatusChange error: RPC transport error.(0x80100013)"))).toBe(0x80100013);
    expect(pcscCode(new Error("Card Reader not connected"))).toBeUndefined();
    expect(pcscCode("not an error")).toBeUndefined();
  });

  it("maps only the unambiguous codes to a reason", () => {
    expect(definiteReason(SCARD_W_REMOVED_CARD)).toBe("CARD_REMOVED");
    expect(definiteReason(SCARD_E_SHARING_VIOLATION)).toBe("DEVICE_BUSY");
    expect(definiteReason(SCARD_E_NO_SERVICE)).toBe("PCSC_UNAVAILABLE");
    expect(definiteReason(0x80100009)).toBe("READER_GONE");
    // A card leaving mid-exchange and a card answering garbage give the same code: context decides.
    expect(definiteReason(SCARD_E_NOT_TRANSACTED)).toBeUndefined();
    expect(definiteReason(0x80100013)).toBeUndefined();
    expect(definiteReason(undefined)).toBeUndefined();
    expect(hexCode(SCARD_E_SHARING_VIOLATION)).toBe("0x8010000b");
  });
});
