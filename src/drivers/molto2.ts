/**
 * The Molto2 / Molto2v2 driver (docs/PROTOCOL.md §3): one {@link Molto2Session} per exclusive PC/SC session
 * on a Molto2 reader. The driver never SELECTs anything and never probes: a Molto2 is recognised by
 * its USB identity or reader name before any APDU is sent (§3.1, §5), and only the commands of §3.3
 * are ever sent to it. Authentication happens lazily before the first command that needs it and is
 * never retried after a failure (§3.6): a wrong key costs a try, and a Molto2 counts them.
 */
import type { DriverSession } from "./session.js";
import { abool, abytes, aint } from "../lib/checks.js";
import { otpbError, reasonOf, type OtpbridgeError } from "../lib/errors.js";
import { decodeResponseApdu, type ResponseApdu } from "../protocol/apdu.js";
import {
  MOLTO2_DEFAULT_CUSTOMER_KEY,
  MOLTO2_MAX_PROFILE,
  encodeMolto2Config,
  molto2AuthResult,
  molto2ChallengeApdu,
  molto2ChangeKeyApdu,
  molto2DeleteSeedApdu,
  molto2FactoryResetApdu,
  molto2InfoApdu,
  molto2Key,
  molto2ScreenLockApdu,
  molto2SyncTimeApdu,
  molto2WriteConfigApdu,
  molto2WriteSeedApdu,
  molto2WriteTitleApdu,
  parsePublicRead,
  publicReadApdu,
  type Molto2Config,
  type Molto2PublicProfile,
} from "../protocol/molto2.js";
import { describeSw, type SwOperation } from "../protocol/status-messages.js";
import { SW, isSuccess } from "../protocol/status-words.js";
import { parseTokenInfo, type TokenInfo } from "../protocol/token-info.js";
import { authFinishApdu, parseChallenge } from "../protocol/token2-auth.js";
import type { ApduTransport } from "../transports/types.js";
import { DEFAULT_KEY_WARNING, checkNewCustomerKey, isFactoryKey, type Molto2Warning } from "./molto2-keys.js";
import { nowSeconds } from "../lib/time.js";

/**
 * Reads a Molto2's info block (serial and clock, §3.4) with its one unauthenticated command.
 * @throws OtpbridgeError DEVICE_ERROR (info refused), MALFORMED_RESPONSE, or what the transport throws.
 */
export async function readMolto2Info(transport: ApduTransport): Promise<TokenInfo> {
  const { data } = expectMolto2(decodeResponseApdu(await transport.transmit(molto2InfoApdu())), "Molto2 info", "info");
  return parseTokenInfo(data);
}

/** What a ▲ press would commit (§3.11, §3.12). */
export type Molto2ButtonAction = "change-key" | "factory-reset";

/** Sent to the caller when the token waits for its ▲ button (it answered 9060). */
export interface Molto2ButtonPrompt {
  action: Molto2ButtonAction;
  /** For people: "press ▲ on the token". */
  message: string;
}

/**
 * Resolves once the user has pressed ▲ (or rejects to give up). The session sends nothing meanwhile;
 * the token keeps the action pending across later commands and power-offs, so a press after a
 * refusal still applies it (docs/PROTOCOL.md §3.16).
 */
export type Molto2ButtonHandler = (prompt: Molto2ButtonPrompt) => Promise<void>;

export interface Molto2SessionOptions {
  /** The customer key; default the factory key TOKEN2MOLTO1-KEY (§3.2). Only K = SHA-1(key)[0:16] is kept, and close() wipes it. */
  customerKey?: Uint8Array;
  /** Called with each warning as it arises (the CLI prints it); {@link Molto2Session.warnings} keeps them all. */
  onWarning?: (warning: Molto2Warning) => void;
  /** Unix seconds written into config and time sync; default the host clock. */
  clock?: () => number;
}

/** A profile's public block with its number (§3.5). */
export interface Molto2ProfileEntry extends Molto2PublicProfile {
  profile: number;
}

/** A profile's TOTP configuration; the time is always the session clock's (§3.9 sets the device clock). */
export type Molto2ProfileConfig = Omit<Molto2Config, "time">;

/** What to write to one profile; at least one field. */
export interface Molto2ProfileWrite {
  /** Raw seed, 1..63 bytes (§3.7). Not kept by the driver; the caller wipes it. */
  seed?: Uint8Array;
  /** 1..12 UTF-8 bytes (§3.8). */
  title?: string;
  config?: Molto2ProfileConfig;
}

/**
 * 1..12 UTF-8 bytes (§3.8), checked before anything is sent.
 * @throws OtpbridgeError INVALID_INPUT otherwise.
 */
function checkTitle(title: unknown): void {
  const length = typeof title === "string" ? new TextEncoder().encode(title).length : -1;
  if (length < 1 || length > 12) throw otpbError("INVALID_INPUT", "title must be 1..12 UTF-8 bytes", { detail: { length } });
}

const BUTTON_MESSAGE = "press ▲ on the token";

/** An authenticated-on-demand session with one Molto2. Build it with {@link Molto2Session.open}. */
export class Molto2Session implements DriverSession<TokenInfo> {
  /** Serial and device clock read when the session opened (§3.4). */
  readonly info: TokenInfo;
  readonly #transport: ApduTransport;
  readonly #clock: () => number;
  readonly #onWarning: ((warning: Molto2Warning) => void) | undefined;
  readonly #warnings: Molto2Warning[] = [];
  #key: Uint8Array;
  #authed = false;
  /**
   * Set while changeCustomerKey authenticates to move off the factory key, and while factoryReset
   * proves it is back: the operation's own result speaks of the factory key, so no warning.
   */
  #quietAboutFactoryKey = false;
  /** Set by the first failed authentication: the session refuses to try again (§3.6). */
  #authFailure: Error | undefined;
  #profileCount: 50 | 100 | undefined;
  #closed = false;

  private constructor(transport: ApduTransport, info: TokenInfo, key: Uint8Array, options: Molto2SessionOptions) {
    this.#transport = transport;
    this.info = info;
    this.#key = key;
    this.#clock = options.clock ?? nowSeconds;
    this.#onWarning = options.onWarning;
  }

  /** Every warning of this session so far (the API returns them with the result). */
  get warnings(): Molto2Warning[] {
    return this.#warnings.map((w) => ({ ...w }));
  }

  /**
   * Reads the info block (serial and clock, §3.4) and nothing else: no key is tried until a
   * command needs one.
   * @throws OtpbridgeError DEVICE_ERROR (info refused), MALFORMED_RESPONSE, or what the transport
   *   throws (CARD_REMOVED, ...); RangeError (INVALID_INPUT) on an empty customer key.
   * @example const s = await Molto2Session.open(transport, { customerKey }); await s.listProfiles();
   */
  static async open(transport: ApduTransport, options: Molto2SessionOptions = {}): Promise<Molto2Session> {
    const key = molto2Key(options.customerKey ?? MOLTO2_DEFAULT_CUSTOMER_KEY);
    try {
      return new Molto2Session(transport, await readMolto2Info(transport), key, options);
    } catch (error) {
      key.fill(0);
      throw error;
    }
  }

  /**
   * 50 (Molto2) or 100 (Molto2v2). No source says how to tell them apart [UNK §3.1]; the choice
   * here: profile 50's public read (unauthenticated, changes nothing) succeeds only on a 100-profile
   * token, so an error status word there means the 50-profile model. Asked once per session.
   * @throws OtpbridgeError what the transport throws.
   */
  async profileCount(): Promise<50 | 100> {
    if (this.#profileCount === undefined) {
      const { sw } = await this.#send(publicReadApdu(50));
      this.#profileCount = isSuccess(sw) ? 100 : 50;
    }
    return this.#profileCount;
  }

  /**
   * One profile's public block (§3.5), no key needed.
   * @throws RangeError (INVALID_INPUT) on a profile the token does not have; OtpbridgeError
   *   DEVICE_ERROR / MALFORMED_RESPONSE.
   */
  async readProfile(profile: number): Promise<Molto2ProfileEntry> {
    await this.#checkProfile(profile);
    const { data } = expectMolto2(await this.#send(publicReadApdu(profile)), `public read of profile ${profile}`, "public-read");
    return { profile, ...parsePublicRead(data) };
  }

  /**
   * Every profile's public block, 0..N-1 (§3.5, §3.17): titles, occupancy, parameters. No key needed.
   * @throws OtpbridgeError DEVICE_ERROR / MALFORMED_RESPONSE, or what the transport throws.
   */
  async listProfiles(): Promise<Molto2ProfileEntry[]> {
    const count = await this.profileCount();
    const out: Molto2ProfileEntry[] = [];
    for (let profile = 0; profile < count; profile++) out.push(await this.readProfile(profile));
    return out;
  }

  /**
   * Writes seed, title and config of one profile, in the official order (§3.15 steps 6-8). A profile
   * whose public block reports a seed is refused unless `overwrite` (molto2.py exits 3 there); the
   * check happens before authentication, so a refusal costs nothing.
   * @throws OtpbridgeError PROFILE_OCCUPIED, WRONG_CUSTOMER_KEY {triesLeft}, CUSTOMER_KEY_BLOCKED,
   *   DEVICE_ERROR {sw}; RangeError/TypeError (INVALID_INPUT) on a bad field, before anything is sent.
   */
  async writeProfile(profile: number, write: Molto2ProfileWrite, options: { overwrite?: boolean } = {}): Promise<void> {
    const { seed, title, config } = write;
    if (seed === undefined && title === undefined && config === undefined) {
      throw otpbError("INVALID_INPUT", "nothing to write: give a seed, a title or a config");
    }
    if (seed !== undefined) abytes(seed, "seed", { min: 1, max: 63 });
    if (title !== undefined) checkTitle(title);
    if (config !== undefined) encodeMolto2Config({ ...config, time: 0 });
    const overwrite = options.overwrite ?? false;
    abool(overwrite, "overwrite");
    await this.#checkProfile(profile);
    if (seed !== undefined && !overwrite && (await this.readProfile(profile)).seedPresent) {
      throw otpbError("PROFILE_OCCUPIED", `profile ${profile} already holds a seed; delete it first or ask to overwrite`, {
        detail: { profile },
      });
    }
    await this.#authenticate();
    if (seed !== undefined) await this.#secure(molto2WriteSeedApdu(this.#key, profile, seed), `seed write to profile ${profile}`, "seed");
    if (title !== undefined) await this.#secure(molto2WriteTitleApdu(this.#key, profile, title), `title write to profile ${profile}`, "title");
    if (config !== undefined) {
      const apdu = molto2WriteConfigApdu(this.#key, profile, { ...config, time: this.#clock() });
      await this.#secure(apdu, `config write to profile ${profile}`, "config");
    }
  }

  /**
   * Deletes a profile's seed (`80 E6`, §3.10); its title stays. The token does not need a key for
   * it [HW], but the spec and the official tools authenticate first, so this does too.
   * @throws OtpbridgeError PROFILE_EMPTY (6A83), WRONG_CUSTOMER_KEY, CUSTOMER_KEY_BLOCKED, DEVICE_ERROR.
   */
  async deleteProfile(profile: number): Promise<void> {
    await this.#checkProfile(profile);
    await this.#authenticate();
    const response = await this.#send(molto2DeleteSeedApdu(profile));
    if (response.sw === SW.RECORD_NOT_FOUND) {
      throw otpbError("PROFILE_EMPTY", `profile ${profile} holds no seed`, { detail: { profile } });
    }
    expectMolto2(response, `delete of profile ${profile}`, "delete");
  }

  /**
   * Sets the clock through one profile, or through every profile (molto2.py --synctimeall): whether
   * the clock is per device or per profile is [UNK §3.9], so "all" writes each one. Every profile
   * is tried; failures are collected and reported together at the end, as molto2.py does.
   * @returns the profiles synced and the time written.
   * @throws OtpbridgeError DEVICE_ERROR {failed: [{profile, sw}]} if any profile failed;
   *   WRONG_CUSTOMER_KEY / CUSTOMER_KEY_BLOCKED.
   */
  async syncTime(target: { profile: number } | "all"): Promise<{ profiles: number[]; time: number }> {
    const profiles = target === "all" ? [...Array(await this.profileCount()).keys()] : [target.profile];
    if (target !== "all") await this.#checkProfile(target.profile);
    await this.#authenticate();
    const time = this.#clock();
    const failed: Array<{ profile: number; sw: number }> = [];
    for (const profile of profiles) {
      const { sw } = await this.#send(molto2SyncTimeApdu(this.#key, profile, time));
      if (!isSuccess(sw)) failed.push({ profile, sw });
    }
    if (failed.length > 0) {
      throw otpbError(
        "DEVICE_ERROR",
        `time sync failed on ${failed.length} profile(s): ${failed.map((f) => `profile ${f.profile}: ${describeSw("molto2", f.sw, "sync")}`).join("; ")}`,
        {
          detail: { operation: "time sync", failed },
        },
      );
    }
    return { profiles, time };
  }

  /**
   * Changes the customer key (§3.11): the token answers 9060 and applies the key once ▲ is pressed.
   * Afterwards the session authenticates with the new key to prove it took (the [EMU] model drops
   * the session on the press; whether the real token keeps it is [UNK]). That check costs one try
   * if the press did not happen, and then reports KEY_CHANGE_NOT_APPLIED with the tries left.
   * The new key is checked first ({@link checkNewCustomerKey}); a short one adds a warning.
   * @throws OtpbridgeError KEY_CHANGE_NOT_APPLIED {triesLeft}, WRONG_CUSTOMER_KEY (current key),
   *   DEVICE_ERROR; whatever `onButton` rejects with; INVALID_INPUT on an empty key or the factory
   *   key, before anything is sent.
   */
  async changeCustomerKey(newCustomerKey: Uint8Array, options: { onButton: Molto2ButtonHandler }): Promise<void> {
    for (const warning of checkNewCustomerKey(newCustomerKey)) this.#warn(warning);
    const next = molto2Key(newCustomerKey);
    try {
      await this.#authenticateQuietly();
      await this.#awaitButton(molto2ChangeKeyApdu(this.#key, newCustomerKey), "change-key", options.onButton);
      this.#replaceKey(next.slice());
      try {
        await this.#authenticate();
      } catch (error) {
        if (reasonOf(error) !== "WRONG_CUSTOMER_KEY") throw error;
        const triesLeft = (error as OtpbridgeError).detail.triesLeft;
        throw otpbError(
          "KEY_CHANGE_NOT_APPLIED",
          `the token refuses the new customer key (was ▲ pressed?); the old key is in force, ${triesLeft} tries left, but the token may still hold the request: a later ▲ press would apply the new key`,
          {
            detail: { triesLeft },
          },
        );
      }
    } finally {
      next.fill(0);
    }
  }

  /**
   * Factory reset (§3.12): no key needed; 9060, then ▲ deletes every profile and restores the
   * factory customer key, which this session uses from then on. The token gives no completion
   * signal, so after the press the session proves the reset on the token itself (Appendix C, H-16):
   * first every profile's public block must read empty, no seed and no title (free: no key); then
   * the factory key must authenticate, which costs a try only when the press did not happen on a
   * token whose profiles were empty already. A token that was empty under the factory key before
   * reads the same either way.
   * @throws OtpbridgeError FACTORY_RESET_NOT_APPLIED {profilesInUse} (profiles still written, key
   *   unchanged) or {profilesInUse: [], triesLeft} (the factory key refused); DEVICE_ERROR;
   *   whatever `onButton` rejects with.
   */
  async factoryReset(options: { onButton: Molto2ButtonHandler }): Promise<void> {
    await this.#awaitButton(molto2FactoryResetApdu(), "factory-reset", options.onButton);
    // The request outlives a missed press (§3.16), so every refusal below says a later ▲ may still apply it.
    const pending = "the token may still hold the request: a later ▲ press on it would still erase every profile";
    const profilesInUse = (await this.listProfiles()).filter((p) => p.seedPresent || p.titleBytes.length > 0).map((p) => p.profile);
    if (profilesInUse.length > 0) {
      throw otpbError(
        "FACTORY_RESET_NOT_APPLIED",
        `the token was not reset (was ▲ pressed?): ${profilesInUse.length} profile(s) still hold a seed or a title, and its customer key is unchanged; ${pending}`,
        { detail: { profilesInUse } },
      );
    }
    this.#replaceKey(molto2Key(MOLTO2_DEFAULT_CUSTOMER_KEY));
    this.#authFailure = undefined;
    try {
      await this.#authenticateQuietly();
    } catch (error) {
      const reason = reasonOf(error);
      if (reason !== "WRONG_CUSTOMER_KEY" && reason !== "CUSTOMER_KEY_BLOCKED") throw error;
      const triesLeft = (error as OtpbridgeError).detail.triesLeft;
      // The session keeps refusing authenticated commands: the key in force is not the one it holds.
      this.#authFailure = otpbError(
        "FACTORY_RESET_NOT_APPLIED",
        `the token was not reset (was ▲ pressed?): every profile is empty, but it refuses the factory key (${triesLeft} tries left${triesLeft === 0 ? ": blocked" : ""}), so its own customer key is still in force; ${pending}`,
        { detail: { profilesInUse, triesLeft } },
      );
      throw this.#authFailure;
    }
  }

  /**
   * Screen lock / unlock (firmware ≥ 2.1, §3.13), authenticated as the spec asks. The unlock
   * framing is the vendor script's and unverified on hardware [§3.13].
   * @throws OtpbridgeError WRONG_CUSTOMER_KEY, CUSTOMER_KEY_BLOCKED, DEVICE_ERROR (older firmware).
   */
  async setScreenLock(locked: boolean): Promise<void> {
    abool(locked, "locked");
    await this.#authenticate();
    expectMolto2(await this.#send(molto2ScreenLockApdu(locked)), locked ? "screen lock" : "screen unlock", "screen-lock");
  }

  /** Wipes the derived key (see DriverSession: the transport stays open). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#key.fill(0);
  }

  async #checkProfile(profile: number): Promise<void> {
    aint(profile, "profile", 0, MOLTO2_MAX_PROFILE);
    const count = await this.profileCount();
    aint(profile, "profile", 0, count - 1);
  }

  /** {@link Molto2Session.#authenticate} without the factory-key warning. */
  async #authenticateQuietly(): Promise<void> {
    this.#quietAboutFactoryKey = true;
    try {
      await this.#authenticate();
    } finally {
      this.#quietAboutFactoryKey = false;
    }
  }

  /** §1.6 with the Molto2 challenge APDU; one attempt per session, never a retry (§3.6). */
  async #authenticate(): Promise<void> {
    if (this.#authFailure !== undefined) throw this.#authFailure;
    if (this.#authed) return;
    const { data } = expectMolto2(await this.#send(molto2ChallengeApdu()), "Molto2 get challenge", "challenge");
    const challenge = parseChallenge(data);
    const { sw } = await this.#send(authFinishApdu(this.#key, challenge));
    const result = molto2AuthResult(sw);
    if (result.ok) {
      this.#authed = true;
      // The factory key is public (§3.2): say so every time a session relies on it.
      if (!this.#quietAboutFactoryKey && isFactoryKey(this.#key)) this.#warn(DEFAULT_KEY_WARNING);
      return;
    }
    this.#authFailure =
      result.triesLeft === 0
        ? otpbError("CUSTOMER_KEY_BLOCKED", "the token refuses every customer key now (no tries left); only a factory reset recovers it", {
            detail: { triesLeft: 0 },
          })
        : result.triesLeft !== null
          ? otpbError("WRONG_CUSTOMER_KEY", `wrong customer key: ${result.triesLeft} tries left before the token locks`, {
              detail: { triesLeft: result.triesLeft },
            })
          : otpbError("DEVICE_ERROR", `Molto2 authentication failed: ${describeSw("molto2", sw, "auth")}`, { detail: { operation: "authentication", sw } });
    throw this.#authFailure;
  }

  /** Sends a command that answers 9060, then waits for the press without sending anything. */
  async #awaitButton(apdu: Uint8Array, action: Molto2ButtonAction, onButton: Molto2ButtonHandler): Promise<void> {
    if (typeof onButton !== "function") throw otpbError("INVALID_INPUT", "onButton must be a function");
    const response = await this.#send(apdu);
    if (response.sw !== SW.WAITING_FOR_BUTTON) expectMolto2(response, action, action);
    // molto2.py accepts any 90XX; a plain 9000 would mean "done without a press" [UNK], which the prompt still covers.
    await onButton({ action, message: BUTTON_MESSAGE });
  }

  #warn(warning: Molto2Warning): void {
    if (this.#warnings.some((w) => w.code === warning.code)) return;
    this.#warnings.push({ ...warning });
    this.#onWarning?.({ ...warning });
  }

  #replaceKey(key: Uint8Array): void {
    this.#key.fill(0);
    this.#key = key;
    this.#authed = false;
  }

  async #secure(apdu: Uint8Array, operation: string, kind: SwOperation<"molto2">): Promise<void> {
    try {
      expectMolto2(await this.#send(apdu), operation, kind);
    } finally {
      apdu.fill(0); // the seed frame is encrypted, but under a key the caller may reuse for years
    }
  }

  async #send(apdu: Uint8Array): Promise<ResponseApdu> {
    if (this.#closed) throw otpbError("TRANSPORT_CLOSED", "the Molto2 session is closed");
    return decodeResponseApdu(await this.#transport.transmit(apdu));
  }
}

/**
 * SW1 = 90 is success (§3.15); anything else is DEVICE_ERROR with the SW and what it means for
 * `kind` (src/protocol/status-messages.ts).
 * @throws OtpbridgeError DEVICE_ERROR {operation, sw}.
 */
function expectMolto2(response: ResponseApdu, operation: string, kind: SwOperation<"molto2">): ResponseApdu {
  if (isSuccess(response.sw)) return response;
  throw otpbError("DEVICE_ERROR", `${operation} failed: ${describeSw("molto2", response.sw, kind)}`, { detail: { operation, sw: response.sw } });
}
