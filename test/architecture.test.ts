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
  transports: ["lib", "protocol"],
  doctor: ["lib", "input", "transports"],
  store: ["lib", "crypto", "input"],
  drivers: ["lib", "crypto", "input", "protocol", "emulator", "transports"],
  service: ["lib", "crypto", "store"],
  daemon: ["lib", "crypto", "input", "emulator", "transports", "drivers", "store", "doctor", "service"],
  // The operator console is browser code: a client of the public API, it imports nothing from src.
  console: [],
  cli: ["lib", "crypto", "input", "protocol", "emulator", "transports", "drivers", "store", "doctor", "daemon", "service"],
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
        if (to !== from && !ALLOWED[from]!.includes(to)) violations.push(`${relative(SRC, file)} imports ${spec} (${from} -> ${to})`);
      }
    }
    expect(violations).toEqual([]);
  });
});
