/**
 * Test side of the batch suites that run the real daemon: the built CLI (`node bin/otpbridge.js`,
 * rebuilt first when a source file is newer than dist) started and restarted on one data
 * directory, a vpcd card rig that waits for pcscd to see each insertion and removal, and a tiny
 * seeded PRNG for kill points.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PcscManager } from "../../src/transports/pcsc.js";
import type { VirtualCard } from "../../src/transports/types.js";
import { insertCard, type InsertedCard } from "../../src/transports/vpcd-bridge.js";
import { REPO_ROOT } from "../fixtures/pcscd.js";
import { nextEvent } from "../fixtures/pcsc-events.js";

const BIN = join(REPO_ROOT, "bin/otpbridge.js");
const BUILT = join(REPO_ROOT, "dist/src/cli/main.js");

function newest(dir: string): number {
  return readdirSync(dir, { withFileTypes: true }).reduce((max, entry) => {
    const path = join(dir, entry.name);
    return Math.max(max, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }, 0);
}

/** Runs `npm run build:ts` when dist is missing or older than src. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(BUILT).mtimeMs;
  } catch {
    // not built yet
  }
  if (built < newest(join(REPO_ROOT, "src"))) execFileSync("npm", ["run", "build:ts", "--silent"], { cwd: REPO_ROOT, stdio: "inherit" });
}

export interface Daemon {
  child: ChildProcess;
  stderr: string[];
  /** Resolves with the exit code (null after a signal) once the process and its pipes are closed. */
  exited: Promise<number | null>;
  /** Resolves with the port and bearer token once listening, or undefined if it exited first. */
  listening: Promise<{ port: number; token: string } | undefined>;
}

/**
 * Starts `otpbridge daemon --port 0 --data-dir DIR` (no --simulate: the real PC/SC stack) and
 * returns at once; `listening` says when (and whether) it printed its first stdout line.
 */
export function spawnDaemon(dataDir: string, args: string[] = []): Daemon {
  const child = spawn(process.execPath, [BIN, "daemon", "--port", "0", "--data-dir", dataDir, "--log-level", "warn", ...args], {
    cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const listening = new Promise<string | undefined>((resolve) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    void exited.then(() => resolve(undefined));
  }).then((first) => {
    if (first === undefined) return undefined;
    const info = JSON.parse(first) as { port: number; tokenFile: string };
    return { port: info.port, token: readFileSync(info.tokenFile, "utf8").trim() };
  });
  return { child, stderr, exited, listening };
}

/** Inserts and removes virtual cards, each time until pcscd has reported the change. */
export class CardRig {
  readonly #inserted = new Set<InsertedCard>();

  private constructor(readonly pcsc: PcscManager) {}

  /** A PcscManager of the test process, once every reader of `readers` is listed. */
  static async open(readers: readonly string[]): Promise<CardRig> {
    const pcsc = await PcscManager.start({ retryMaxMs: 300 });
    const deadline = Date.now() + 8_000;
    while (!readers.every((name) => pcsc.readers().some((r) => r.name === name))) {
      if (Date.now() > deadline) throw new Error(`readers not listed: ${readers.join(", ")}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return new CardRig(pcsc);
  }

  async insert(card: VirtualCard, reader: { name: string; port: number }): Promise<InsertedCard> {
    const seen = nextEvent(this.pcsc, (e) => e.type === "card-inserted" && e.reader === reader.name, 5_000);
    const slot = await insertCard(card, { port: reader.port });
    this.#inserted.add(slot);
    await seen;
    return slot;
  }

  async remove(slot: InsertedCard, reader: string): Promise<void> {
    const gone = nextEvent(this.pcsc, (e) => e.type === "card-removed" && e.reader === reader, 5_000);
    await slot.remove();
    this.#inserted.delete(slot);
    await gone;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#inserted].map((slot) => slot.remove()));
    await this.pcsc.close();
  }
}

/** mulberry32: a small seeded PRNG, so a failing run can be replayed with the same kill points. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
