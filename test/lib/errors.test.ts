import { describe, expect, it } from "vitest";
import { REASONS, otpbError, reasonOf } from "../../src/lib/errors.js";

describe("the error reasons table", () => {
  it("gives every application reason its own JSON-RPC code in -32000..-32099", () => {
    const application = Object.entries(REASONS).filter(([, r]) => r.rpcCode >= -32099 && r.rpcCode <= -32000);
    const codes = application.map(([, r]) => r.rpcCode);
    expect(new Set(codes).size).toBe(codes.length);
    // The rest use the JSON-RPC 2.0 reserved codes on purpose: invalid params and internal error.
    for (const [name, r] of Object.entries(REASONS)) {
      if (!application.some(([n]) => n === name)) expect([-32602, -32603]).toContain(r.rpcCode);
    }
  });

  it("maps CLI exit codes to 2 (usage) or 3 and above, never 0 or 1", () => {
    for (const r of Object.values(REASONS)) expect(r.exitCode === 2 || r.exitCode >= 3).toBe(true);
  });

  it("keeps the reason of an otpbridge error and calls anything else INTERNAL", () => {
    expect(reasonOf(otpbError("UNKNOWN_MODEL", "x"))).toBe("UNKNOWN_MODEL");
    expect(reasonOf(new Error("x"))).toBe("INTERNAL");
    expect(reasonOf("a string")).toBe("INTERNAL");
  });
});
