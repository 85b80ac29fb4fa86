/**
 * Device side of a Family A single-profile token: the state machine of docs/PROTOCOL.md §2.9, which is
 * normative and matches Token2's firmware core, including its error answers and its quirks
 * (partial config assignments, MAC checked before INS and before authentication, the empty-seed
 * "clear" path). Replaying Appendix B against it reproduces the firmware's 21 responses.
 */
import { abytes, aint } from "../lib/checks.js";
import { authResponse, sm4DecryptEcb, token2Mac, totp, unpadIso9797M2 } from "../crypto/index.js";
import { modelOfSerial } from "../protocol/models.js";
import { SINGLE_PROFILE_KEY } from "../protocol/single-profile.js";
import { SW, swBytes } from "../protocol/status-words.js";
import { encodeTokenInfo, type InfoForm } from "../protocol/token-info.js";
import { buildAtr, constantTimeEqual, macInput, readLax, splitMac, systemClock, systemRng, type Clock, type LaxCommand, type Rng } from "./common.js";

/** Factory serial of the open core (an OTPC-P2-i, §2.9). */
export const FACTORY_SERIAL = "86596220000001";

/** The 19-byte config template (§2.6) with the value positions 4 (dd), 7..10 (time), 15 (aa), 18 (ss). */
const CONFIG_TEMPLATE = Uint8Array.of(0x81, 0x11, 0x1f, 0x01, 0, 0x0f, 0x04, 0, 0, 0, 0, 0x86, 0x06, 0x0a, 0x01, 0, 0x0d, 0x01, 0);

export interface SingleProfileTokenOptions {
  /** ASCII serial, ≤ 16 characters; default {@link FACTORY_SERIAL}. */
  serial?: string;
  /** Erase the seed on config writes; default from the model table, true for unknown serials (§2.1). */
  restrictedSync?: boolean;
  /** Time source for the RTC; default the system clock. Use pinnedClock() for the firmware mock. */
  clock?: Clock;
  /** Challenge source; default node:crypto. */
  rng?: Rng;
  /** GET INFO header/separator style; default the core's zeros (§2.4). */
  infoForm?: InfoForm;
  /**
   * Keep `armed`/`authed` across powerOff/reset. Default false: §2.9 [UNK → EMU] recommends clearing
   * them whenever the host reconnects; the open core itself keeps them.
   */
  keepSessionOnReconnect?: boolean;
  /** "Legacy lock" mode (§2.9 Lockout, [EMU]): set keyLocked after this many wrong answers; default off. */
  legacyLockAfter?: number;
  /** Start with the device key locked (units "sealed by an administrator", [INF]). */
  keyLocked?: boolean;
}

/** A snapshot of the token for tests; `seed` is a copy. */
export interface SingleProfileState {
  serial: string;
  seed: Uint8Array;
  alg: number;
  step: number;
  display: number;
  keyLocked: boolean;
  restrictedSync: boolean;
  rtc: number;
  armed: boolean;
  authed: boolean;
  failedAuths: number;
}

/**
 * A Family A token. A VirtualCard (src/transports/types.ts); the ATR is that of an ISO 14443-4 card with no
 * historical bytes as PC/SC part 3 reports it (`3B 80 80 01 01`) [EMU: no public source has the real one].
 * @example const token = new SingleProfileToken({ clock: pinnedClock(1700000000) }); token.transmit(getInfoApdu())
 */
export class SingleProfileToken {
  readonly atr: Uint8Array = buildAtr(new Uint8Array(0));
  private readonly serial: string;
  private readonly restrictedSync: boolean;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly infoForm: InfoForm;
  private readonly keepSession: boolean;
  private readonly lockAfter: number | null;
  private seed: Uint8Array = new Uint8Array(0);
  private alg = 0x01;
  private step = 0x1e;
  private display = 0x01;
  private keyLocked: boolean;
  private failedAuths = 0;
  /** RTC = clock() + offset, so a pinned clock stays at the last value written (mock HAL). */
  private rtcOffset = 0;
  private challenge = new Uint8Array(8);
  private armed = false;
  private authed = false;

  /** @throws RangeError (INVALID_INPUT) on a serial over 16 printable ASCII characters or a bad lock threshold. */
  constructor(options: SingleProfileTokenOptions = {}) {
    this.serial = options.serial ?? FACTORY_SERIAL;
    encodeTokenInfo(this.serial, 0); // validates the serial once
    this.restrictedSync = options.restrictedSync ?? modelOfSerial(this.serial)?.restrictedSync ?? true;
    this.clock = options.clock ?? systemClock;
    this.rng = options.rng ?? systemRng;
    this.infoForm = options.infoForm ?? "zeros";
    this.keepSession = options.keepSessionOnReconnect ?? false;
    if (options.legacyLockAfter !== undefined) aint(options.legacyLockAfter, "legacyLockAfter", 1, 255);
    this.lockAfter = options.legacyLockAfter ?? null;
    this.keyLocked = options.keyLocked ?? false;
  }

  /** The device RTC (u32 Unix seconds). */
  rtc(): number {
    return (this.clock() + this.rtcOffset) >>> 0;
  }

  /** Field on; RAM starts cleared unless keepSessionOnReconnect. */
  powerOn(): void {
    this.dropSession();
  }

  /** Field lost: volatile state goes, unless keepSessionOnReconnect (§2.9 field loss [EMU]). */
  powerOff(): void {
    this.dropSession();
  }

  /** Warm reset: same as a field drop. */
  reset(): void {
    this.dropSession();
  }

  private dropSession(): void {
    if (this.keepSession) return;
    this.armed = false;
    this.authed = false;
    this.challenge.fill(0);
  }

  /** Inspection for tests. */
  state(): SingleProfileState {
    return {
      serial: this.serial,
      seed: this.seed.slice(),
      alg: this.alg,
      step: this.step,
      display: this.display,
      keyLocked: this.keyLocked,
      restrictedSync: this.restrictedSync,
      rtc: this.rtc(),
      armed: this.armed,
      authed: this.authed,
      failedAuths: this.failedAuths,
    };
  }

  /**
   * The code the display would show at `time` (default: the RTC), or null with no seed: RFC 6238,
   * SHA-256 if alg = 02 else SHA-1, step byte in seconds, 6 digits (§2.9 Clock and display).
   * A step of 00 would divide by zero in the core; it is treated as 30 (§2.9 MUST guard).
   */
  code(time: number = this.rtc()): string | null {
    aint(time, "time", 0, Number.MAX_SAFE_INTEGER);
    if (this.seed.length === 0) return null;
    return totp(this.alg === 0x02 ? "SHA256" : "SHA1", this.seed, { time, period: this.step === 0 ? 30 : this.step, digits: 6 });
  }

  /**
   * Answers one C-APDU in the exact order of §2.9.
   * @throws TypeError (INVALID_INPUT) if apdu is not a Uint8Array; never for any byte content.
   */
  transmit(apdu: Uint8Array): Uint8Array {
    abytes(apdu, "apdu");
    const cmd = readLax(apdu);
    if (cmd === null) return swBytes(SW.WRONG_LENGTH);
    if (cmd.cla === 0x80) return this.plain(cmd);
    if (cmd.cla === 0x84) return swBytes(this.secure(cmd));
    return swBytes(SW.CLA_NOT_SUPPORTED);
  }

  private plain(cmd: LaxCommand): Uint8Array {
    if (cmd.ins === 0x41) {
      const info = encodeTokenInfo(this.serial, this.rtc(), this.infoForm);
      return Uint8Array.from([...info, 0x90, 0x00]);
    }
    if (cmd.ins === 0x4b && cmd.p1 === 0x08) {
      this.challenge = this.rng(8).slice(0, 8);
      this.armed = true;
      this.authed = false;
      return Uint8Array.from([...this.challenge, 0x90, 0x00]);
    }
    if (cmd.ins === 0xce) return swBytes(this.authFinish(cmd));
    return swBytes(SW.INS_NOT_SUPPORTED);
  }

  private authFinish(cmd: LaxCommand): number {
    if (this.keyLocked) return SW.AUTH_METHOD_BLOCKED;
    if (!this.armed || cmd.lc !== 16) return SW.WRONG_DATA;
    const expected = authResponse(SINGLE_PROFILE_KEY, this.challenge);
    const ok = constantTimeEqual(expected, cmd.data);
    expected.fill(0);
    this.armed = false;
    if (!ok) {
      this.failedAuths++;
      if (this.lockAfter !== null && this.failedAuths >= this.lockAfter) this.keyLocked = true;
      return SW.AUTH_METHOD_BLOCKED;
    }
    this.authed = true;
    return SW.OK;
  }

  private secure(cmd: LaxCommand): number {
    if (cmd.lc < 4) return SW.WRONG_LENGTH;
    const { body, mac } = splitMac(cmd.data);
    const expected = token2Mac(SINGLE_PROFILE_KEY, macInput(cmd.ins, cmd.p1, cmd.p2, body));
    if (!constantTimeEqual(expected, mac)) return SW.AUTH_METHOD_BLOCKED;
    if (cmd.ins === 0xc5 && cmd.p1 === 0x01) return this.authed ? this.writeSeed(body) : SW.AUTH_METHOD_BLOCKED;
    if (cmd.ins === 0xd4) return this.authed ? this.writeConfig(body) : SW.AUTH_METHOD_BLOCKED;
    return SW.INS_NOT_SUPPORTED;
  }

  /** §2.7 firmware behaviour: 16/32/48/64-byte body, device-side unpad, empty result accepted. */
  private writeSeed(body: Uint8Array): number {
    if (body.length === 0 || body.length > 64 || body.length % 16 !== 0) return SW.WRONG_DATA;
    const plain = sm4DecryptEcb(SINGLE_PROFILE_KEY, body);
    const seed = unpadIso9797M2(plain);
    plain.fill(0);
    if (seed === null) return SW.WRONG_DATA;
    this.seed.fill(0);
    this.seed = seed;
    return SW.OK;
  }

  /** §2.6 firmware validation, in offset order, with its partial assignments. */
  private writeConfig(body: Uint8Array): number {
    if (body.length !== CONFIG_TEMPLATE.length) return SW.WRONG_DATA;
    const matches = (...offsets: number[]): boolean => offsets.every((i) => body[i] === CONFIG_TEMPLATE[i]);
    if (!matches(0, 1, 2, 3)) return SW.WRONG_DATA;
    this.display = body[4]!;
    if (!matches(5, 6, 11, 12, 13, 14)) return SW.WRONG_DATA;
    this.alg = body[15]!;
    if (!matches(16, 17)) return SW.WRONG_DATA;
    this.step = body[18]!;
    const time = new DataView(body.buffer, body.byteOffset + 7, 4).getUint32(0);
    this.rtcOffset = time - this.clock();
    if (this.restrictedSync) {
      this.seed.fill(0);
      this.seed = new Uint8Array(0);
    }
    return SW.OK;
  }
}
