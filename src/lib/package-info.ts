/**
 * Where otpbridge itself is installed and its version: read from its package.json, which sits next
 * to src/ in a clone and next to dist/ in an installed package.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

let found: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (found !== undefined) return found;
  // src/lib (tests, run from source) is two levels down; dist/src/lib (the built CLI) three.
  for (const up of ["../../", "../../../"]) {
    const root = new URL(up, import.meta.url);
    try {
      const pkg = JSON.parse(readFileSync(new URL("package.json", root), "utf8")) as { name?: string; version: string };
      if (pkg.name === "otpbridge") {
        found = { root: fileURLToPath(root), version: pkg.version };
        return found;
      }
    } catch {
      // Not at this level: try the next one.
    }
  }
  found = { root: fileURLToPath(new URL("../../", import.meta.url)), version: "unknown" };
  return found;
}

/** package.json's version; "unknown" when no otpbridge package.json is found. */
export function packageVersion(): string {
  return locate().version;
}

/** The directory holding otpbridge's package.json (the clone, or the installed package), with a trailing slash. */
export function packageRoot(): string {
  return locate().root;
}
