/**
 * The one list of attached devices, across PC/SC readers and USB HID keys, with change events.
 * Used by the CLI and the daemon. It never authenticates while identifying (docs/PROTOCOL.md
 * §5), and it decides a reader's family in this order:
 *   1. the reader→family mapping from configuration (exact name first, then substring): vpcd
 *      readers all look alike, so tests and --simulate say what sits behind them (docs/TESTING.md);
 *   2. `molto` in the reader name → Molto2, never opened while listing (connecting to a Molto2
 *      during enumeration resets it, §3.1);
 *   3. otherwise a card is identified with GET INFO alone (harmless on any card, §2.4): a known
 *      serial prefix makes it a single-profile token; anything else is listed as unsupported.
 * HID devices are the Token2 FIDO interfaces (§4.1), found by polling and never opened here.
 *
 * All sessions on a reader, the manager's own GET INFO and its users' operations, go through one
 * queue per reader ({@link DeviceManager.withReader}), so listing never races a burn.
 */
import { otpbError, reasonOf } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import { swName } from "../protocol/status-words.js";
import type { PcscEvent, PcscState, ReaderInfo } from "../transports/pcsc.js";
import type { Token2HidDevice } from "../transports/hid.js";
import type { ApduTransport } from "../transports/types.js";
import { identifySingleProfile } from "./single-profile.js";
import type { DeviceFamily } from "../lib/device-family.js";

/** What the device manager needs from PC/SC; PcscManager and MemoryReaders both have it. */
export interface PcscSource {
  readonly status: { state: PcscState; message?: string };
  readers(): ReaderInfo[];
  on(listener: (event: PcscEvent) => void): () => void;
  withCard<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T>;
  /** True once the first reader list and each reader's first status have come (PcscManager.scanComplete). */
  scanComplete?(): boolean;
}

export type { DeviceFamily };

/**
 * no-card: an empty reader; identifying: GET INFO under way; ready: a device of a known family;
 * unsupported: a card that is not a known programmable token (nothing will be sent to it);
 * busy: another PC/SC client holds the card; error: identification failed (see message).
 */
export type DeviceState = "no-card" | "identifying" | "ready" | "unsupported" | "busy" | "error";

export interface DeviceInfo {
  /** `pcsc:<reader name>` or `hid:<path>`. */
  id: string;
  link: "pcsc" | "hid";
  /** PC/SC reader name. */
  reader?: string;
  /** HID path. */
  path?: string;
  family: DeviceFamily | null;
  /** How the family was decided. */
  familySource: "config" | "reader-name" | "probe" | "usb" | null;
  model: string | null;
  serial: string | null;
  state: DeviceState;
  /** Why a device is unsupported, busy or in error. */
  message?: string;
}

/** One line of the reader→family mapping. */
export interface FamilyRule {
  /** Reader name, or a part of it. */
  reader: string;
  /** "exact" (default "substring"). */
  match?: "exact" | "substring";
  family: DeviceFamily;
}

export type DeviceEvent = { type: "changed"; devices: DeviceInfo[] };

export interface DeviceManagerOptions {
  pcsc?: PcscSource;
  /** HID listing (listToken2HidDevices) and its polling period (default 1000 ms); omitted: no HID. */
  hid?: { list: () => Promise<Token2HidDevice[]>; intervalMs?: number };
  families?: readonly FamilyRule[];
  logger?: Logger;
  /** Delay before identifying a card again when another client held it (default 500 ms). */
  busyRetryMs?: number;
  /**
   * Only readers for which this returns true are listed and opened (a CLI run naming --reader
   * leaves every other reader, and whoever uses it, alone). Default: all.
   */
  readerFilter?: (name: string) => boolean;
  /**
   * Read a Molto2's serial with its unauthenticated Info command (default false: a Molto2 is then
   * never opened while listing, §3.1). For a one-shot listing a person asked for, not for a
   * daemon that lists again on every change: connecting to a Molto2 ends any session another
   * program has open on it.
   */
  readMolto2Info?: boolean;
}

interface ReaderEntry {
  info: DeviceInfo;
  /** Bumped on every card change: a late GET INFO answer for an earlier card is dropped. */
  generation: number;
  queue: Promise<unknown>;
  retry: NodeJS.Timeout | undefined;
  /** The retry counts as an identification under way (settled() waits for it). */
  retryPending: boolean;
}

/** Resolves the configured family of a reader name (rules 1 and 2 above), or null. */
export function familyOfReader(name: string, rules: readonly FamilyRule[] = []): { family: DeviceFamily; source: "config" | "reader-name" } | null {
  const exact = rules.find((r) => r.match === "exact" && r.reader === name);
  const partial = exact ?? rules.find((r) => r.match !== "exact" && name.includes(r.reader));
  if (partial) return { family: partial.family, source: "config" };
  if (/molto/i.test(name)) return { family: "molto2", source: "reader-name" };
  return null;
}

/** See the module comment. Build it with `new DeviceManager(options)`; `close()` when done. */
export class DeviceManager {
  readonly #pcsc: PcscSource | undefined;
  readonly #rules: readonly FamilyRule[];
  readonly #log: Logger;
  readonly #busyRetryMs: number;
  readonly #filter: (name: string) => boolean;
  readonly #readMolto2Info: boolean;
  readonly #readers = new Map<string, ReaderEntry>();
  readonly #hid = new Map<string, DeviceInfo>();
  readonly #listeners = new Set<(event: DeviceEvent) => void>();
  readonly #unsubscribe: () => void;
  readonly #hidList: (() => Promise<Token2HidDevice[]>) | undefined;
  #hidTimer: NodeJS.Timeout | undefined;
  #hidMessage: string | undefined;
  #pending = 0;
  #lastEventAt = Date.now();
  #lastEmitted = "[]";
  #closed = false;

  /**
   * Subscribes to the PC/SC source, lists the readers it has now (identifying the cards in them)
   * and starts polling HID if asked. Never throws: an unavailable PC/SC or HID is a state
   * ({@link DeviceManager.status}).
   */
  constructor(options: DeviceManagerOptions = {}) {
    this.#pcsc = options.pcsc;
    this.#rules = options.families ?? [];
    this.#log = options.logger ?? silentLogger;
    this.#busyRetryMs = options.busyRetryMs ?? 500;
    this.#filter = options.readerFilter ?? (() => true);
    this.#readMolto2Info = options.readMolto2Info === true;
    this.#unsubscribe = this.#pcsc?.on((event) => this.#onPcsc(event)) ?? (() => {});
    for (const reader of (this.#pcsc?.readers() ?? []).filter((r) => this.#filter(r.name))) {
      this.#addReader(reader.name);
      if (reader.cardPresent) this.#cardInserted(reader.name);
    }
    this.#hidList = options.hid?.list;
    if (options.hid !== undefined) {
      const interval = options.hid.intervalMs ?? 1_000;
      // The first listing counts as an identification under way: settled() waits for it.
      this.#pending++;
      void this.#pollHid().finally(() => this.#pending--);
      this.#hidTimer = setInterval(() => void this.#pollHid(), interval);
      this.#hidTimer.unref();
    }
  }

  /** The devices now: PC/SC readers in the order they appeared, then HID devices. */
  list(): DeviceInfo[] {
    return [...[...this.#readers.values()].map((e) => e.info), ...this.#hid.values()].map((d) => ({ ...d }));
  }

  /** PC/SC service state and, when HID listing failed, why. */
  status(): { pcsc: PcscState | "absent"; pcscMessage?: string; hid: "ok" | "unavailable" | "absent"; hidMessage?: string } {
    const pcsc = this.#pcsc?.status;
    return {
      pcsc: pcsc?.state ?? "absent",
      ...(pcsc?.message !== undefined ? { pcscMessage: pcsc.message } : {}),
      hid: this.#hidList === undefined ? "absent" : this.#hidMessage === undefined ? "ok" : "unavailable",
      ...(this.#hidMessage !== undefined ? { hidMessage: this.#hidMessage } : {}),
    };
  }

  /** Subscribes to `changed` events (the whole new list each time); returns the unsubscribe function. */
  on(listener: (event: DeviceEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Resolves once no identification (nor the first HID listing) is under way and the PC/SC source
   * has reported its readers and what is in them; or after `timeoutMs`. A source that cannot say
   * when that is (no reader at all, no pcscd) is taken as done once no PC/SC event has come for
   * `quietMs`: pcscd lists its readers some tens of ms after a context starts.
   */
  async settled(quietMs = 300, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const known = (): boolean => this.#pcsc?.scanComplete?.() === true || Date.now() - this.#lastEventAt >= quietMs;
    while (Date.now() < deadline && (this.#pending > 0 || !known())) {
      // A short step: a one-shot command waits on this before it prints anything.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /**
   * Runs `fn` with an exclusive session on the card in `reader`, after whatever else is queued on
   * that reader (the manager's own identification included).
   * @throws OtpbridgeError from the PC/SC source (READER_GONE, CARD_REMOVED, DEVICE_BUSY,
   *   PCSC_UNAVAILABLE) or whatever `fn` throws; NO_DEVICE without a PC/SC source.
   */
  withReader<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T> {
    const pcsc = this.#pcsc;
    const entry = this.#readers.get(reader);
    const run = (): Promise<T> => {
      if (pcsc === undefined) return Promise.reject(otpbError("NO_DEVICE", "PC/SC is not in use here"));
      return pcsc.withCard(reader, fn);
    };
    if (entry === undefined) return run();
    const result = entry.queue.then(run, run);
    entry.queue = result.catch(() => {});
    return result;
  }

  /** Identifies the card in `reader` again (for example after the caller changed it). */
  reidentify(reader: string): void {
    const entry = this.#readers.get(reader);
    if (entry !== undefined && entry.info.state !== "no-card") this.#cardInserted(reader);
  }

  /** Stops listening and polling; leaves the PC/SC source open (its owner closes it). */
  close(): void {
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#hidTimer);
    for (const entry of this.#readers.values()) this.#cancelRetry(entry);
    this.#listeners.clear();
  }

  #onPcsc(event: PcscEvent): void {
    if ("reader" in event && !this.#filter(event.reader)) return;
    this.#lastEventAt = Date.now();
    switch (event.type) {
      case "reader-added":
        this.#addReader(event.reader);
        break;
      case "reader-removed": {
        const entry = this.#readers.get(event.reader);
        if (entry !== undefined) {
          this.#cancelRetry(entry);
          entry.generation++;
          this.#readers.delete(event.reader);
        }
        break;
      }
      case "card-inserted":
        this.#addReader(event.reader);
        this.#cardInserted(event.reader);
        break;
      case "card-removed": {
        const entry = this.#readers.get(event.reader);
        if (entry !== undefined) {
          this.#cancelRetry(entry);
          entry.generation++;
          entry.info = this.#emptyInfo(event.reader);
        }
        break;
      }
      case "service":
        this.#log.info("device manager: PC/SC service", { state: event.state });
        break;
    }
    this.#changed();
  }

  #emptyInfo(reader: string): DeviceInfo {
    const known = familyOfReader(reader, this.#rules);
    return {
      id: `pcsc:${reader}`,
      link: "pcsc",
      reader,
      family: known?.family ?? null,
      familySource: known?.source ?? null,
      model: null,
      serial: null,
      state: "no-card",
    };
  }

  #addReader(reader: string): void {
    if (this.#readers.has(reader)) return;
    this.#readers.set(reader, { info: this.#emptyInfo(reader), generation: 0, queue: Promise.resolve(), retry: undefined, retryPending: false });
  }

  /** `retried`: this is the look again after another client held the card. */
  #cardInserted(reader: string, retried = false): void {
    const entry = this.#readers.get(reader)!;
    this.#cancelRetry(entry);
    const generation = ++entry.generation;
    const known = familyOfReader(reader, this.#rules);
    if (known?.family === "molto2" && this.#readMolto2Info) {
      this.#identify(reader, entry, generation, retried, async (transport) => {
        // Its one unauthenticated command (§3.3 Info): nothing is selected, nothing authenticated.
        const { readMolto2Info } = await import("./molto2.js");
        const info = await readMolto2Info(transport);
        return { family: "molto2", familySource: known.source, model: "Molto2", serial: info.serial, state: "ready" };
      });
      return;
    }
    if (known !== null && known.family !== "single-profile") {
      // Molto2 and OTP-applet readers are not opened while listing (§3.1, §5).
      entry.info = { ...this.#emptyInfo(reader), model: known.family === "molto2" ? "Molto2" : null, state: "ready" };
      this.#changed();
      return;
    }
    this.#identify(reader, entry, generation, retried, async (transport) => {
      const found = await identifySingleProfile(transport);
      if (found.kind === "other") return { state: "unsupported", message: `not a Token2 programmable token (GET INFO answered ${swName(found.sw)})` };
      if (found.model === null) return { serial: found.serial, state: "unsupported", message: "serial matches no known programmable model" };
      this.#log.info("device manager: identified", { reader, serial: found.serial, model: found.model.name });
      return { family: "single-profile", familySource: known?.source ?? "probe", model: found.model.name, serial: found.serial, state: "ready" };
    });
  }

  /** Runs `probe` in the reader's queue and lists the card as it says, or as the failure says. */
  #identify(reader: string, entry: ReaderEntry, generation: number, retried: boolean, probe: (transport: ApduTransport) => Promise<Partial<DeviceInfo>>): void {
    entry.info = { ...this.#emptyInfo(reader), state: "identifying" };
    this.#pending++;
    this.#log.debug("device manager: identifying", { reader });
    this.withReader(reader, probe)
      .then((found) => {
        if (entry.generation !== generation || this.#closed) return;
        entry.info = { ...this.#emptyInfo(reader), ...found };
      })
      .catch((error: unknown) => {
        if (entry.generation !== generation || this.#closed) return;
        const reason = reasonOf(error);
        const message = error instanceof Error ? error.message : String(error);
        if (reason === "CARD_REMOVED" || reason === "READER_GONE" || reason === "PCSC_UNAVAILABLE") {
          // The matching event follows (or came already); it sets the state.
          entry.info = { ...this.#emptyInfo(reader), state: "no-card" };
          return;
        }
        entry.info = { ...this.#emptyInfo(reader), state: reason === "DEVICE_BUSY" ? "busy" : "error", message };
        if (reason === "DEVICE_BUSY") {
          // Another client holds the card: look again later, as long as the same card is there.
          // The first look again counts as an identification under way, so that a listing waits
          // for it: another program's own identification holds a fresh card for a few ms.
          entry.retryPending = !retried;
          if (entry.retryPending) this.#pending++;
          entry.retry = setTimeout(() => {
            this.#cancelRetry(entry);
            if (entry.generation === generation && this.#readers.get(reader) === entry) this.#cardInserted(reader, true);
          }, this.#busyRetryMs);
          entry.retry.unref();
        }
      })
      .finally(() => {
        this.#pending--;
        this.#changed();
      });
    this.#changed();
  }

  #cancelRetry(entry: ReaderEntry): void {
    clearTimeout(entry.retry);
    entry.retry = undefined;
    if (entry.retryPending) this.#pending--;
    entry.retryPending = false;
  }

  async #pollHid(): Promise<void> {
    if (this.#hidList === undefined || this.#closed) return;
    let found: Token2HidDevice[];
    try {
      found = await this.#hidList();
    } catch (error) {
      // No libusb, no permission: HID stays off for this manager, PC/SC goes on.
      this.#hidMessage = error instanceof Error ? error.message : String(error);
      clearInterval(this.#hidTimer);
      this.#log.warn("device manager: HID unavailable", { error });
      this.#changed();
      return;
    }
    if (this.#closed) return;
    this.#hid.clear();
    for (const device of found) {
      this.#hid.set(device.path, {
        id: `hid:${device.path}`,
        link: "hid",
        path: device.path,
        family: "otp-applet",
        familySource: "usb",
        model: device.product ?? null,
        serial: device.serialNumber ?? null,
        state: "ready",
      });
    }
    this.#changed();
  }

  #changed(): void {
    if (this.#closed) return;
    const devices = this.list();
    const json = JSON.stringify(devices);
    if (json === this.#lastEmitted) return;
    this.#lastEmitted = json;
    for (const listener of [...this.#listeners]) listener({ type: "changed", devices: this.list() });
  }
}
