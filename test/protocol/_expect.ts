import { expect } from "vitest";
import { OtpbridgeError, type Reason } from "../../src/lib/errors.js";

/** Runs fn and returns what it threw (failing the test if it did not throw). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  expect.fail("expected a throw");
}

/** Asserts fn throws an OtpbridgeError with this reason and a detail naming a field. */
export function expectMalformed(fn: () => unknown, reason: Reason = "MALFORMED_RESPONSE", field?: RegExp): OtpbridgeError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(OtpbridgeError);
  const e = error as OtpbridgeError;
  expect(e.reason).toBe(reason);
  expect(typeof e.detail.field).toBe("string");
  expect(typeof e.detail.expected).toBe("string");
  if (field) expect(e.detail.field).toMatch(field);
  return e;
}
