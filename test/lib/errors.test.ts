import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { RPC_CODES } from "../../src/daemon/rpc-codes.js";
import { REASONS, otpbError, reasonOf } from "../../src/lib/errors.js";

describe("the error reasons and their codes at the edges", () => {
  it("the CLI and the daemon map exactly the reasons there are", () => {
    expect(Object.keys(EXIT_CODES)).toEqual([...REASONS]);
    expect(Object.keys(RPC_CODES)).toEqual([...REASONS]);
  });

  it("gives every application reason its own JSON-RPC code in -32000..-32099", () => {
    const application = Object.entries(RPC_CODES).filter(([, code]) => code >= -32099 && code <= -32000);
    const codes = application.map(([, code]) => code);
    expect(new Set(codes).size).toBe(codes.length);
    // The rest use the JSON-RPC 2.0 reserved codes on purpose: invalid params and internal error.
    for (const [name, code] of Object.entries(RPC_CODES)) {
      if (!application.some(([n]) => n === name)) expect([-32602, -32603]).toContain(code);
    }
  });

  it("maps CLI exit codes to 2 (usage) or 3 and above, never 0 or 1", () => {
    for (const code of Object.values(EXIT_CODES)) expect(code === 2 || code >= 3).toBe(true);
  });

  it("keeps the reason of an otpbridge error and calls anything else INTERNAL", () => {
    expect(reasonOf(otpbError("UNKNOWN_MODEL", "x"))).toBe("UNKNOWN_MODEL");
    expect(reasonOf(new Error("x"))).toBe("INTERNAL");
    expect(reasonOf("a string")).toBe("INTERNAL");
  });
});
