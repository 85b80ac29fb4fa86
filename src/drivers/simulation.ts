/**
 * `--simulate`: emulated single-profile tokens of several model classes, attached behind vpcd
 * readers of the real pcscd when it runs (so the whole PC/SC path is exercised), else behind
 * in-memory readers. Lets a burn be shown on a machine with no hardware. The tokens live in this
 * process: they leave the readers when the simulation is closed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { otpbError } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import { SingleProfileToken } from "../emulator/single-profile-token.js";
import { PcscManager, type PcscEvent } from "../transports/pcsc.js";
import { insertCard, type InsertedCard } from "../transports/vpcd-bridge.js";
import type { FamilyRule, PcscSource } from "./device-manager.js";
import { MemoryReaders } from "./memory-readers.js";

/** One token per time-sync class and form factor: two keep their seed on a clock sync, two erase it (TOKEN2.md §2.1). */
export const SIMULATED_SERIALS: readonly string[] = ["86596121000001", "86596221000002", "86596011000003", "86596321000004"];

export interface Simulation {
  link: "vpcd" | "memory";
  pcsc: PcscSource;
  /** The emulated token in each reader, by reader name. */
  tokens: Map<string, SingleProfileToken>;
  /** Exact reader→family rules for the readers in use (vpcd readers cannot be told apart otherwise). */
  families: FamilyRule[];
  /** Takes the tokens out and closes what the simulation opened. */
  close(): Promise<void>;
}

export interface SimulationOptions {
  /** "vpcd" or "memory" forces a link; default vpcd when pcscd runs with vpcd readers, else memory. */
  link?: "vpcd" | "memory";
  logger?: Logger;
  /** reader.conf.d directory to find vpcd readers in; default /etc/reader.conf.d. */
  readerConfDir?: string;
  /** pcscd's socket; default /run/pcscd/pcscd.comm. */
  socketPath?: string;
}

/**
 * The vpcd reader slots pcscd declares: each vpcd entry in reader.conf.d (LIBPATH ends in a
 * libifdvpcd copy) listens on its DEVICENAME port for slot "00 00" and the next port for "00 01".
 * Sorted by port.
 */
export function vpcdSlots(confDir = "/etc/reader.conf.d"): Array<{ name: string; port: number }> {
  if (!existsSync(confDir)) return [];
  const slots: Array<{ name: string; port: number }> = [];
  for (const file of readdirSync(confDir).sort()) {
    let text: string;
    try {
      text = readFileSync(join(confDir, file), "utf8");
    } catch {
      continue;
    }
    for (const block of text.split(/\n\s*\n/)) {
      const friendly = /^\s*FRIENDLYNAME\s+"([^"]+)"/m.exec(block)?.[1];
      const device = /^\s*DEVICENAME\s+\S*:(0x[0-9a-f]+|\d+)\s*$/im.exec(block)?.[1];
      if (friendly === undefined || device === undefined || !/LIBPATH\s+\S*ifdvpcd/.test(block)) continue;
      const port = Number(device);
      slots.push({ name: `${friendly} 00 00`, port }, { name: `${friendly} 00 01`, port: port + 1 });
    }
  }
  return slots.sort((a, b) => a.port - b.port);
}

function tokens(): SingleProfileToken[] {
  return SIMULATED_SERIALS.map((serial) => new SingleProfileToken({ serial }));
}

/** Waits until pcscd reports a card in each of `readers` (100-420 ms after the TCP connect), or `timeoutMs`. */
function cardsSeen(pcsc: PcscManager, readers: string[], timeoutMs: number): Promise<void> {
  const missing = new Set(readers.filter((name) => !pcsc.readers().some((r) => r.name === name && r.cardPresent)));
  if (missing.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    const off = pcsc.on((event: PcscEvent) => {
      if (event.type === "card-inserted") missing.delete(event.reader);
      if (missing.size === 0) done();
    });
  });
}

async function vpcdSimulation(options: SimulationOptions, log: Logger): Promise<Simulation | undefined> {
  const slots = vpcdSlots(options.readerConfDir);
  if (slots.length === 0 || !existsSync(options.socketPath ?? "/run/pcscd/pcscd.comm")) return undefined;
  const pcsc = await PcscManager.start(options.socketPath === undefined ? {} : { socketPath: options.socketPath });
  if (pcsc.status.state !== "ready") {
    // A stale socket of a pcscd that is gone.
    await pcsc.close();
    return undefined;
  }
  // pcscd lists its readers shortly after the context starts.
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline && !slots.every((s) => pcsc.readers().some((r) => r.name === s.name))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  // Free slots from the last one back: the first readers are the ones people and other tests use.
  const free = slots.filter((s) => pcsc.readers().some((r) => r.name === s.name && !r.cardPresent)).reverse();
  const chosen = tokens().slice(0, free.length).map((token, i) => ({ token, slot: free[i]! }));
  if (chosen.length === 0) {
    await pcsc.close();
    return undefined;
  }
  const inserted: InsertedCard[] = [];
  for (const { token, slot } of chosen) inserted.push(await insertCard(token, { port: slot.port }));
  await cardsSeen(pcsc, chosen.map((c) => c.slot.name), 2_000);
  log.info("simulation: tokens behind vpcd readers", { readers: chosen.map((c) => c.slot.name) });
  return {
    link: "vpcd",
    pcsc,
    tokens: new Map(chosen.map((c) => [c.slot.name, c.token])),
    families: chosen.map((c) => ({ reader: c.slot.name, match: "exact", family: "single-profile" })),
    close: async () => {
      await Promise.all(inserted.map((card) => card.remove()));
      await pcsc.close();
    },
  };
}

function memorySimulation(): Simulation {
  const readers = new MemoryReaders();
  const map = new Map<string, SingleProfileToken>();
  tokens().forEach((token, i) => {
    const name = `Simulated NFC reader ${i + 1}`;
    readers.addReader(name);
    readers.insert(name, token);
    map.set(name, token);
  });
  return { link: "memory", pcsc: readers, tokens: map, families: [], close: async () => {} };
}

/**
 * Attaches the simulated tokens.
 * @throws OtpbridgeError READER_GONE / PCSC_UNAVAILABLE only when `link: "vpcd"` is forced and
 *   pcscd with free vpcd readers is not there.
 */
export async function startSimulation(options: SimulationOptions = {}): Promise<Simulation> {
  const log = options.logger ?? silentLogger;
  if (options.link !== "memory") {
    const simulation = await vpcdSimulation(options, log);
    if (simulation !== undefined) return simulation;
    if (options.link === "vpcd") {
      throw otpbError("PCSC_UNAVAILABLE", "no pcscd with free vpcd readers to attach simulated tokens to");
    }
  }
  log.info("simulation: tokens behind in-memory readers");
  return memorySimulation();
}
