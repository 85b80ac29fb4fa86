/**
 * Driver of Family A, the single-profile "-i" NFC tokens (docs/PROTOCOL.md §2), written against an
 * {@link ApduTransport}: it never knows whether pcscd, a real reader or an in-memory emulator is
 * behind it. One session per connection, yubikit style: {@link SingleProfileSession.open} reads
 * GET INFO and refuses unknown serials before anything that authenticates can be sent (§2.1, §5).
 *
 * Status words become domain errors only where their meaning is known (§2.8): 6983 from AUTH
 * FINISH is TOKEN_LOCKED (locked, or not this family: never retried); 6983 from a secure write is
 * "authentication lost or MAC bug": one re-authentication and one retry, then AUTH_FAILED. Any
 * other failing status word is DEVICE_ERROR saying what the word means at that step
 * (src/protocol/status-messages.ts). Link failures (CARD_REMOVED, READER_GONE, PCSC_UNAVAILABLE)
 * propagate with their reason, plus what state the seed is in; {@link safeToRepeat} says which of
 * them a caller may retry once the same token is back (src/drivers/hold-still.ts).
 */
import type { DriverSession } from "./session.js";
import { abytes, aint, aoneOf } from "../lib/checks.js";
import { OtpbridgeError, otpbError } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import { totp } from "../crypto/otp.js";
import type { SingleProfileModel } from "../protocol/models.js";
import {
  DISPLAY_TIMEOUT_CODES,
  SINGLE_PROFILE_KEY,
  getChallengeApdu,
  getInfoApdu,
  parseSingleProfileInfo,
  writeConfigApdu,
  writeSeedApdu,
  type TokenAlgorithm,
} from "../protocol/single-profile.js";
import { decodeResponseApdu } from "../protocol/apdu.js";
import { describeSw, type SwOperation } from "../protocol/status-messages.js";
import { SW } from "../protocol/status-words.js";
import { authFinishApdu, parseChallenge } from "../protocol/token2-auth.js";
import type { ApduTransport } from "../transports/types.js";
import { nowSeconds } from "../lib/time.js";
import { SINGLE_PROFILE_LIMITS } from "../input/capabilities.js";

/** Display-off timeouts a user chooses, in seconds (wire codes 0..3, §1.7). */
export const DISPLAY_SECONDS = [15, 30, 60, 120] as const;
export type DisplaySeconds = (typeof DISPLAY_SECONDS)[number];
/** The only steps that may be sent (§1.7). */
export const PERIODS = SINGLE_PROFILE_LIMITS.periods;
export const ALGORITHMS: readonly TokenAlgorithm[] = SINGLE_PROFILE_LIMITS.algorithms;

/** What a config write sets besides the clock; none of it can be read back (§2.11). */
export interface SingleProfileSettings {
  algorithm: TokenAlgorithm;
  period: 30 | 60;
  display: DisplaySeconds;
}

/** What GET INFO tells, with the model looked up by serial prefix. */
export interface SingleProfileInfo {
  serial: string;
  model: SingleProfileModel;
  /** True if a config (clock) write erases the seed (§2.1). */
  restrictedSync: boolean;
  /** The token's clock, Unix seconds, when read. */
  clock: number;
  /** Token clock minus host clock, seconds (positive: the token is ahead). */
  driftSeconds: number;
}

/** The codes the token should show after a burn, for the operator to compare (§2.10 step 7). */
export interface ExpectedCodes {
  /** The time loaded into the token's clock. */
  time: number;
  previous: string;
  current: string;
  next: string;
}

export interface BurnOptions extends SingleProfileSettings {
  /** Raw seed, 1..63 bytes (§2.7). Not kept, not zeroed: the caller owns it. */
  seed: Uint8Array;
  /** Unix seconds to set the clock to; default the host's current UTC time. */
  time?: number;
}

export interface BurnResult {
  serial: string;
  model: string;
  restrictedSync: boolean;
  codes: ExpectedCodes;
}

export interface SyncTimeOptions extends SingleProfileSettings {
  /** Required on a restricted model: the caller confirms that the seed will be erased. */
  confirmSeedWipe?: boolean;
  /** Seed to write again after the clock (a restricted model needs one to show codes again). */
  reseed?: Uint8Array;
  /** Unix seconds to set; default the host's current UTC time. */
  time?: number;
}

export interface SyncTimeResult {
  serial: string;
  model: string;
  time: number;
  /** Token clock minus host clock before the sync, seconds. */
  driftBefore: number;
  /** What became of the seed: kept (unrestricted model), rewritten (reseed given) or wiped. */
  seed: "kept" | "rewritten" | "wiped";
  /** Present when the seed was rewritten. */
  codes?: ExpectedCodes;
}

export interface SessionOptions {
  logger?: Logger;
  /** The serial the caller means: another token answering is refused with CARD_REMOVED {swapped} before anything else is sent. */
  expectSerial?: string;
  /** Host clock in Unix seconds; default Date.now. */
  now?: () => number;
}

/** Result of GET INFO on an unknown card: a token (model null if the prefix is unknown) or not one. */
export type Identification = { kind: "token"; serial: string; clock: number; model: SingleProfileModel | null } | { kind: "other"; sw: number };

/** Where the seed stands after a failure, for the message and `detail.seedState`. */
type SeedState = "unchanged" | "unknown" | "wiped" | "previous" | "kept";

const SEED_STATE_TEXT: Record<SeedState, string> = {
  unchanged: "nothing was written",
  unknown: "the config write may have reached the token, which would have erased its seed: run burn again",
  wiped: "the config was written and, on this model, erased the seed: the token now holds NO seed; run burn again",
  previous: "the config was written but the seed was not: the token keeps its previous seed with the new settings; run burn again",
  kept: "the token keeps its previous seed, but the config write may have changed its settings: run burn again",
};

/**
 * Sends GET INFO only (harmless on any card, §2.4) and says what answered. Used by the device
 * manager to identify a card without authenticating.
 * @throws OtpbridgeError from the transport (CARD_REMOVED, READER_GONE, ...); MALFORMED_RESPONSE
 *   when a 9000 answer does not hold a serial and a clock.
 */
export async function identifySingleProfile(transport: ApduTransport): Promise<Identification> {
  const { data, sw } = decodeResponseApdu(await transport.transmit(getInfoApdu()));
  if (sw !== SW.OK) return { kind: "other", sw };
  const info = parseSingleProfileInfo(data);
  // An empty serial means "not a programmable token" (§2.10 step 2).
  if (info.serial.trim() === "") return { kind: "other", sw };
  return { kind: "token", serial: info.serial.trim(), clock: info.clock, model: info.model };
}

function checkSettings(o: SingleProfileSettings): void {
  aoneOf(o.algorithm, "algorithm", ALGORITHMS);
  aoneOf(o.period, "period", PERIODS);
  aoneOf(o.display, "display", DISPLAY_SECONDS);
}

/** One connection to one single-profile token. Build it with {@link SingleProfileSession.open}. */
export class SingleProfileSession implements DriverSession<SingleProfileInfo> {
  readonly #transport: ApduTransport;
  readonly #log: Logger;
  readonly #now: () => number;
  #info: SingleProfileInfo;
  #closed = false;

  private constructor(transport: ApduTransport, info: SingleProfileInfo, log: Logger, now: () => number) {
    this.#transport = {
      transmit: (apdu) => (this.#closed ? Promise.reject(otpbError("TRANSPORT_CLOSED", "the single-profile session is closed")) : transport.transmit(apdu)),
      // The transport is its opener's to close (DriverSession).
      close: async () => {},
    };
    this.#info = info;
    this.#log = log;
    this.#now = now;
  }

  /**
   * Identifies the token with GET INFO (§2.10 steps 1-3). Nothing else is sent.
   * @throws OtpbridgeError CARD_REMOVED {swapped} when `expectSerial` is not the serial found;
   *   UNKNOWN_MODEL when the card is not a single-profile token or its serial matches no known
   *   model (nothing that could lock it is ever sent); MALFORMED_RESPONSE; the transport's link errors.
   * @example const session = await SingleProfileSession.open(transport); session.info.model.name
   */
  static async open(transport: ApduTransport, options: SessionOptions = {}): Promise<SingleProfileSession> {
    const log = options.logger ?? silentLogger;
    const now = options.now ?? nowSeconds;
    log.debug("single-profile: GET INFO");
    const found = await identifySingleProfile(transport);
    if (found.kind === "other") {
      throw otpbError("UNKNOWN_MODEL", `not a single-profile token: GET INFO answered that ${describeSw("single-profile", found.sw, "info")}`, {
        detail: { sw: found.sw },
      });
    }
    if (found.model === null) {
      throw otpbError("UNKNOWN_MODEL", `serial ${found.serial} matches no known programmable single-profile model; nothing was sent to it`, {
        detail: { serial: found.serial },
      });
    }
    if (options.expectSerial !== undefined && found.serial !== options.expectSerial) throw swapped(options.expectSerial, found.serial);
    const info: SingleProfileInfo = {
      serial: found.serial,
      model: found.model,
      restrictedSync: found.model.restrictedSync,
      clock: found.clock,
      driftSeconds: found.clock - now(),
    };
    log.info("single-profile: identified", { serial: info.serial, model: info.model.name, driftSeconds: info.driftSeconds });
    return new SingleProfileSession(transport, info, log.child({ serial: info.serial }), now);
  }

  /** What GET INFO said when the session opened, or at the last readInfo (a copy). */
  get info(): SingleProfileInfo {
    return { ...this.#info };
  }

  /** Ends the session (see DriverSession; nothing derived outlives a command here). */
  async close(): Promise<void> {
    this.#closed = true;
  }

  /**
   * Reads the clock again and returns the drift, writing nothing (§2.4 "Using the clock").
   * @throws OtpbridgeError CARD_REMOVED if another card now answers; the transport's link errors.
   */
  async readInfo(): Promise<SingleProfileInfo> {
    this.#log.debug("single-profile: GET INFO (clock)");
    const found = await identifySingleProfile(this.#transport);
    if (found.kind !== "token" || found.serial !== this.#info.serial) throw swapped(this.#info.serial, found.kind === "token" ? found.serial : null);
    this.#info = { ...this.#info, clock: found.clock, driftSeconds: found.clock - this.#now() };
    return this.info;
  }

  /**
   * Burns a seed: authenticate once, write the config with the current UTC time, write the seed
   * (§2.10 steps 4-6); returns the codes for t - step, t and t + step (step 7).
   * @throws TypeError/RangeError (INVALID_INPUT) on a bad seed or setting, before anything is sent.
   * @throws OtpbridgeError TOKEN_LOCKED (6983 at auth), AUTH_FAILED (6983 twice on a write),
   *   DEVICE_ERROR (another status word), or a link error; errors after the config write say in
   *   their message and in `detail.seedState` whether the token was left without a seed.
   */
  async burn(options: BurnOptions): Promise<BurnResult> {
    abytes(options.seed, "seed", { min: 1, max: 63 });
    checkSettings(options);
    if (options.time !== undefined) aint(options.time, "time", 0, 0xffffffff);
    const time = await this.#writeAll(options, options.seed, options.time);
    return {
      serial: this.#info.serial,
      model: this.#info.model.name,
      restrictedSync: this.#info.restrictedSync,
      codes: expectedCodes(options.seed, options, time),
    };
  }

  /**
   * Sets the token's clock (§2.10 "Time-only sync"): a full config write with the settings the
   * caller remembers, since none can be read back. On a restricted model this erases the seed: it
   * is refused unless `confirmSeedWipe`, and then the seed is written again if `reseed` is given.
   * @throws OtpbridgeError SEED_WIPE_NOT_CONFIRMED (restricted model, not confirmed: nothing sent);
   *   otherwise as {@link burn}.
   */
  async syncTime(options: SyncTimeOptions): Promise<SyncTimeResult> {
    checkSettings(options);
    if (options.reseed !== undefined) abytes(options.reseed, "reseed", { min: 1, max: 63 });
    if (options.time !== undefined) aint(options.time, "time", 0, 0xffffffff);
    const model = this.#info.model;
    if (model.restrictedSync && options.confirmSeedWipe !== true) {
      throw otpbError(
        "SEED_WIPE_NOT_CONFIRMED",
        `a clock sync erases the seed of a ${model.name}; confirm that it will be wiped (and give the seed to write it again)`,
        {
          detail: { serial: this.#info.serial, model: model.name },
        },
      );
    }
    const before = await this.readInfo();
    const time = await this.#writeAll(options, options.reseed, options.time);
    const result: SyncTimeResult = {
      serial: before.serial,
      model: model.name,
      time,
      driftBefore: before.driftSeconds,
      seed: options.reseed !== undefined ? "rewritten" : model.restrictedSync ? "wiped" : "kept",
    };
    if (options.reseed !== undefined) result.codes = expectedCodes(options.reseed, options, time);
    return result;
  }

  /** Auth, config, then the seed if given; returns the time written. */
  async #writeAll(settings: SingleProfileSettings, seed: Uint8Array | undefined, at: number | undefined): Promise<number> {
    const fields = { algorithm: settings.algorithm, period: settings.period, display: settings.display };
    try {
      await this.#authenticate();
    } catch (error) {
      throw this.#annotate(error, "auth", "unchanged");
    }
    const time = at ?? this.#now();
    const config = { display: DISPLAY_TIMEOUT_CODES[settings.display], time, algorithm: settings.algorithm, period: settings.period };
    this.#log.debug("single-profile: WRITE CONFIG", { ...fields, setClock: time });
    try {
      await this.#secureWrite("WRITE CONFIG", () => writeConfigApdu(config));
    } catch (error) {
      // A refused template changes no seed (§2.6: the erase comes after the whole match); a link
      // failure leaves it unknown whether the write landed.
      const landed: SeedState = error instanceof OtpbridgeError && error.reason === "DEVICE_ERROR" ? "unchanged" : "unknown";
      throw this.#annotate(error, "config", landed === "unchanged" ? "unchanged" : this.#info.restrictedSync ? "unknown" : "kept");
    }
    this.#log.info("single-profile: config written", { ...fields, setClock: time });
    if (seed === undefined) return time;
    this.#log.debug("single-profile: WRITE SEED", { seedLength: seed.length });
    try {
      await this.#secureWrite("WRITE SEED", () => writeSeedApdu(seed));
    } catch (error) {
      throw this.#annotate(error, "seed", this.#info.restrictedSync ? "wiped" : "previous");
    }
    this.#log.info("single-profile: seed written", { seedLength: seed.length });
    return time;
  }

  /** One challenge, one answer (§1.6, §2.10 step 4); 6983 means locked or not this family. */
  async #authenticate(): Promise<void> {
    this.#log.debug("single-profile: GET CHALLENGE");
    const got = decodeResponseApdu(await this.#transport.transmit(getChallengeApdu()));
    if (got.sw !== SW.OK) throw deviceError("GET CHALLENGE", "challenge", got.sw);
    const challenge = parseChallenge(got.data);
    const apdu = authFinishApdu(SINGLE_PROFILE_KEY, challenge);
    challenge.fill(0);
    this.#log.debug("single-profile: AUTH FINISH");
    let sw: number;
    try {
      sw = decodeResponseApdu(await this.#transport.transmit(apdu)).sw;
    } finally {
      apdu.fill(0);
    }
    if (sw === SW.AUTH_METHOD_BLOCKED) {
      throw otpbError("TOKEN_LOCKED", "the token refused authentication (6983): its key is locked, or it is not a single-profile token", {
        detail: { serial: this.#info.serial, sw },
      });
    }
    if (sw !== SW.OK) throw deviceError("AUTH FINISH", "auth", sw);
    this.#log.info("single-profile: authenticated");
  }

  /**
   * Sends a CLA 84 command; on 6983 authenticates again and retries once (§2.8, §2.10 step 6).
   * The APDU is built afresh for each try and wiped after it (a seed frame is the seed under a
   * public key).
   */
  async #secureWrite(step: "WRITE CONFIG" | "WRITE SEED", build: () => Uint8Array): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const apdu = build();
      let sw: number;
      try {
        sw = decodeResponseApdu(await this.#transport.transmit(apdu)).sw;
      } finally {
        apdu.fill(0);
      }
      if (sw === SW.OK) return;
      if (sw !== SW.AUTH_METHOD_BLOCKED) throw deviceError(step, step === "WRITE SEED" ? "seed" : "config", sw);
      if (attempt > 0) {
        throw otpbError("AUTH_FAILED", `${step} was refused (6983) again after re-authenticating`, { detail: { step, sw } });
      }
      this.#log.warn(`single-profile: ${step} answered 6983; authenticating again`, { step });
      await this.#authenticate();
    }
  }

  /** The same error, with the step and what became of the seed added (message and detail). */
  #annotate(error: unknown, stage: "auth" | "config" | "seed", seedState: SeedState): unknown {
    if (!(error instanceof OtpbridgeError)) return error;
    const annotated = otpbError(error.reason, `${error.message} (during ${stage}; ${SEED_STATE_TEXT[seedState]})`, {
      detail: { ...error.detail, serial: this.#info.serial, model: this.#info.model.name, stage, seedState },
      cause: error,
    });
    this.#log.error("single-profile: failed", { stage, seedState, error });
    return annotated;
  }
}

/** CARD_REMOVED for another card answering where `serial` was: never retried ({@link safeToRepeat}). */
function swapped(serial: string, found: string | null): OtpbridgeError {
  return otpbError(
    "CARD_REMOVED",
    `a different card (${found ?? "not a token"}) answers instead of token ${serial}: the token was swapped; nothing more was sent`,
    {
      detail: { serial, found, swapped: true },
    },
  );
}

/**
 * Whether a single-profile operation that failed because the card left the field or was reset
 * (CARD_REMOVED) may be run again from its start once the SAME token is back (the caller checks
 * the serial: `expectSerial`). What a repeat re-sends, step by step:
 * - GET INFO (open, readInfo): reads only (§2.4): always safe.
 * - GET CHALLENGE + AUTH FINISH: nothing persistent changes; a new session draws a fresh challenge,
 *   and authentication never survives a reconnection anyway (§2.9 field loss): always safe.
 * - WRITE CONFIG: it may or may not have landed. Sent again it sets the clock to a newer time and
 *   the same settings; on an unrestricted model the seed stays, so that converges (seedState
 *   "kept"). On a restricted model it erases the seed (§2.1, §2.6): safe only if the seed write
 *   follows in the same run (burn, or sync with reseed); a lone sync on such a model is a
 *   destructive step the user confirmed once, and is reported, not re-sent.
 * - WRITE SEED: the config before it has landed. A repeat runs auth, config, seed again: the
 *   config may erase the seed again, and the seed write that follows restores it, so the token
 *   ends in the state asked for (§2.10 order; a config is never sent after the seed alone).
 * A swapped token (`detail.swapped`) and any other reason are never repeated.
 */
export function safeToRepeat(error: unknown, plan: { seedFollows: boolean }): boolean {
  if (!(error instanceof OtpbridgeError) || error.reason !== "CARD_REMOVED" || error.detail.swapped === true) return false;
  switch (error.detail.stage) {
    case undefined:
    case "auth":
      return true;
    case "config":
    case "seed":
      return plan.seedFollows || error.detail.seedState === "kept";
    default:
      return false;
  }
}

/** DEVICE_ERROR for a refused step, with what the word means there (src/protocol/status-messages.ts). */
function deviceError(step: string, operation: SwOperation<"single-profile">, sw: number): OtpbridgeError {
  return otpbError("DEVICE_ERROR", `${step} failed: ${describeSw("single-profile", sw, operation)}`, { detail: { step, sw } });
}

/**
 * The codes a token holding `seed` with these settings shows around `time` (6 digits, §2.1).
 * @throws TypeError/RangeError (INVALID_INPUT) on a bad seed, period or time.
 */
export function expectedCodes(seed: Uint8Array, settings: Pick<SingleProfileSettings, "algorithm" | "period">, time: number): ExpectedCodes {
  const at = (t: number): string => totp(settings.algorithm, seed, { time: t, period: settings.period, digits: 6 });
  return { time, previous: at(Math.max(0, time - settings.period)), current: at(time), next: at(time + settings.period) };
}
