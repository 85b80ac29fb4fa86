/**
 * What each status word means to a person, per family and per operation, and what to do about it
 * (docs/PROTOCOL.md §2.8, §3.14, §3.16, §4.11; the T=0 continuations of §1.1). Pure data plus one lookup,
 * {@link describeSw}, which the drivers put into their DEVICE_ERROR messages. A word no table
 * lists is shown as raw hex with a pointer to --debug, never guessed at.
 */
import { SW, SW1_BYTES_AVAILABLE, SW1_TRIES_LEFT, SW1_WRONG_LE } from "./status-words.js";
import type { DeviceFamily } from "../lib/device-family.js";

/** The family whose table explains a status word. */
export type SwFamily = DeviceFamily;

/** The operations of each family whose status words have their own meaning. */
export const SW_OPERATIONS = {
  "single-profile": ["info", "challenge", "auth", "config", "seed"],
  molto2: ["info", "public-read", "challenge", "auth", "seed", "title", "config", "sync", "delete", "change-key", "factory-reset", "screen-lock"],
  "otp-applet": ["select", "list", "add", "delete", "code", "settings", "serial", "device-key"],
} as const satisfies Record<SwFamily, readonly string[]>;

export type SwOperation<F extends SwFamily = SwFamily> = (typeof SW_OPERATIONS)[F][number];

/** A message for every operation of family F, with some operations saying more. */
interface Entry<F extends SwFamily> {
  text: string;
  by?: Partial<Record<SwOperation<F>, string>>;
}

const REPORT = "report it with the output of --debug";

// Family A: the open firmware core's words (§2.8). 6983 and 6A80 cover several failures each.
const SINGLE_PROFILE: ReadonlyMap<number, Entry<"single-profile">> = new Map<number, Entry<"single-profile">>([
  [SW.OK, { text: "success" }],
  [
    SW.WRONG_LENGTH,
    { text: `the token found the command too short or its length field wrong (6700): a host bug, or a reader that mangled the APDU; ${REPORT}` },
  ],
  [
    SW.AUTH_METHOD_BLOCKED,
    {
      text: "the token refused the command (6983): not authenticated, or the command's MAC did not match; run the command again",
      by: {
        auth: "the token refused the authentication (6983): its key is locked, or it is not a single-profile token; do not retry it, nothing was written",
        config: "the token refused the config write (6983): the authentication was lost or the MAC did not match; run the command again",
        seed: "the token refused the seed write (6983): the authentication was lost or the MAC did not match; run burn again",
      },
    },
  ],
  [
    SW.WRONG_DATA,
    {
      text: `the token rejected the command's data (6A80); ${REPORT}`,
      by: {
        auth: "the token had no challenge armed (6A80): the field dropped between GET CHALLENGE and AUTH FINISH; hold the token still and run the command again",
        config: `the token rejected the config template (6A80); nothing was set and the seed is unchanged; ${REPORT}`,
        seed: "the token rejected the seed frame (6A80): its length or padding is wrong; on a restricted model the token now holds no seed: run burn again with a seed of 1 to 63 bytes",
      },
    },
  ],
  [
    SW.INS_NOT_SUPPORTED,
    {
      text: "the card does not know this command (6D00): it is not a single-profile Token2 token, or a newer firmware; check the model with `otpbridge devices`",
    },
  ],
  [
    SW.CLA_NOT_SUPPORTED,
    { text: "the card does not speak the Token2 command class (6E00): it is not a single-profile Token2 token; check the model with `otpbridge devices`" },
  ],
]);

// Family B (§3.14); the values only the emulator model fixes are [EMU] (§3.16): drivers must not
// depend on them, but a person still deserves a reading of them.
const MOLTO2: ReadonlyMap<number, Entry<"molto2">> = new Map<number, Entry<"molto2">>([
  [SW.OK, { text: "success" }],
  [SW.WAITING_FOR_BUTTON, { text: "accepted: the token waits for its ▲ button; press it to confirm (any other command cancels)" }],
  [
    SW.RECORD_NOT_FOUND,
    {
      text: "the profile holds no seed (6A83)",
      by: { delete: "the profile holds no seed, so there was nothing to delete (6A83)" },
    },
  ],
  [SW.PUBLIC_READ_CASE4, { text: `the token refused the public read because it carried an Le byte (6FFB): a host bug; ${REPORT}` }],
  [
    SW.SECURITY_STATUS_NOT_SATISFIED,
    { text: "the token wants an authentication first (6982): the session was reset (reconnected or USB-reset); run the command again" },
  ],
  [
    SW.SM_DATA_INCORRECT,
    { text: "the token rejected the command's MAC (6988): the session key does not match; run the command again, and check the customer key" },
  ],
  [SW.WRONG_DATA, { text: `the token rejected the command's data (6A80): a malformed frame or template; ${REPORT}` }],
  [SW.INCORRECT_P1_P2, { text: "the token has no such profile (6A86): a Molto2 has profiles 0-49, a Molto2v2 0-99; list them with `otpbridge molto2 list`" }],
  [SW.WRONG_LENGTH, { text: `the token found the command's length wrong (6700); ${REPORT}` }],
  [
    SW.INS_NOT_SUPPORTED,
    {
      text: "the token does not know this command (6D00): its firmware is too old for it, or this is not a Molto2",
      by: { "screen-lock": "the token does not know the screen lock (6D00): it needs firmware 2.1 or later" },
    },
  ],
  [SW.CLA_NOT_SUPPORTED, { text: "the token does not know this command class (6E00): this is not a Molto2; check the --family mapping of the reader" }],
]);

// Family C (§4.11): 6A80/6A83 are "no such entry" for commands naming one, "no entries" for a list.
const OTP_APPLET: ReadonlyMap<number, Entry<"otp-applet">> = new Map<number, Entry<"otp-applet">>([
  [SW.OK, { text: "success" }],
  [
    SW.WRONG_DATA,
    {
      text: "the key has no such entry (6A80)",
      by: { list: "the key holds no entries (6A80)", add: `the key rejected the sealed entry (6A80); ${REPORT}` },
    },
  ],
  [
    SW.RECORD_NOT_FOUND,
    {
      text: "the key has no such entry (6A83)",
      by: { list: "the key holds no entries (6A83)" },
    },
  ],
  [SW.NOT_ENOUGH_MEMORY, { text: "the key has no room for another entry (6A84): delete one first (`otpbridge applet delete`)" }],
  [
    SW.INCORRECT_P1_P2,
    {
      text: "the key does not support this here (6A86): HID-HOTP is not on this model, or no applet is selected after a FIDO SELECT; run the command again",
    },
  ],
  [
    SW.FUNCTION_NOT_SUPPORTED,
    {
      text: "the key does not support this function (6A81): some PIN+ keys lack it, or the keyboard interface is disabled",
      by: { select: "the key has no Token2 OTP applet (6A81)" },
    },
  ],
  [SW.BUTTON_TIMEOUT, { text: "the key was not touched in time (6FF9): run the command again and touch the key when it blinks" }],
  [
    SW.WRONG_LENGTH,
    { text: "the key refused the command's length (6700): a contact (T=0) reader cannot carry an extended length; use the key over USB or NFC" },
  ],
  [SW.INS_NOT_SUPPORTED, { text: "the key does not know this command (6D00): its firmware has no OTP applet, or another applet is selected" }],
  [SW.CLA_NOT_SUPPORTED, { text: "the key does not know this command class (6E00): no Token2 OTP applet answers here" }],
]);

const TABLES: { [F in SwFamily]: ReadonlyMap<number, Entry<F>> } = { "single-profile": SINGLE_PROFILE, molto2: MOLTO2, "otp-applet": OTP_APPLET };

/** Four upper-case hex digits. */
function swHex(sw: number): string {
  return (sw & 0xffff).toString(16).toUpperCase().padStart(4, "0");
}

/** The status words a family's table explains (the patterns 61XX, 6CXX and Molto2 63NN aside). */
export function listedStatusWords(family: SwFamily): number[] {
  return [...TABLES[family].keys()];
}

/**
 * What `sw` means when the `family`'s device answers it to `operation`, and what to do, for error
 * messages: "the token has no such profile (6A86): ...". A word no table lists gives
 * "unknown status word 6F12 (run with --debug for the exchange)".
 * @example describeSw("molto2", 0x6303, "auth") // "wrong customer key (6303): 3 tries left ..."
 */
export function describeSw<F extends SwFamily>(family: F, sw: number, operation: SwOperation<F>): string {
  const entry: Entry<F> | undefined = TABLES[family].get(sw);
  if (entry !== undefined) return entry.by?.[operation] ?? entry.text;
  const sw1 = sw >>> 8;
  const sw2 = sw & 0xff;
  const hex = swHex(sw);
  // T=0 continuations (§1.1) are handled under the driver (src/transports/t0.ts); one seen here
  // means the link gave up on them.
  if (sw1 === SW1_BYTES_AVAILABLE) {
    return `${sw2 === 0 ? 256 : sw2} response bytes are still waiting (${hex}) and were not fetched: the reader's T=0 link dropped them; run the command again, ${REPORT} if it persists`;
  }
  if (sw1 === SW1_WRONG_LE)
    return `the device asked for the command again with Le = ${sw2 === 0 ? 256 : sw2} (${hex}), which the T=0 link did not do; ${REPORT}`;
  if (family === "molto2" && sw1 === SW1_TRIES_LEFT) {
    // §3.6: one try per run, never retried by itself.
    return sw2 === 0
      ? `the token accepts no customer key any more (${hex}): only a factory reset (\`otpbridge molto2 reset\`) recovers it, and it erases every profile`
      : `wrong customer key (${hex}): ${sw2} tries left before the token locks; check the key before trying again`;
  }
  return `unknown status word ${hex} (run with --debug for the exchange)`;
}
