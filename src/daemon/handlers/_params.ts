/**
 * Param decoding shared by the handlers: each handler validates its params here, at the API
 * boundary (STYLE.md "validate once"), and the drivers below trust the types.
 */
import { aint, aoneOf } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import { parseBase32Secret } from "../../input/secret.js";
import { objectParams } from "../rpc.js";
import type { DeviceInfo } from "../../drivers/device-manager.js";
import type { DaemonCore, DeviceLink } from "../core.js";
import type { ClientContext } from "../rpc.js";

export { objectParams };

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

/**
 * A base32 seed param (the caller zeroes the bytes once used), or undefined when absent. The
 * message never quotes the value.
 * @throws OtpbridgeError INVALID_SECRET_FORMAT / INVALID_INPUT.
 */
export function optionalSeed(params: Record<string, unknown>, name = "seed"): Uint8Array | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > 128) throw otpbError("INVALID_INPUT", `${name} must be a base32 string`, { detail: { param: name } });
  return parseBase32Secret(value);
}

/** Runs `fn` on the device of the `session` param, in the core (one call in flight per session). */
export function onSession<T>(
  core: DaemonCore, params: Record<string, unknown>, client: ClientContext,
  fn: (link: DeviceLink, device: DeviceInfo) => Promise<T>,
): Promise<T> {
  return core.call(client.id, text(params, "session", 64), fn);
}
