/**
 * Input checks for public entry points (crypto facade, codecs, drivers, RPC params).
 * Check once at the boundary; code below it trusts the types. Wrong kind of value: TypeError;
 * wrong length or range: RangeError. Both carry `reason: "INVALID_INPUT"`. Messages name the
 * argument and describe what was received without quoting its content (it may be a seed).
 */
import { inputError } from "./errors.js";

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (ArrayBuffer.isView(value)) return value.constructor.name;
  return typeof value;
}

export interface BytesLimits {
  /** Exact length required. */
  length?: number;
  min?: number;
  max?: number;
  /** Length must be a multiple of this (block ciphers without padding). */
  multipleOf?: number;
}

/** Asserts a Uint8Array (Buffer included) within the given length limits. */
export function abytes(value: unknown, name: string, limits: BytesLimits = {}): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw inputError("type", `${name} must be a Uint8Array, got ${describe(value)}`);
  }
  const { length, min, max, multipleOf } = limits;
  if (length !== undefined && value.length !== length) {
    throw inputError("range", `${name} must be ${length} bytes, got ${value.length}`);
  }
  if (min !== undefined && value.length < min) {
    throw inputError("range", `${name} must be at least ${min} bytes, got ${value.length}`);
  }
  if (max !== undefined && value.length > max) {
    throw inputError("range", `${name} must be at most ${max} bytes, got ${value.length}`);
  }
  if (multipleOf !== undefined && value.length % multipleOf !== 0) {
    throw inputError("range", `${name} must be a multiple of ${multipleOf} bytes, got ${value.length}`);
  }
}

/** Asserts a safe integer in [min, max]. */
export function aint(value: unknown, name: string, min: number, max: number): asserts value is number {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw inputError("type", `${name} must be an integer, got ${describe(value)}`);
  }
  if (value < min || value > max) {
    throw inputError("range", `${name} must be between ${min} and ${max}`);
  }
}

/** Asserts a boolean (flags in option objects). */
export function abool(value: unknown, name: string): asserts value is boolean {
  if (typeof value !== "boolean") throw inputError("type", `${name} must be a boolean, got ${describe(value)}`);
}

/** Asserts one of a fixed set of values (algorithm names, periods...). */
export function aoneOf<T extends string | number>(value: unknown, name: string, allowed: readonly T[]): asserts value is T {
  if (!allowed.includes(value as T)) {
    // The rejected value is not quoted: a seed pasted into the wrong field would come back in the error.
    const got = typeof value === "string" || typeof value === "number" ? `another ${typeof value}` : describe(value);
    throw inputError("range", `${name} must be one of ${allowed.join(", ")}, got ${got}`);
  }
}

/** Asserts an array of at most `max` items (the items are checked by the caller). */
export function aarray(value: unknown, name: string, max: number): asserts value is unknown[] {
  if (!Array.isArray(value)) throw inputError("type", `${name} must be an array, got ${describe(value)}`);
  if (value.length > max) throw inputError("range", `${name} must have at most ${max} items, got ${value.length}`);
}

/** Asserts an array of Uint8Array, each within the limits. */
export function abytesArray(value: unknown, name: string, limits: BytesLimits = {}): asserts value is Uint8Array[] {
  if (!Array.isArray(value)) throw inputError("type", `${name} must be an array, got ${describe(value)}`);
  value.forEach((item, i) => abytes(item, `${name}[${i}]`, limits));
}

const U64_MAX = (1n << 64n) - 1n;

/** Accepts a bigint or a safe non-negative integer within [0, 2^64-1]; returns it as a bigint. */
export function au64(value: unknown, name: string): bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw inputError("range", `${name} must be a safe integer or a bigint`);
    }
    value = BigInt(value);
  }
  if (typeof value !== "bigint") {
    throw inputError("type", `${name} must be a bigint or an integer, got ${describe(value)}`);
  }
  if (value < 0n || value > U64_MAX) {
    throw inputError("range", `${name} must be between 0 and 2^64-1`);
  }
  return value;
}

/** Asserts a string of ASCII decimal digits (an OTP code) whose length is in [minLength, maxLength]. */
export function adigits(value: unknown, name: string, minLength: number, maxLength: number): asserts value is string {
  if (typeof value !== "string") throw inputError("type", `${name} must be a string, got ${describe(value)}`);
  if (value.length < minLength || value.length > maxLength) {
    throw inputError("range", `${name} must be ${minLength} to ${maxLength} digits long, got ${value.length}`);
  }
  // The content is not quoted: a code is a credential too.
  if (!/^[0-9]+$/.test(value)) throw inputError("range", `${name} must contain only the digits 0-9`);
}

/** Asserts a Uint32Array (an output buffer) of at least `minLength` elements. */
export function au32array(value: unknown, name: string, minLength: number): asserts value is Uint32Array {
  if (!(value instanceof Uint32Array)) {
    throw inputError("type", `${name} must be a Uint32Array, got ${describe(value)}`);
  }
  if (value.length < minLength) {
    throw inputError("range", `${name} must hold at least ${minLength} elements, got ${value.length}`);
  }
}
