/**
 * `--simulate`, in one place (trezord-go's emulator is just another bus; so are these): the
 * emulators of src/emulator attached behind the transports real devices use, so that every command
 * and the daemon can be shown without hardware, and the driver code they exercise is the real one.
 *
 * Where the cards go: behind the two readers vsmartcard-vpcd itself declares (its
 * /etc/reader.conf.d/vpcd: "Virtual PCD 00 00" and "00 01") when pcscd runs and they are free, so
 * that the whole PC/SC path is exercised; cards beyond those two, or all of them when pcscd or vpcd
 * is not there, go into in-memory readers. Nothing here reads test configuration: extra test
 * readers do not change what --simulate does. `OTPBRIDGE_SIMULATE_LINK=memory|vpcd` forces the link
 * (tests, benchmarks). A FIDO key over HID is always in memory (no virtual HID bus exists here).
 *
 * One file on purpose: the card sets, the readers and the links are what `--simulate` means, and
 * they change together (about 460 lines: a quarter of it is the in-memory readers).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Molto2Token } from "../emulator/molto2-token.js";
import { OtpAppletHidDevice } from "../emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../emulator/otp-applet-key.js";
import { SingleProfileToken } from "../emulator/single-profile-token.js";
import { abytes } from "../lib/checks.js";
import { otpbError, reasonOf } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import { MemoryHidTransport } from "../transports/hid-memory.js";
import type { HidTransport } from "../transports/hid-types.js";
import { PcscManager, type PcscEvent, type PcscState, type ReaderInfo } from "../transports/pcsc.js";
import type { ApduTransport, VirtualCard } from "../transports/types.js";
import { insertCard, type InsertedCard } from "../transports/vpcd-bridge.js";
import type { DeviceFamily, FamilyRule, PcscSource } from "../drivers/device-manager.js";

// ---- In-memory readers -------------------------------------------------------------------------

interface Slot {
  card: VirtualCard | undefined;
  /** Bumped on every insertion and removal: a session belongs to one insertion. */
  generation: number;
  busy: boolean;
  gone: boolean;
}

/**
 * In-memory PC/SC readers with the PcscManager contract (readers, events, exclusive sessions):
 * a second session is DEVICE_BUSY, and a card taken out (a reader removed) makes the session's next
 * transmit fail with CARD_REMOVED (READER_GONE). Cards go in and out by code.
 */
export class MemoryReaders implements PcscSource {
  readonly #slots = new Map<string, Slot>();
  readonly #listeners = new Set<(event: PcscEvent) => void>();

  /** Always ready: there is no service to lose. */
  get status(): { state: PcscState } {
    return { state: "ready" };
  }

  /** The readers now, in the order they were added. */
  readers(): ReaderInfo[] {
    return [...this.#slots.entries()].map(([name, slot]) => ({
      name,
      cardPresent: slot.card !== undefined,
      atr: slot.card?.atr.slice() ?? new Uint8Array(0),
      inUse: slot.busy,
    }));
  }

  /** Subscribes to reader and card events; returns the unsubscribe function. */
  on(listener: (event: PcscEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Plugs in a reader.
   * @throws OtpbridgeError INVALID_INPUT if a reader of that name exists.
   */
  addReader(name: string): void {
    if (this.#slots.has(name)) throw otpbError("INVALID_INPUT", `reader ${JSON.stringify(name)} exists already`);
    this.#slots.set(name, { card: undefined, generation: 0, busy: false, gone: false });
    this.#emit({ type: "reader-added", reader: name });
  }

  /** Unplugs a reader (its card goes with it). Unknown names are ignored. */
  removeReader(name: string): void {
    const slot = this.#slots.get(name);
    if (slot === undefined) return;
    if (slot.card !== undefined) this.remove(name);
    slot.gone = true;
    this.#slots.delete(name);
    this.#emit({ type: "reader-removed", reader: name });
  }

  /**
   * Puts a card into a reader and powers it up.
   * @throws OtpbridgeError READER_GONE (no such reader), INVALID_INPUT (the reader holds a card).
   */
  insert(name: string, card: VirtualCard): void {
    const slot = this.#slot(name);
    if (slot.card !== undefined) throw otpbError("INVALID_INPUT", `reader ${name} already holds a card`);
    slot.card = card;
    slot.generation++;
    card.powerOn?.();
    this.#emit({ type: "card-inserted", reader: name, atr: card.atr.slice() });
  }

  /** Takes the card out of a reader (powering it down); nothing happens if it is empty. */
  remove(name: string): void {
    const slot = this.#slots.get(name);
    if (slot?.card === undefined) return;
    slot.card.powerOff?.();
    slot.card = undefined;
    slot.generation++;
    this.#emit({ type: "card-removed", reader: name });
  }

  /**
   * An exclusive session on the card in `reader`, closed whatever `fn` does.
   * @throws OtpbridgeError READER_GONE, CARD_REMOVED (no card), DEVICE_BUSY (a session is open);
   *   whatever `fn` throws.
   */
  async withCard<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T> {
    const slot = this.#slot(reader);
    if (slot.busy) throw otpbError("DEVICE_BUSY", `reader ${reader} is in use by another session`, { detail: { reader } });
    if (slot.card === undefined) throw otpbError("CARD_REMOVED", `no card in reader ${reader}`, { detail: { reader } });
    slot.busy = true;
    const card = slot.card;
    const generation = slot.generation;
    let closed = false;
    const transport: ApduTransport = {
      transmit: async (apdu) => {
        abytes(apdu, "apdu", { min: 4 });
        if (closed) throw otpbError("INTERNAL", "transmit on a closed session");
        if (slot.gone) throw otpbError("READER_GONE", `reader ${reader} is gone`, { detail: { reader } });
        if (slot.generation !== generation) throw otpbError("CARD_REMOVED", `the card left reader ${reader}`, { detail: { reader } });
        return card.transmit(apdu.slice()).slice();
      },
      close: async () => {
        closed = true;
      },
    };
    try {
      return await fn(transport);
    } finally {
      closed = true;
      slot.busy = false;
    }
  }

  #slot(name: string): Slot {
    const slot = this.#slots.get(name);
    if (slot === undefined) throw otpbError("READER_GONE", `no reader named ${JSON.stringify(name)}`, { detail: { reader: name } });
    return slot;
  }

  #emit(event: PcscEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

/** pcscd's readers and in-memory ones as one source: a session goes to whichever holds the reader. */
function bothSources(pcsc: PcscManager, memory: MemoryReaders): PcscSource {
  return {
    get status() {
      return pcsc.status;
    },
    readers: () => [...pcsc.readers(), ...memory.readers()],
    on: (listener) => {
      const offs = [pcsc.on(listener), memory.on(listener)];
      return () => offs.forEach((off) => off());
    },
    withCard: (reader, fn) => (memory.readers().some((r) => r.name === reader) ? memory : pcsc).withCard(reader, fn),
  };
}

// ---- vpcd readers ------------------------------------------------------------------------------

/** vsmartcard-vpcd's own reader file: the only one --simulate uses. */
export const VPCD_PACKAGE_CONF = "vpcd";

/**
 * The vpcd reader slots declared in reader.conf.d (all files, or only `files`): each vpcd entry
 * (LIBPATH ends in a libifdvpcd copy) listens on its DEVICENAME port for slot "00 00" and the next
 * port for "00 01". Sorted by port.
 */
export function vpcdSlots(confDir = "/etc/reader.conf.d", files?: readonly string[]): Array<{ name: string; port: number }> {
  if (!existsSync(confDir)) return [];
  const slots: Array<{ name: string; port: number }> = [];
  for (const file of readdirSync(confDir).sort()) {
    if (files !== undefined && !files.includes(file)) continue;
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

/** pcscd with vpcd's free readers, in slot order from the last one back (people and tests use "00 00" by hand). */
async function freeVpcdReaders(options: SimulationOptions): Promise<{ pcsc: PcscManager; free: Array<{ name: string; port: number }> } | undefined> {
  const slots = vpcdSlots(options.readerConfDir, [VPCD_PACKAGE_CONF]);
  const socket = options.socketPath ?? process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
  if (slots.length === 0 || !existsSync(socket)) return undefined;
  const pcsc = await PcscManager.start({ socketPath: socket });
  if (pcsc.status.state !== "ready") {
    await pcsc.close(); // a stale socket of a pcscd that is gone
    return undefined;
  }
  // pcscd lists its readers shortly after the context starts.
  const deadline = Date.now() + 2_000;
  while (Date.now() < deadline && !slots.every((s) => pcsc.readers().some((r) => r.name === s.name))) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const free = slots.filter((s) => pcsc.readers().some((r) => r.name === s.name && !r.cardPresent)).reverse();
  return { pcsc, free };
}

// ---- Attaching cards ---------------------------------------------------------------------------

/** A card to attach: its family (vpcd readers cannot be told apart otherwise) and its in-memory reader name. */
export interface SimulatedCard<C extends VirtualCard = VirtualCard> {
  family: DeviceFamily;
  card: C;
  /** The reader's name when the card is in memory. */
  name: string;
}

export interface Simulation<C extends VirtualCard = VirtualCard> {
  /** "vpcd" when at least one card is behind pcscd, else "memory". */
  link: "vpcd" | "memory";
  pcsc: PcscSource;
  /** The in-memory readers (cards beyond vpcd's, and those a caller adds later). */
  memory: MemoryReaders;
  /** The emulated card in each reader, by reader name. */
  cards: Map<string, C>;
  /** Exact reader→family rules for the readers in use. */
  families: FamilyRule[];
  /** Takes the cards out and closes what the simulation opened. */
  close(): Promise<void>;
}

export interface SimulationOptions {
  /** "vpcd" or "memory" forces a link; default $OTPBRIDGE_SIMULATE_LINK, else vpcd when it can. */
  link?: "vpcd" | "memory";
  logger?: Logger;
  /** reader.conf.d directory to find vsmartcard-vpcd's readers in; default /etc/reader.conf.d. */
  readerConfDir?: string;
  /** pcscd's socket; default $PCSCLITE_CSOCK_NAME or /run/pcscd/pcscd.comm. */
  socketPath?: string;
}

/**
 * Attaches `cards`: the first ones behind vsmartcard-vpcd's free readers, the rest in memory.
 * @throws OtpbridgeError PCSC_UNAVAILABLE only when the vpcd link is forced and pcscd with a free
 *   vpcd reader is not there.
 */
export async function startSimulation<C extends VirtualCard>(cards: readonly SimulatedCard<C>[], options: SimulationOptions = {}): Promise<Simulation<C>> {
  const log = options.logger ?? silentLogger;
  const env = process.env.OTPBRIDGE_SIMULATE_LINK;
  const link = options.link ?? (env === "memory" || env === "vpcd" ? env : undefined);
  const vpcd = link === "memory" ? undefined : await freeVpcdReaders(options);
  if (link === "vpcd" && (vpcd === undefined || vpcd.free.length === 0)) {
    await vpcd?.pcsc.close();
    throw otpbError("PCSC_UNAVAILABLE", "no pcscd with a free vsmartcard-vpcd reader to attach simulated cards to");
  }
  const memory = new MemoryReaders();
  const placed = cards.map((card, i) => ({ ...card, reader: vpcd?.free[i] }));
  const inserted: InsertedCard[] = [];
  try {
    for (const { card, reader } of placed) if (reader !== undefined) inserted.push(await insertCard(card, { port: reader.port }));
  } catch (error) {
    await Promise.all(inserted.map((card) => card.remove()));
    await vpcd?.pcsc.close();
    throw error;
  }
  const onVpcd = placed.flatMap((p) => (p.reader !== undefined ? [p.reader.name] : []));
  for (const p of placed) {
    if (p.reader !== undefined) continue;
    memory.addReader(p.name);
    memory.insert(p.name, p.card);
  }
  if (vpcd !== undefined && onVpcd.length === 0) await vpcd.pcsc.close();
  const pcsc = vpcd !== undefined && onVpcd.length > 0 ? vpcd.pcsc : undefined;
  if (pcsc !== undefined) await readersSeen(pcsc, onVpcd, true, 3_000);
  log.info("simulation: readers", { vpcd: onVpcd, memory: memory.readers().map((r) => r.name) });
  const names = placed.map((p) => p.reader?.name ?? p.name);
  return {
    link: pcsc !== undefined ? "vpcd" : "memory",
    pcsc: pcsc !== undefined ? bothSources(pcsc, memory) : memory,
    memory,
    cards: new Map(placed.map((p, i) => [names[i]!, p.card])),
    families: placed.map((p, i) => ({ reader: names[i]!, match: "exact", family: p.family })),
    close: async () => {
      if (pcsc === undefined) return;
      await Promise.all(inserted.map((card) => card.remove()));
      // Hand the readers back only once pcscd has seen them empty: a card inserted into a slot
      // before that is answered with empty responses (measured with vpcd 3.3).
      await readersSeen(pcsc, onVpcd, false, 2_000);
      await pcsc.close();
    },
  };
}

// ---- What --simulate attaches ------------------------------------------------------------------

/** The n-th OTPC-P2-i serial (prefix 86596221, docs/PROTOCOL.md §2.1). */
function otpcP2Serial(n: number): string {
  return `86596221${String(n).padStart(6, "0")}`;
}

/** A fresh emulated Molto2 (factory key, empty profiles). */
export function simulatedMolto2(): SimulatedCard<Molto2Token> {
  return { family: "molto2", name: "Simulated Molto2", card: new Molto2Token({ serial: "SIM000000000001" }) };
}

/**
 * Runs `fn` with a session on a fresh emulated Molto2, attached as every simulated card is (`via`
 * says where: "pcscd, READER" or "memory"); the token leaves when `fn` is done.
 * @throws whatever `fn` throws.
 */
export async function withSimulatedMolto2<T>(
  fn: (transport: ApduTransport, token: Molto2Token, via: string) => Promise<T>,
  options: SimulationOptions = {},
): Promise<T> {
  const molto2 = simulatedMolto2();
  const simulation = await startSimulation([molto2], options);
  try {
    const [reader] = simulation.cards.keys();
    const via = simulation.link === "vpcd" ? `pcscd, ${reader}` : "memory";
    return await simulation.pcsc.withCard(reader!, (transport) => fn(transport, molto2.card, via));
  } finally {
    await simulation.close();
  }
}

/**
 * The simulated user at the daemon's emulated tokens: presses the ▲ button of every Molto2 among
 * `cards` (what a person does before confirming a press with molto2.buttonPressed).
 */
export function pressSimulatedMolto2Buttons(cards: readonly SimulatedCard[]): void {
  for (const { card } of cards) if (card instanceof Molto2Token) card.pressButton();
}

/** A fresh emulated FIDO key with its OTP applet, as a PC/SC card. */
function simulatedAppletCard(): SimulatedCard {
  return { family: "otp-applet", name: "Simulated FIDO Key", card: new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x01) }) };
}

/**
 * The daemon's set: `singleProfile` tokens, alternately an OTPC-P2-i, which erases its seed on a
 * clock sync, and a C302-i, which keeps it (docs/PROTOCOL.md §2.1), a Molto2 and a FIDO key. One
 * token and the Molto2 come first, so that vpcd's two readers hold two families.
 */
export function daemonCards(singleProfile: number): SimulatedCard[] {
  const tokens = Array.from(
    { length: singleProfile },
    (_, i): SimulatedCard => ({
      family: "single-profile",
      name: `Simulated Reader ${i + 1}`,
      card: new SingleProfileToken({ serial: `${i % 2 === 0 ? "86596221" : "86596321"}${String(i + 1).padStart(6, "0")}` }),
    }),
  );
  return [...tokens.slice(0, 1), simulatedMolto2(), simulatedAppletCard(), ...tokens.slice(1)];
}

/** A simulation of single-profile tokens: the token commands read the emulated display through it. */
export type SingleProfileSimulation = Simulation<SingleProfileToken>;

/** The token commands' set: one token per time-sync class and form factor, two keep their seed on a clock sync, two erase it. */
export function singleProfileCards(): SimulatedCard<SingleProfileToken>[] {
  return ["86596121000001", "86596221000002", "86596011000003", "86596321000004"].map((serial, i) => ({
    family: "single-profile",
    name: `Simulated NFC reader ${i + 1}`,
    card: new SingleProfileToken({ serial }),
  }));
}

/**
 * A {@link HidTransport} to an emulated key whose busy frames arrive on their own, as a real key
 * sends them: when no input report is waiting, the device's `poll()` is asked every `pollMs`
 * (the busy-frame rate, 100-500 ms per docs/PROTOCOL.md §4.9).
 * @example const hid = polledHidTransport(new OtpAppletHidDevice(key));
 */
export function polledHidTransport(device: OtpAppletHidDevice, pollMs = 150): HidTransport {
  const inner = new MemoryHidTransport(device, "simulated-key");
  const polled: Uint8Array[] = [];
  return {
    write: (report) => inner.write(report),
    close: () => inner.close(),
    async read(timeoutMs: number): Promise<Uint8Array> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const ready = polled.shift();
        if (ready !== undefined) return ready;
        try {
          return await inner.read(Math.max(1, Math.min(pollMs, deadline - Date.now())));
        } catch (error) {
          if (reasonOf(error) !== "DEVICE_TIMEOUT") throw error;
          polled.push(...device.poll());
          if (polled.length === 0 && Date.now() >= deadline) {
            throw otpbError("DEVICE_TIMEOUT", `no HID input report from the simulated key within ${timeoutMs} ms`);
          }
        }
      }
    },
  };
}

/** A fresh emulated FIDO key with its OTP applet, on the in-memory HID link. */
export function simulatedOtpKey(): { key: OtpAppletKey; hid: HidTransport } {
  const key = new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x01) });
  return { key, hid: polledHidTransport(new OtpAppletHidDevice(key)) };
}

export interface BatchReaders {
  pcsc: MemoryReaders;
  families: FamilyRule[];
  /** Every token handed out so far, by serial. */
  tokens: Map<string, SingleProfileToken>;
  /** Called with each batch item's outcome: swaps the token of a reader that is done with it. */
  onItem(event: { reader: string; outcome: string }): void;
}

/**
 * `batch run --simulate`: `readers` in-memory readers named "Simulated NFC reader 1".."N", each
 * with a fresh token, and an operator who never tires: once the engine is done with a token
 * (committed, or to be removed), it is taken out and a fresh one with the next serial goes in.
 * @example const sim = simulatedBatchReaders(4); engine.onItem((e) => sim.onItem(e));
 */
export function simulatedBatchReaders(readers: number): BatchReaders {
  const pcsc = new MemoryReaders();
  const tokens = new Map<string, SingleProfileToken>();
  let next = 1;
  const insertNew = (reader: string): void => {
    const serial = otpcP2Serial(next++);
    const token = new SingleProfileToken({ serial });
    tokens.set(serial, token);
    pcsc.insert(reader, token);
  };
  const names = Array.from({ length: readers }, (_, i) => `Simulated NFC reader ${i + 1}`);
  for (const name of names) {
    pcsc.addReader(name);
    insertNew(name);
  }
  return {
    pcsc,
    tokens,
    families: names.map((reader) => ({ reader, match: "exact", family: "single-profile" })),
    onItem: (event) => {
      // "interrupted" cannot happen in memory without a fault; anything else means: next token.
      if (event.outcome === "interrupted") return;
      // Swapped on the next turn of the event loop, as a person lifts one token and taps the next.
      setImmediate(() => {
        pcsc.remove(event.reader);
        if (event.outcome !== "exhausted") insertNew(event.reader);
      });
    },
  };
}
