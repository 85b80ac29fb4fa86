/**
 * batch.lint's function on its own: every bad row named with batch.create's own message and
 * reason, a header problem once, good rows previewed without their secrets.
 */
import { describe, expect, it } from "vitest";
import { lintBatchCsv } from "../../src/daemon/handlers/batch-lint.js";
import { parseBatchCsv } from "../../src/service/batch-input.js";

const GOOD = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

describe("batch.lint", () => {
  it("names every bad line, with the message batch.create gives for it", () => {
    const csv = [
      "upn,secret,algorithm,digits,period",
      `alice@example.com,${GOOD},SHA1,6,30`,
      `bob@example.com,${GOOD},SHA1,8,30`,
      "carol@example.com,not*base32,SHA1,6,30",
      `dave@example.com,${GOOD},MD5,6,30`,
      "erin@example.com,,SHA256,6,60",
    ].join("\n");
    const { rows, problems } = lintBatchCsv(csv);
    expect(problems.map((p) => [p.line, p.reason])).toEqual([
      [3, "NOT_BURNABLE"],
      [4, "INVALID_SECRET_FORMAT"],
      [5, "INVALID_INPUT"],
    ]);
    expect(problems[0]!.message).toBe("line 3: single-profile tokens show 6 digits, not 8");
    // The first problem is the one batch.create stops at, word for word.
    expect(() => parseBatchCsv(csv, "x")).toThrow(problems[0]!.message);
    expect(rows.map((r) => [r.line, r.label, r.secret])).toEqual([
      [2, "alice@example.com", "given"],
      [3, "bob@example.com", null],
      [4, "carol@example.com", null],
      [5, "dave@example.com", null],
      [6, "erin@example.com", "generated"],
    ]);
    expect(rows[4]).toMatchObject({ algorithm: "SHA256", period: 60, digits: 6 });
    expect(JSON.stringify({ rows, problems })).not.toContain(GOOD);
  });

  it("reports a header problem once, on line 1, and a file that is no CSV with its line", () => {
    const header = lintBatchCsv(`upn,secert\na,${GOOD}\nb,${GOOD}\n`);
    expect(header.rows).toEqual([]);
    expect(header.problems).toHaveLength(1);
    expect(header.problems[0]).toMatchObject({ line: 1, reason: "INVALID_INPUT" });
    expect(header.problems[0]!.message).toContain("is not a known column");
    const broken = lintBatchCsv(`upn,secret\na,${GOOD}\nb,"${GOOD}\n`);
    expect(broken.problems).toHaveLength(1);
    expect(broken.problems[0]!.reason).toBe("INVALID_INPUT");
    expect(lintBatchCsv("upn\n").problems[0]).toMatchObject({ line: 1, reason: "INVALID_INPUT" });
  });
});
