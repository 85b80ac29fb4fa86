import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import { describe, expect, it } from "vitest";

const SRC = resolve(import.meta.dirname, "../src");

/** The layers from the bottom up (docs/ARCHITECTURE.md): a layer may import only layers before it. */
const LAYERS = [
  "types",
  "lib",
  "crypto",
  "input",
  "protocol",
  "emulator",
  "transports",
  "doctor",
  "store",
  "drivers",
  "simulation",
  "service",
  "daemon",
  "client",
  "cli",
  "console",
] as const;
type Layer = (typeof LAYERS)[number];

/**
 * Which layers each layer imports: exactly the graph as it is, so an import outside it fails and so
 * does an edge that nothing uses any more (take it out: the table says what the code does, and a
 * new dependency is a decision made here, not an accident). Edges to or from a layer that has no
 * directory yet are not checked for use.
 */
const ALLOWED: Record<Layer, readonly Layer[]> = {
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
  // --simulate: the emulators as one more bus behind the drivers' PC/SC and HID sources.
  simulation: ["lib", "emulator", "transports", "drivers"],
  service: ["lib", "crypto", "input", "transports", "doctor", "store", "drivers"],
  daemon: ["lib", "input", "transports", "doctor", "store", "drivers", "simulation", "service"],
  client: ["lib"],
  cli: ["lib", "crypto", "input", "protocol", "transports", "doctor", "store", "drivers", "simulation", "service", "client"],
  // A client of the public API only.
  console: [],
};

/**
 * Single files allowed one more layer than their own. The CLI is a client of the daemon, not a part
 * of it: only the command that starts a daemon, and the one that edits its pairing list while none
 * runs, import it.
 */
const FILE_EXCEPTIONS: Readonly<Record<string, readonly Layer[]>> = {
  [join("cli", "commands", "daemon.ts")]: ["daemon"],
  [join("cli", "commands", "pair.ts")]: ["daemon"],
};

/**
 * Edges that must never come back, whatever else changes: the daemon and the service never build an
 * APDU (they call drivers); a driver never knows whether an emulator is behind its transport; a
 * transport moves bytes without knowing the protocol.
 */
const NEVER: ReadonlyArray<readonly [Layer, Layer]> = [
  ["daemon", "protocol"],
  ["service", "protocol"],
  ["drivers", "emulator"],
  ["transports", "protocol"],
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith(".ts") ? [path] : [];
  });
}

const layerOf = (path: string): string => relative(SRC, path).split(sep)[0]!;

/** Every import between two layers, by edge ("daemon -> store"), with the imports that make it. */
function importGraph(): Map<string, string[]> {
  const edges = new Map<string, string[]>();
  for (const file of sources(SRC)) {
    const from = layerOf(file);
    // Static imports, re-exports and dynamic import("...") alike.
    for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*\(?\s*"(\.{1,2}\/[^"]+)"/g)) {
      const to = layerOf(resolve(file, "..", spec!));
      if (to === from) continue;
      const edge = `${from} -> ${to}`;
      edges.set(edge, [...(edges.get(edge) ?? []), `${relative(SRC, file)} imports ${spec}`]);
    }
  }
  return edges;
}

/** The graph as a table literal, to compare with (or paste over) ALLOWED. */
function asTable(edges: Map<string, string[]>): string {
  const targets = (layer: Layer): string[] => LAYERS.filter((to) => edges.has(`${layer} -> ${to}`)).map((to) => JSON.stringify(to));
  return LAYERS.filter((layer) => existsSync(join(SRC, layer)))
    .map((layer) => `  ${layer}: [${targets(layer).join(", ")}],`)
    .join("\n");
}

describe("layering", () => {
  const graph = importGraph();
  /** An edge some file of the layer uses, not counting the files that import it as an exception. */
  const usedByLayer = (from: Layer, to: Layer): boolean =>
    (graph.get(`${from} -> ${to}`) ?? []).some((i) => !FILE_EXCEPTIONS[i.split(" imports ")[0]!]?.includes(to));

  it("every directory of src is a layer of the table", () => {
    const dirs = readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
    expect(dirs.filter((dir) => !(LAYERS as readonly string[]).includes(dir))).toEqual([]);
  });

  it("every src file imports only its own layer or the layers the table allows", () => {
    const violations = [...graph].flatMap(([edge, imports]) => {
      const [from, to] = edge.split(" -> ") as [Layer, Layer];
      if (ALLOWED[from].includes(to)) return [];
      return imports.filter((i) => !FILE_EXCEPTIONS[i.split(" imports ")[0]!]?.includes(to)).map((i) => `${i} (${edge})`);
    });
    expect(violations, `the import graph now:\n${asTable(graph)}`).toEqual([]);
  });

  it("every allowed edge is used (between layers that exist)", () => {
    const unused = LAYERS.flatMap((from) =>
      ALLOWED[from].filter((to) => existsSync(join(SRC, from)) && existsSync(join(SRC, to)) && !usedByLayer(from, to)).map((to) => `${from} -> ${to}`),
    );
    const unusedExceptions = Object.entries(FILE_EXCEPTIONS).flatMap(([file, tos]) =>
      tos
        .filter((to) => !(graph.get(`${layerOf(join(SRC, file))} -> ${to}`) ?? []).some((i) => i.startsWith(`${file} imports`)))
        .map((to) => `${file} -> ${to}`),
    );
    expect(unusedExceptions).toEqual([]);
    expect(unused, `the import graph now:\n${asTable(graph)}`).toEqual([]);
  });

  it("the table only points down, and never allows the edges that must not come back", () => {
    const upward = LAYERS.flatMap((from, i) => ALLOWED[from].filter((to) => LAYERS.indexOf(to) >= i).map((to) => `${from} -> ${to}`));
    expect(upward).toEqual([]);
    expect(NEVER.filter(([from, to]) => ALLOWED[from].includes(to))).toEqual([]);
  });
});
