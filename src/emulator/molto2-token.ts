/**
 * Device side of a Molto2 (50 profiles) or Molto2v2 (100): the model of docs/PROTOCOL.md §3.16. No Molto2
 * firmware is public; every choice the spec marks [EMU] is followed and named where it is made.
 * Commands are read the way Family A's firmware reads them (Lc = a[4], §2.9 steps 1-2) [EMU].
 */
import { abytes, aint, aoneOf } from "../lib/checks.js";
import { authResponse, sm4DecryptEcb, token2Mac, totp, unpadIso9797M2 } from "../crypto/index.js";
import { MOLTO2_DEFAULT_CUSTOMER_KEY, molto2Key } from "../protocol/molto2.js";
import { SW, swBytes } from "../protocol/status-words.js";
import { encodeTokenInfo } from "../protocol/token-info.js";
import { buildAtr, constantTimeEqual, macInput, readLax, splitMac, systemClock, systemRng, type Clock, type LaxCommand, type Rng } from "./common.js";
import { emptyProfile, publicBlock, type Molto2Profile } from "./molto2-profile.js";

export interface Molto2TokenOptions {
  /** 50 (Molto2) or 100 (Molto2v2); default 100. */
  profiles?: 50 | 100;
  /** ASCII serial; default "000000000000001" [EMU: the README shows 15 digits]. */
  serial?: string;
  /** The customer key the device starts with; default TOKEN2MOLTO1-KEY (§3.2). */
  customerKey?: Uint8Array;
  /** Initial (and reset-to) tries counter; [EMU] default 10 (§3.16). */
  tries?: number;
  /**
   * Seconds after which an unconfirmed key change or factory reset lapses; default none. Whether
   * the real token gives up waiting for ▲, and when, is not public [UNK] (§3.16).
   */
  confirmTimeout?: number;
  clock?: Clock;
  rng?: Rng;
}

/** What a ▲ press would commit (§3.16 pendingAction). */
export type Molto2Pending = "none" | "reset" | "setKey";

/** Snapshot for tests; byte arrays are copies. */
export interface Molto2State {
  serial: string;
  keyDigest: Uint8Array;
  triesLeft: number;
  authed: boolean;
  armed: boolean;
  pending: Molto2Pending;
  screenLocked: boolean;
  display: number;
  rtc: number;
  profiles: Molto2Profile[];
}

/**
 * A Molto2 emulator. A VirtualCard (src/transports/types.ts); its ATR names it in the historical bytes
 * ("Molto2") [EMU: the real CCID ATR is not public].
 */
export class Molto2Token {
  readonly atr: Uint8Array = buildAtr(new TextEncoder().encode("Molto2"));
  private readonly serial: string;
  private readonly initialTries: number;
  private readonly confirmTimeout: number | undefined;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private key: Uint8Array;
  private triesLeft: number;
  private rtcOffset = 0;
  private display = 0x01;
  private screenLocked = false;
  private profiles: Molto2Profile[];
  private challenge = new Uint8Array(8);
  private armed = false;
  private authed = false;
  private pending: { kind: "none" } | { kind: "reset"; since: number } | { kind: "setKey"; since: number; key: Uint8Array } = {
    kind: "none",
  };

  /** @throws TypeError/RangeError (INVALID_INPUT) on bad options. */
  constructor(options: Molto2TokenOptions = {}) {
    const count = options.profiles ?? 100;
    aoneOf(count, "profiles", [50, 100] as const);
    this.serial = options.serial ?? "000000000000001";
    encodeTokenInfo(this.serial, 0);
    this.initialTries = options.tries ?? 10;
    aint(this.initialTries, "tries", 1, 255);
    this.triesLeft = this.initialTries;
    if (options.confirmTimeout !== undefined) aint(options.confirmTimeout, "confirmTimeout", 1, 86_400);
    this.confirmTimeout = options.confirmTimeout;
    this.clock = options.clock ?? systemClock;
    this.rng = options.rng ?? systemRng;
    this.key = molto2Key(options.customerKey ?? MOLTO2_DEFAULT_CUSTOMER_KEY);
    this.profiles = Array.from({ length: count }, emptyProfile);
  }

  /** The device clock (one for all profiles [EMU], u32). */
  rtc(): number {
    return (this.clock() + this.rtcOffset) >>> 0;
  }

  /**
   * Power and reset drop the session (§2.9 field loss, keyroost's "resets its card state" [HW]),
   * but not a pending ▲ action: the official tools disconnect with the card unpowered or reset
   * before the user presses ▲ (§3.16, "What ends a pending ▲ action").
   */
  powerOn(): void {
    this.dropSession();
  }
  powerOff(): void {
    this.dropSession();
  }
  reset(): void {
    this.dropSession();
  }

  private dropSession(): void {
    this.armed = false;
    this.authed = false;
  }

  /** Sets or replaces the action ▲ commits: the latest request wins [EMU]. */
  private setPending(next: { kind: "reset" } | { kind: "setKey"; key: Uint8Array }): void {
    this.clearPending();
    this.pending = { ...next, since: this.clock() };
  }

  private clearPending(): void {
    if (this.pending.kind === "setKey") this.pending.key.fill(0);
    this.pending = { kind: "none" };
  }

  /** Lets an unconfirmed action lapse once confirmTimeout has passed. */
  private expirePending(): void {
    if (this.pending.kind === "none" || this.confirmTimeout === undefined) return;
    if (this.clock() - this.pending.since >= this.confirmTimeout) this.clearPending();
  }

  /**
   * The ▲ button: commits a pending key change or factory reset (§3.11, §3.12), whatever was sent
   * or powered in between. Returns what it committed. After a key change the session is dropped
   * [EMU]: the host re-authenticates with the new key.
   */
  pressButton(): Molto2Pending {
    this.expirePending();
    const pending = this.pending;
    this.pending = { kind: "none" };
    if (pending.kind === "setKey") {
      this.key.fill(0);
      this.key = pending.key;
      this.armed = false;
      this.authed = false;
    } else if (pending.kind === "reset") {
      this.factoryReset();
    }
    return pending.kind;
  }

  private factoryReset(): void {
    this.key.fill(0);
    this.key = molto2Key(MOLTO2_DEFAULT_CUSTOMER_KEY);
    for (const p of this.profiles) p.seed.fill(0);
    this.profiles = this.profiles.map(emptyProfile);
    this.triesLeft = this.initialTries;
    this.screenLocked = false;
    this.display = 0x01;
    this.armed = false;
    this.authed = false;
  }

  /** Inspection for tests. */
  state(): Molto2State {
    this.expirePending();
    return {
      serial: this.serial,
      keyDigest: this.key.slice(),
      triesLeft: this.triesLeft,
      authed: this.authed,
      armed: this.armed,
      pending: this.pending.kind,
      screenLocked: this.screenLocked,
      display: this.display,
      rtc: this.rtc(),
      profiles: this.profiles.map((p) => ({ ...p, seed: p.seed.slice(), title: p.title.slice() })),
    };
  }

  /**
   * The code profile `profile` shows at `time` (default the RTC), or null if it holds no seed:
   * RFC 6238 with the profile's alg, step and digits (§3.16); untouched values fall back to
   * SHA-1 / 30 s / 6 digits [EMU].
   * @throws RangeError (INVALID_INPUT) on a profile outside the device's range.
   */
  code(profile: number, time: number = this.rtc()): string | null {
    aint(profile, "profile", 0, this.profiles.length - 1);
    aint(time, "time", 0, Number.MAX_SAFE_INTEGER);
    const p = this.profiles[profile]!;
    if (p.seed.length === 0) return null;
    const digits = p.digits >= 4 && p.digits <= 10 ? p.digits : 6;
    return totp(p.alg === 0x02 ? "SHA256" : "SHA1", p.seed, { time, period: p.step === 0 ? 30 : p.step, digits });
  }

  /**
   * Answers one C-APDU. A pending ▲ action stays pending: the official GUIs poll the info read
   * every 2 s while the user is asked to press (§3.16).
   * @throws TypeError (INVALID_INPUT) if apdu is not a Uint8Array; never for any byte content.
   */
  transmit(apdu: Uint8Array): Uint8Array {
    abytes(apdu, "apdu");
    this.expirePending();
    const cmd = readLax(apdu);
    if (cmd === null) return swBytes(SW.WRONG_LENGTH);
    if (cmd.cla === 0x80) return this.plain(cmd);
    if (cmd.cla === 0x84) return swBytes(this.secure(cmd));
    return swBytes(SW.CLA_NOT_SUPPORTED);
  }

  private plain(cmd: LaxCommand): Uint8Array {
    switch (cmd.ins) {
      case 0x41:
        return this.info(cmd);
      case 0x4b:
        if (cmd.p1 !== 0x08) return swBytes(SW.INS_NOT_SUPPORTED); // as Family A (§2.8) [EMU]
        this.challenge = this.rng(8).slice(0, 8);
        this.armed = true;
        this.authed = false;
        return Uint8Array.from([...this.challenge, 0x90, 0x00]);
      case 0xce:
        return swBytes(this.authFinish(cmd));
      case 0xe6:
        return swBytes(this.deleteSeed(cmd.p2));
      case 0x56:
        this.setPending({ kind: "reset" });
        return swBytes(SW.WAITING_FOR_BUTTON);
      case 0xd8:
        return swBytes(this.screenLock(cmd));
      default:
        return swBytes(SW.INS_NOT_SUPPORTED);
    }
  }

  /** Data `70` asks for a profile's public block; anything else is the info read [EMU] (§3.4, §3.5). */
  private info(cmd: LaxCommand): Uint8Array {
    if (cmd.lc === 1 && cmd.data[0] === 0x70) {
      if (cmd.trailing > 0) return swBytes(SW.PUBLIC_READ_CASE4);
      const profile = this.profiles[cmd.p2];
      if (profile === undefined) return swBytes(SW.INCORRECT_P1_P2);
      return Uint8Array.from([...publicBlock(profile, this.rtc()), 0x90, 0x00]);
    }
    return Uint8Array.from([...encodeTokenInfo(this.serial, this.rtc()), 0x90, 0x00]);
  }

  /** §3.6 with the [EMU] rules of §3.16: 63 NN, 63 00 once locked, success resets the counter. */
  private authFinish(cmd: LaxCommand): number {
    if (this.triesLeft === 0) return 0x6300;
    if (!this.armed || cmd.lc !== 16) return SW.WRONG_DATA;
    const expected = authResponse(this.key, this.challenge);
    const ok = constantTimeEqual(expected, cmd.data);
    expected.fill(0);
    this.armed = false;
    if (!ok) {
      this.triesLeft--;
      return 0x6300 | this.triesLeft;
    }
    this.triesLeft = this.initialTries;
    this.authed = true;
    return SW.OK;
  }

  /** §3.10: no authentication needed [HW]; the title stays. */
  private deleteSeed(p2: number): number {
    const profile = this.profiles[p2];
    if (profile === undefined) return SW.INCORRECT_P1_P2;
    if (profile.seed.length === 0) return SW.RECORD_NOT_FOUND;
    profile.seed.fill(0);
    profile.seed = new Uint8Array(0);
    return SW.OK;
  }

  /** §3.13: lock `0C 02` with no data, unlock with data `01`; authentication required [EMU per spec]. */
  private screenLock(cmd: LaxCommand): number {
    if (!this.authed) return SW.SECURITY_STATUS_NOT_SATISFIED;
    if (cmd.p1 !== 0x0c || cmd.p2 !== 0x02) return SW.INCORRECT_P1_P2;
    if (cmd.lc === 0) this.screenLocked = true;
    else if (cmd.lc === 1 && cmd.data[0] === 0x01) this.screenLocked = false;
    else return SW.WRONG_DATA;
    return SW.OK;
  }

  /** [EMU] order: length, MAC (6988), INS (6D00), authentication (6982), profile (6A86), body. */
  private secure(cmd: LaxCommand): number {
    if (cmd.lc < 4) return SW.WRONG_LENGTH;
    const { body, mac } = splitMac(cmd.data);
    const expected = token2Mac(this.key, macInput(cmd.ins, cmd.p1, cmd.p2, body));
    if (!constantTimeEqual(expected, mac)) return SW.SM_DATA_INCORRECT;
    const known =
      (cmd.ins === 0xc5 && cmd.p1 === 0x01) ||
      (cmd.ins === 0xd5 && cmd.p1 === 0x00) ||
      (cmd.ins === 0xd4 && cmd.p1 === 0x01) ||
      (cmd.ins === 0xd7 && cmd.p1 === 0x00 && cmd.p2 === 0x00);
    if (!known) return SW.INS_NOT_SUPPORTED;
    if (!this.authed) return SW.SECURITY_STATUS_NOT_SATISFIED;
    if (cmd.ins === 0xd7) return this.changeKey(body);
    const profile = this.profiles[cmd.p2];
    if (profile === undefined) return SW.INCORRECT_P1_P2;
    if (cmd.ins === 0xc5) return this.writeSeed(profile, body);
    if (cmd.ins === 0xd5) return this.writeTitle(profile, body);
    return this.writeConfig(profile, body);
  }

  private decrypt(body: Uint8Array, maxBlocks: number): Uint8Array | null {
    if (body.length === 0 || body.length % 16 !== 0 || body.length > 16 * maxBlocks) return null;
    return sm4DecryptEcb(this.key, body);
  }

  /** §3.16: all-zero plaintext (the vendor's clear sentinel) or an empty payload clears [EMU]; overwrite allowed [EMU]. */
  private writeSeed(profile: Molto2Profile, body: Uint8Array): number {
    const plain = this.decrypt(body, 4);
    if (plain === null) return SW.WRONG_DATA;
    const seed = plain.every((b) => b === 0) ? new Uint8Array(0) : unpadIso9797M2(plain);
    plain.fill(0);
    if (seed === null) return SW.WRONG_DATA;
    profile.seed.fill(0);
    profile.seed = seed;
    profile.touched = true;
    return SW.OK;
  }

  /** §3.8: one block, padding stripped, stored zero-filled in 16 bytes. */
  private writeTitle(profile: Molto2Profile, body: Uint8Array): number {
    const plain = this.decrypt(body, 1);
    const title = plain === null ? null : unpadIso9797M2(plain);
    if (title === null) return SW.WRONG_DATA;
    profile.title = new Uint8Array(16);
    profile.title.set(title);
    profile.touched = true;
    return SW.OK;
  }

  /**
   * §3.9 / §3.16: the exact 22-byte config template or the 8-byte sync template. Values are range
   * checked (alg 1-2, digits 4/6/8/10, step 30/60, display 0-3) [EMU: the real checks are unknown].
   */
  private writeConfig(profile: Molto2Profile, body: Uint8Array): number {
    const b = body;
    const view = new DataView(b.buffer, b.byteOffset, b.length);
    if (b.length === 8 && b[0] === 0x81 && b[1] === 0x06 && b[2] === 0x0f && b[3] === 0x04) {
      this.setTime(profile, view.getUint32(4));
      return SW.OK;
    }
    const template = [0x81, 0x14, 0x1f, 0x01, -1, 0x0f, 0x04, -1, -1, -1, -1, 0x86, 0x09, 0x0a, 0x01, -1, 0x0b, 0x01, -1, 0x0d, 0x01, -1];
    if (b.length !== 22 || template.some((v, i) => v >= 0 && b[i] !== v)) return SW.WRONG_DATA;
    const [display, alg, digits, step] = [b[4]!, b[15]!, b[18]!, b[21]!];
    if (display > 3 || (alg !== 1 && alg !== 2) || ![4, 6, 8, 10].includes(digits) || (step !== 30 && step !== 60)) {
      return SW.WRONG_DATA;
    }
    this.display = display;
    Object.assign(profile, { alg, digits, step, touched: true });
    this.setTime(profile, view.getUint32(7));
    return SW.OK;
  }

  private setTime(profile: Molto2Profile, time: number): void {
    this.rtcOffset = time - this.clock();
    profile.timeB = time;
    profile.touched = true;
  }

  /** §3.11: plaintext must be `00 ‖ K' ‖ 80 ‖ 00×14`; answer 9060 and wait for ▲. */
  private changeKey(body: Uint8Array): number {
    if (body.length !== 32) return SW.WRONG_DATA;
    const plain = this.decrypt(body, 2)!;
    const payload = unpadIso9797M2(plain);
    plain.fill(0);
    if (payload === null || payload.length !== 17 || payload[0] !== 0x00) {
      payload?.fill(0);
      return SW.WRONG_DATA;
    }
    this.setPending({ kind: "setKey", key: payload.slice(1) });
    payload.fill(0);
    return SW.WAITING_FOR_BUTTON;
  }
}
