import { describe, expect, it } from "vitest";
import { otpbError } from "../../src/lib/errors.js";
import { createLogger, silentLogger } from "../../src/lib/log.js";

describe("the JSON-lines logger", () => {
  it("writes one JSON object per line at or above its level, with child fields", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", write: (l) => lines.push(l), fields: { app: "otpb" }, now: () => 0 });
    log.debug("hidden");
    log.child({ reader: "R1" }).info("burned", { serial: "86596220000001" });
    log.error("failed", { error: otpbError("CARD_REMOVED", "gone") });
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { time: "1970-01-01T00:00:00.000Z", level: "info", msg: "burned", app: "otpb", reader: "R1", serial: "86596220000001" },
      {
        time: "1970-01-01T00:00:00.000Z",
        level: "error",
        msg: "failed",
        app: "otpb",
        error: { name: "OtpbridgeError", reason: "CARD_REMOVED", message: "gone" },
      },
    ]);
  });

  it("is off by default", () => {
    const lines: string[] = [];
    createLogger({ write: (l) => lines.push(l) }).error("x");
    expect(lines).toEqual([]);
  });

  it("refuses byte arrays and secret-named fields at every level, even when off", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
    for (const logger of [log, silentLogger]) {
      expect(() => logger.debug("x", { frame: new Uint8Array(4) })).toThrow(/byte array/);
      expect(() => logger.info("x", { nested: { deeper: [Buffer.from("ab")] } })).toThrow(/byte array/);
      expect(() => logger.warn("x", { seed: "JBSWY3DP" })).toThrow(/secret/);
      expect(() => logger.error("x", { Secret: 1 })).toThrow(/secret/);
      expect(() => logger.child({ apdu: "8041" })).toThrow(/secret/);
      expect(() => logger.info("x", { buffer: new ArrayBuffer(2) })).toThrow(/byte array/);
    }
    expect(lines).toEqual([]);
  });
});
