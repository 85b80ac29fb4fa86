import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { RPC_CODES } from "../../src/daemon/rpc-codes.js";
import { REASONS } from "../../src/lib/errors.js";
import { fixSections, parseReasons, readSources, renderErrorsDoc, renderTroubleshootingDoc } from "../../scripts/errors-doc.mjs";

const source = readSources();
const page = (name: string): string => readFileSync(new URL(`../../docs/${name}`, import.meta.url), "utf8");

describe("the reasons, their codes and their fixes", () => {
  it("document every reason with its exit code and JSON-RPC code, a meaning and a fix", () => {
    const parsed = parseReasons(source);
    expect(parsed.map((r) => r.reason)).toEqual([...REASONS]);
    expect(fixSections(source)).toEqual([...REASONS]);
    for (const r of parsed) {
      const reason = r.reason as keyof typeof EXIT_CODES;
      expect({ exitCode: r.exitCode, rpcCode: r.rpcCode }).toEqual({ exitCode: EXIT_CODES[reason], rpcCode: RPC_CODES[reason] });
      expect(r.meaning.length, r.reason).toBeGreaterThan(10);
      expect(r.meaning, r.reason).not.toMatch(/^\*|Fix:/);
      expect(r.fix.length, `${r.reason} has no "Fix:" text`).toBeGreaterThan(30);
    }
  });

  it("give different advice for different reasons", () => {
    const fixes = parseReasons(source).map((r) => r.fix);
    expect(new Set(fixes).size).toBe(fixes.length);
  });
});

describe("docs/ERRORS.md", () => {
  it("is the page the table renders (regenerate with `node scripts/errors-doc.mjs`)", () => {
    expect(page("ERRORS.md")).toBe(renderErrorsDoc(source));
  });

  it("explains every exit code the table uses", () => {
    const text = page("ERRORS.md");
    const legend = text.slice(text.indexOf("Exit codes:"), text.indexOf("| reason |"));
    for (const code of new Set(Object.values(EXIT_CODES))) expect(legend).toMatch(new RegExp(`\\b${code} `));
  });
});

describe("docs/TROUBLESHOOTING.md", () => {
  it("is the page the table renders (regenerate with `node scripts/errors-doc.mjs`)", () => {
    expect(page("TROUBLESHOOTING.md")).toBe(renderTroubleshootingDoc(source));
  });

  it("has one section per reason, in table order, with its codes, meaning and fix", () => {
    const text = page("TROUBLESHOOTING.md");
    const headings = [...text.matchAll(/^## ([A-Z_]+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual([...REASONS]);
    for (const r of parseReasons(source)) {
      const section = text.slice(text.indexOf(`## ${r.reason}\n`)).split(/\n## /)[0]!;
      expect(section).toContain(`Exit code ${r.exitCode}, JSON-RPC code ${r.rpcCode}.`);
      expect(section).toContain(`**What it means.** ${r.meaning}`);
      expect(section).toContain(`**What to do.** ${r.fix}`);
    }
  });
});
