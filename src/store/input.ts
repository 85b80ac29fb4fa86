/**
 * Input checks the store needs beyond src/lib/checks.ts (strings), with the same conventions:
 * TypeError for the wrong kind, RangeError for the wrong size, both with `reason: "INVALID_INPUT"`,
 * and messages that give lengths, never content (a string here may be a passphrase).
 */
import { inputError } from "../lib/errors.js";

/** Asserts a string of `min` to `max` UTF-16 code units. */
export function atext(value: unknown, name: string, min: number, max: number): asserts value is string {
  if (typeof value !== "string") throw inputError("type", `${name} must be a string, got ${typeof value}`);
  if (value.length < min || value.length > max) {
    throw inputError("range", `${name} must be ${min} to ${max} characters, got ${value.length}`);
  }
}
