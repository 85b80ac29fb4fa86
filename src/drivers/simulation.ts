/**
 * `--simulate`, for every command and the daemon: emulated cards of any family attached behind
 * vpcd readers of the real pcscd when it runs (so the whole PC/SC path is exercised), else behind
 * in-memory readers. Lets the whole flow be shown on a machine with no hardware. The cards live in
 * this process: they leave the readers when the simulation is closed.
 * `OTPBRIDGE_SIMULATE_LINK=memory|vpcd` forces the link (tests, benchmarks).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { otpbError } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import { PcscManager, type PcscEvent } from "../transports/pcsc.js";
import type { VirtualCard } from "../transports/types.js";
import { insertCard, type InsertedCard } from "../transports/vpcd-bridge.js";
import type { DeviceFamily, FamilyRule, PcscSource } from "./device-manager.js";
import { MemoryReaders } from "./memory-readers.js";

/** A card to attach: its family (vpcd readers cannot be told apart otherwise) and its in-memory reader name. */
export interface SimulatedCard<C extends VirtualCard = VirtualCard> {
  family: DeviceFamily;
  card: C;
  /** The reader's name when the simulation runs in memory. */
  name: string;
}

export interface Simulation<C extends VirtualCard = VirtualCard> {
  link: "vpcd" | "memory";
  pcsc: PcscSource;
  /** The emulated card in each reader, by reader name. */
  cards: Map<string, C>;
  /** Exact reader→family rules for the readers in use. */
  families: FamilyRule[];
  /** Takes the cards out and closes what the simulation opened. */
  close(): Promise<void>;
}

export interface SimulationOptions {
  /** "vpcd" or "memory" forces a link; default $OTPBRIDGE_SIMULATE_LINK, else vpcd when pcscd runs with free vpcd readers. */
  link?: "vpcd" | "memory";
  logger?: Logger;
  /** vpcd readers to use, in order; default the free vpcd slots from the last one back (the first ones are those people and tests use by hand). */
  slots?: readonly string[];
  /** reader.conf.d directory to find vpcd readers in; default /etc/reader.conf.d. */
  readerConfDir?: string;
  /** pcscd's socket; default $PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm. */
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

/** Waits until pcscd reports each of `readers` with a card (`present`) or without one, or `timeoutMs`. */
function readersSeen(pcsc: PcscManager, readers: string[], present: boolean, timeoutMs: number): Promise<void> {
  const state = (name: string): boolean => pcsc.readers().some((r) => r.name === name && r.cardPresent);
  const missing = new Set(readers.filter((name) => state(name) !== present));
  if (missing.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      off();
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    const off = pcsc.on((event: PcscEvent) => {
      if (event.type === (present ? "card-inserted" : "card-removed")) missing.delete(event.reader);
      if (missing.size === 0) done();
    });
  });
}

async function vpcdSimulation<C extends VirtualCard>(
  cards: readonly SimulatedCard<C>[], options: SimulationOptions, log: Logger,
): Promise<Simulation<C> | undefined> {
  const slots = vpcdSlots(options.readerConfDir);
  const socket = options.socketPath ?? process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
  if (slots.length === 0 || !existsSync(socket)) return undefined;
  const pcsc = await PcscManager.start({ socketPath: socket });
  const inserted: InsertedCard[] = [];
  let attached = false;
  try {
    if (pcsc.status.state !== "ready") return undefined; // a stale socket of a pcscd that is gone
    // pcscd lists its readers shortly after the context starts.
    const deadline = Date.now() + 2_000;
    while (Date.now() < deadline && !slots.every((s) => pcsc.readers().some((r) => r.name === s.name))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const isFree = (name: string): boolean => pcsc.readers().some((r) => r.name === name && !r.cardPresent);
    const wanted = options.slots ?? slots.map((s) => s.name).reverse();
    const free = wanted.flatMap((name) => slots.filter((s) => s.name === name && isFree(name)));
    if (free.length < cards.length) return undefined;
    const chosen = cards.map((card, i) => ({ ...card, slot: free[i]! }));
    for (const { card, slot } of chosen) inserted.push(await insertCard(card, { port: slot.port }));
    await readersSeen(pcsc, chosen.map((c) => c.slot.name), true, 3_000);
    log.info("simulation: vpcd readers", { readers: chosen.map((c) => c.slot.name) });
    attached = true;
    return {
      link: "vpcd",
      pcsc,
      cards: new Map(chosen.map((c) => [c.slot.name, c.card])),
      families: chosen.map((c) => ({ reader: c.slot.name, match: "exact", family: c.family })),
      close: async () => {
        await Promise.all(inserted.map((card) => card.remove()));
        // Hand the readers back only once pcscd has seen them empty: a card inserted into a slot
        // before that is answered with empty responses (measured with vpcd 3.3).
        await readersSeen(pcsc, chosen.map((c) => c.slot.name), false, 2_000);
        await pcsc.close();
      },
    };
  } finally {
    // Not attached (no room, stale pcscd, a failed insert): leave nothing behind, fall back to memory.
    if (!attached) {
      await Promise.all(inserted.map((card) => card.remove()));
      await pcsc.close();
    }
  }
}

function memorySimulation<C extends VirtualCard>(cards: readonly SimulatedCard<C>[]): Simulation<C> {
  const readers = new MemoryReaders();
  for (const { name, card } of cards) {
    readers.addReader(name);
    readers.insert(name, card);
  }
  return {
    link: "memory",
    pcsc: readers,
    cards: new Map(cards.map((c) => [c.name, c.card])),
    families: cards.map((c) => ({ reader: c.name, match: "exact", family: c.family })),
    close: async () => {},
  };
}

/**
 * Attaches `cards`: all behind free vpcd readers, or all in memory.
 * @throws OtpbridgeError PCSC_UNAVAILABLE only when the vpcd link is forced and pcscd with
 *   enough free vpcd readers is not there.
 */
export async function startSimulation<C extends VirtualCard>(
  cards: readonly SimulatedCard<C>[], options: SimulationOptions = {},
): Promise<Simulation<C>> {
  const log = options.logger ?? silentLogger;
  const env = process.env.OTPBRIDGE_SIMULATE_LINK;
  const link = options.link ?? (env === "memory" || env === "vpcd" ? env : undefined);
  if (link !== "memory") {
    const simulation = await vpcdSimulation(cards, options, log);
    if (simulation !== undefined) return simulation;
    if (link === "vpcd") throw otpbError("PCSC_UNAVAILABLE", `no pcscd with ${cards.length} free vpcd readers to attach simulated cards to`);
  }
  log.info("simulation: in-memory readers", { readers: cards.map((c) => c.name) });
  return memorySimulation(cards);
}
