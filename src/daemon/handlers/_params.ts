/**
 * Param decoding shared by the handlers: each handler validates its params here, at the API
 * boundary (validate once, as @noble/hashes does), and the drivers below trust the types.
 */
import { aint, aoneOf } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import type { DeviceFamily } from "../../input/capabilities.js";
import { seedForDevice, type DeviceSeed, type SeedParameters } from "../../input/seed-input.js";
import { objectParams } from "../rpc.js";
import type { DeviceInfo } from "../../drivers/device-manager.js";
import type { DaemonCore, DeviceLink } from "../core.js";
import type { ClientContext } from "../rpc.js";

export { objectParams };

/**
 * Longest `seed` text: an otpauth-migration export of one account with long names fits; a
 * 63-byte seed is 101 base32 characters.
 */
const MAX_SEED_TEXT = 2048;

/**
 * A string param of 1..`max` characters.
 * @throws OtpbridgeError INVALID_INPUT.
 */
export function text(params: Record<string, unknown>, name: string, max = 256): string {
  const value = params[name];
  if (typeof value !== "string" || value.length < 1 || value.length > max) {
    throw otpbError("INVALID_INPUT", `${name} must be a string of 1..${max} characters`, { detail: { param: name } });
  }
  return value;
}

/** Like {@link text}, or undefined when absent. */
export function optionalText(params: Record<string, unknown>, name: string, max = 256): string | undefined {
  return params[name] === undefined ? undefined : text(params, name, max);
}

/** An integer param in [min, max], or `fallback` when absent. @throws RangeError/TypeError (INVALID_INPUT). */
export function int(params: Record<string, unknown>, name: string, min: number, max: number, fallback?: number): number {
  const value = params[name] ?? fallback;
  aint(value, name, min, max);
  return value;
}

/** One of `allowed`, or `fallback` when absent. @throws TypeError/RangeError (INVALID_INPUT). */
export function oneOf<T extends string | number>(params: Record<string, unknown>, name: string, allowed: readonly T[], fallback?: T): T {
  const value = params[name] ?? fallback;
  aoneOf(value, name, allowed);
  return value;
}

/** A boolean param, `fallback` when absent. @throws OtpbridgeError INVALID_INPUT. */
export function flag(params: Record<string, unknown>, name: string, fallback: boolean): boolean {
  const value = params[name] ?? fallback;
  if (typeof value !== "boolean") throw otpbError("INVALID_INPUT", `${name} must be a boolean`, { detail: { param: name } });
  return value;
}

/** Like {@link oneOf}, or undefined when absent. */
export function optionalOneOf<T extends string | number>(params: Record<string, unknown>, name: string, allowed: readonly T[]): T | undefined {
  return params[name] === undefined ? undefined : oneOf(params, name, allowed);
}

/**
 * The `seed` param for a `family` device, through the same seed rules as the CLI
 * (src/input/seed-input.ts): base32, an otpauth://totp URI or a one-account otpauth-migration
 * export, or hex when `seedEncoding` is "hex"; `explicit` (the method's own algorithm, digits,
 * period params, undefined when absent) is refused beside a URI. Undefined when `seed` is absent.
 * The caller zeroes the secret once used; no message quotes the value.
 * @throws OtpbridgeError INVALID_INPUT, INVALID_SECRET_FORMAT, WRONG_CODE_SCANNED, NOT_BURNABLE.
 */
export function optionalSeed(params: Record<string, unknown>, family: DeviceFamily, explicit: Partial<SeedParameters> = {}): DeviceSeed | undefined {
  const value = params.seed;
  if (value === undefined) return undefined;
  const encoding = oneOf(params, "seedEncoding", ["base32", "hex"] as const, "base32");
  if (typeof value !== "string" || value.length > MAX_SEED_TEXT) {
    throw otpbError("INVALID_INPUT", `seed must be a string of at most ${MAX_SEED_TEXT} characters`, { detail: { param: "seed" } });
  }
  return seedForDevice(value, family, { hex: encoding === "hex", explicit });
}

/** Runs `fn` on the device of the `session` param, in the core (one call in flight per session). */
export function onSession<T>(
  core: DaemonCore,
  params: Record<string, unknown>,
  client: ClientContext,
  fn: (link: DeviceLink, device: DeviceInfo) => Promise<T>,
): Promise<T> {
  return core.call(client.id, text(params, "session", 64), fn);
}
