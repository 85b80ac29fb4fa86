import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

/**
 * Which layers each layer may import (docs/ARCHITECTURE.md): data flows down, nothing imports upward.
 * The daemon never builds an APDU, so it may not import the protocol codecs: it calls drivers.
 */
const ALLOWED: Record<string, readonly string[]> = {
  types: [],
  lib: [],
  crypto: ["lib"],
  input: ["lib", "crypto"],
  protocol: ["lib", "crypto"],
  emulator: ["lib", "crypto", "protocol"],
  transports: ["lib"],
  doctor: ["lib", "transports"],
  store: ["lib", "input"],
  drivers: ["lib", "crypto", "input", "protocol", "transports"],
  service: ["lib", "crypto", "input", "transports", "drivers", "store", "doctor"],
  daemon: ["lib", "input", "emulator", "transports", "drivers", "store", "service"],
  /** A native client of a running daemon: speaks its API, never imports it. */
  client: ["lib"],
  // The operator console is browser code: a client of the public API, it imports nothing from src.
  console: [],
  cli: ["lib", "crypto", "input", "protocol", "emulator", "transports", "drivers", "store", "doctor", "service", "client"],
};

/**
 * Single files allowed one more layer than their own. The CLI is a client of the daemon, not a part
 * of it: only the command that starts a daemon, and the one that edits its pairing list, import it.
 */
const FILE_EXCEPTIONS: Record<string, readonly string[]> = {
  [join("cli", "commands", "daemon.ts")]: ["daemon"],
  [join("cli", "commands", "pair.ts")]: ["daemon"],
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const layerOf = (path: string): string => relative(SRC, path).split(sep)[0]!;

describe("layering", () => {
  it("every src file imports only its own layer or the layers below it", () => {
    const violations: string[] = [];
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      expect(ALLOWED, `layer ${from} is not in the table`).toHaveProperty(from);
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        const to = layerOf(resolve(file, "..", spec!));
        if (to !== from && !ALLOWED[from]!.includes(to) && !FILE_EXCEPTIONS[relative(SRC, file)]?.includes(to)) violations.push(`${relative(SRC, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("allows no more than the real graph uses (every allowed edge and exception is taken)", () => {
    const used = new Set<string>();
    for (const file of sources(SRC)) {
      const from = layerOf(file);
      for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
        const to = layerOf(resolve(file, "..", spec!));
        if (to === from) continue;
        used.add(`${from} -> ${to}`);
        used.add(`${relative(SRC, file)} -> ${to}`);
      }
    }
    const allowed = [
      ...Object.entries(ALLOWED).flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`)),
      ...Object.entries(FILE_EXCEPTIONS).flatMap(([file, tos]) => tos.map((to) => `${file} -> ${to}`)),
    ];
    expect(allowed.filter((edge) => !used.has(edge))).toEqual([]);
  });
});
