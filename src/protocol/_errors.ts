import { inputError, otpbError, type OtpbridgeError } from "../lib/errors.js";

/** Which side produced the bytes: a device's response (host parsers) or a host's command (device parsers). */
export type WireSide = "response" | "command";

/**
 * The one factory for parser failures in src/protocol. `detail` names the field and what was expected
 * (lengths, tags, ranges) and never the content, which may be a seed.
 */
export function malformed(side: WireSide, field: string, expected: string, got?: string | number): OtpbridgeError {
  const reason = side === "response" ? "MALFORMED_RESPONSE" : "MALFORMED_COMMAND";
  const tail = got === undefined ? "" : `, got ${got}`;
  return otpbError(reason, `${field}: expected ${expected}${tail}`, {
    detail: got === undefined ? { field, expected } : { field, expected, got },
  });
}

/** Lowercase-free hex of a short non-secret value (tags, status words) for messages. */
export function hexByte(value: number): string {
  return value.toString(16).toUpperCase().padStart(2, "0");
}

/**
 * A RangeError with `reason: "INVALID_INPUT"`, like the ones src/lib/checks.ts throws, for
 * protocol-specific constraints that its helpers cannot express (ASCII names, unsafe masks).
 */
export function invalidInput(message: string): RangeError {
  return inputError("range", message);
}
