import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REASONS } from "../../src/lib/errors.js";
import { parseReasons, renderErrorsDoc } from "../../scripts/errors-doc.mjs";

const source = readFileSync(new URL("../../src/lib/errors.ts", import.meta.url), "utf8");

describe("docs/ERRORS.md", () => {
  it("documents every reason with its exit code and JSON-RPC code, and a meaning", () => {
    const parsed = parseReasons(source);
    expect(parsed.map((r) => r.reason)).toEqual(Object.keys(REASONS));
    for (const r of parsed) {
      const entry = REASONS[r.reason as keyof typeof REASONS];
      expect({ exitCode: r.exitCode, rpcCode: r.rpcCode }).toEqual(entry);
      expect(r.meaning.length).toBeGreaterThan(10);
    }
  });

  it("is the page the table renders (regenerate with `node scripts/errors-doc.mjs`)", () => {
    expect(readFileSync(new URL("../../docs/ERRORS.md", import.meta.url), "utf8")).toBe(renderErrorsDoc(source));
  });

  it("explains every exit code the table uses", () => {
    const page = readFileSync(new URL("../../docs/ERRORS.md", import.meta.url), "utf8");
    const legend = page.slice(page.indexOf("Exit codes:"), page.indexOf("| reason |"));
    for (const code of new Set(Object.values(REASONS).map((r) => r.exitCode))) expect(legend).toMatch(new RegExp(`\\b${code} `));
  });
});
