/**
 * T=0 continuations as a processor stacked on any {@link ApduTransport} (docs/PROTOCOL.md §1.1, §4.10;
 * ISO/IEC 7816-4 §5.3.4 and 7816-3 §10.3.5): on a T=0 contact link a card cannot return data with
 * the status word in one exchange, so it answers `61 XX` ("XX more bytes: GET RESPONSE") or
 * `6C XX` ("wrong Le: send again with Le = XX"). Over ISO-DEP and USB CCID in T=1 mode neither
 * ever appears, so stacking this processor everywhere is harmless.
 */
import { abytes } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import type { ApduTransport } from "./types.js";

/** SW1 of "response bytes still available" (ISO 7816-4 table 5). */
const SW1_BYTES_AVAILABLE = 0x61;
/** SW1 of "wrong Le field; SW2 gives the exact length" (ISO 7816-4 table 5). */
const SW1_WRONG_LE = 0x6c;
/** GET RESPONSE on the basic channel, exactly as docs/PROTOCOL.md §1.1 gives it: `00 C0 00 00 XX`. */
const GET_RESPONSE_HEADER = [0x00, 0xc0, 0x00, 0x00] as const;
/**
 * A card that keeps answering 61XX would loop forever: stop after this many GET RESPONSEs.
 * 256 chunks of up to 256 bytes cover the largest extended response (65,536 bytes).
 */
const MAX_GET_RESPONSES = 256;

/**
 * The command again with `Le = le`, for a short APDU (the only kind T=0 carries): case 1 and 3
 * gain an Le byte, case 2 and 4 have theirs replaced. Returns undefined for anything else.
 */
function withLe(apdu: Uint8Array, le: number): Uint8Array | undefined {
  const bodyEnd = apdu.length === 4 ? 4 : 5 + apdu[4]!;
  if (apdu.length === 5 || apdu.length === bodyEnd + 1) {
    const resent = apdu.slice();
    resent[resent.length - 1] = le;
    return resent;
  }
  if (apdu.length !== bodyEnd) return undefined;
  const resent = new Uint8Array(apdu.length + 1);
  resent.set(apdu);
  resent[apdu.length] = le;
  return resent;
}

/**
 * Wraps `inner` so that `61 XX` and `6C XX` are resolved before the caller sees a response:
 * the caller gets the whole response data followed by the final status word.
 * @throws OtpbridgeError MALFORMED_RESPONSE when the card asks for another Le twice in a row or
 *   never stops answering 61XX; whatever `inner` throws (CARD_REMOVED, ...) passes through.
 */
export function withT0Continuations(inner: ApduTransport): ApduTransport {
  return {
    close: () => inner.close(),
    async transmit(apdu: Uint8Array): Promise<Uint8Array> {
      abytes(apdu, "apdu", { min: 4 });
      let response = await inner.transmit(apdu);
      if (sw1Of(response) === SW1_WRONG_LE) {
        const resent = withLe(apdu, response[response.length - 1]!);
        if (resent === undefined) return response;
        response = await inner.transmit(resent);
        if (sw1Of(response) === SW1_WRONG_LE) {
          throw otpbError("MALFORMED_RESPONSE", "the card asked twice for a different Le (6CXX)", {
            detail: { sw: hexSw(response) },
          });
        }
      }
      if (sw1Of(response) !== SW1_BYTES_AVAILABLE) return response;

      // Response data may be secret material (a read-back): the pieces are wiped once joined.
      const pieces: Uint8Array[] = [];
      let total = 0;
      for (let round = 0; sw1Of(response) === SW1_BYTES_AVAILABLE; round++) {
        if (round === MAX_GET_RESPONSES) {
          pieces.forEach((piece) => piece.fill(0));
          throw otpbError("MALFORMED_RESPONSE", `the card answered 61XX more than ${MAX_GET_RESPONSES} times`);
        }
        pieces.push(response.subarray(0, response.length - 2));
        total += response.length - 2;
        const getResponse = Uint8Array.of(...GET_RESPONSE_HEADER, response[response.length - 1]!);
        response = await inner.transmit(getResponse);
      }
      const joined = new Uint8Array(total + response.length);
      let offset = 0;
      for (const piece of pieces) {
        joined.set(piece, offset);
        offset += piece.length;
        piece.fill(0);
      }
      joined.set(response, offset);
      response.fill(0);
      return joined;
    },
  };
}

/** SW1 of a response, or -1 when it is too short to carry a status word. */
function sw1Of(response: Uint8Array): number {
  return response.length >= 2 ? response[response.length - 2]! : -1;
}

function hexSw(response: Uint8Array): string {
  return Buffer.from(response.subarray(response.length - 2))
    .toString("hex")
    .toUpperCase();
}
