/**
 * PC/SC through pcscd with the `pcsclite` binding: reader and card events, exclusive sessions,
 * and survival of the service going away and coming back.
 *
 * Facts about the binding this module is built around (measured with pcsclite 1.0.1, pcsc-lite 1.9.9):
 * - creating a context without pcscd throws "Service not available": the service socket is checked
 *   first, and a missing service is a state (`unavailable`, reason PCSC_UNAVAILABLE), retried with
 *   exponential backoff rather than an error or a busy loop;
 * - when pcscd dies, the context emits one `error` and every reader ends: the context cannot be
 *   revived, so it is dropped and a new one built when the service answers again;
 * - `reader.close()` inside a `status` listener deadlocks: closing is always deferred (setImmediate);
 * - `reader.close()` while the reader's status thread is not blocked in SCardGetStatusChange (it
 *   has not started, or is between two reports) leaves that thread's event-loop handle open
 *   forever, so the process never exits: the thread sees the stop flag at the top of its loop and
 *   leaves without the wake-up that closes the handle. Seen when pcscd starts while the manager
 *   waits for it, and under load in a loop of starts and closes. A reader is therefore closed only
 *   once it has reported (status, error or end) and then been quiet for READER_QUIET_MS: by then
 *   its thread is waiting in pcscd, where close() cancels it;
 * - the process only exits once every reader and then the context are closed; closing the context
 *   makes it emit "Command cancelled", which is expected then and ignored.
 */
import { existsSync } from "node:fs";
import { abytes } from "../lib/checks.js";
import { otpbError, type OtpbridgeError, type Reason } from "../lib/errors.js";
import { definiteReason, hexCode, pcscCode } from "./pcsc-errors.js";
import type { ApduTransport, CardConnector } from "./types.js";
import { OneAtATime } from "../lib/one-at-a-time.js";

/** The parts of the binding's CardReader this module uses. */
interface BindingReader {
  readonly name: string;
  readonly connected: boolean;
  readonly SCARD_SHARE_EXCLUSIVE: number;
  readonly SCARD_PROTOCOL_T0: number;
  readonly SCARD_PROTOCOL_T1: number;
  readonly SCARD_STATE_PRESENT: number;
  readonly SCARD_LEAVE_CARD: number;
  on(event: "status", listener: (status: { state: number; atr?: Buffer }) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
  connect(options: { share_mode: number; protocol: number }, cb: (error: Error | null | undefined, protocol: number) => void): void;
  transmit(data: Buffer, maxLength: number, protocol: number, cb: (error: Error | null | undefined, response: Buffer) => void): void;
  disconnect(disposition: number, cb: (error: Error | null | undefined) => void): void;
  close(): void;
}

/** The parts of the binding's PCSCLite (one context) this module uses. */
interface BindingContext {
  on(event: "reader", listener: (reader: BindingReader) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  close(): void;
}

export type PcscState = "ready" | "unavailable" | "closed";

export type PcscEvent =
  | { type: "service"; state: PcscState; reason?: "PCSC_UNAVAILABLE"; message?: string }
  | { type: "reader-added" | "reader-removed" | "card-removed"; reader: string }
  | { type: "card-inserted"; reader: string; atr: Uint8Array };

export interface ReaderInfo {
  name: string;
  cardPresent: boolean;
  /** ATR of the card in the reader (empty when none). */
  atr: Uint8Array;
  /** True while a session of this process holds the card. */
  inUse: boolean;
}

export interface PcscOptions {
  /** pcscd's socket; default $PCSCLITE_CSOCK_NAME (libpcsclite honours it too) or /run/pcscd/pcscd.comm. */
  socketPath?: string;
  /** First delay before trying the service again (ms, default 100); it doubles on each failure. */
  retryInitialMs?: number;
  /** Longest delay between tries (ms, default 2000): how late a restarted pcscd may be noticed. */
  retryMaxMs?: number;
}

interface ReaderEntry {
  readonly reader: BindingReader;
  /** When the reader may be closed (see the header). */
  readonly quiet: ReaderQuiet;
  present: boolean;
  atr: Uint8Array;
  busy: boolean;
}

/** Largest response APDU: 65,536 data bytes (extended Le) and SW1 SW2. */
const MAX_RESPONSE = 65_538;
/** How long to wait for the reader or the service to explain an ambiguous failure: pcscd polls card presence every 400 ms. */
const SETTLE_MS = 1_000;
const NOT_RUNNING = "PC/SC service not running";
/** How long a reader's status thread must have been quiet after a report before it is closed. */
const READER_QUIET_MS = 100;
/** How long close() waits for its readers to be quiet before closing them anyway. */
const QUIET_WAIT_MS = 2_000;

/** The PC/SC side of otpbridge: one per process. Build it with {@link PcscManager.start}. */
export class PcscManager implements CardConnector {
  readonly #factory: (() => BindingContext) | undefined;
  readonly #socketPath: string;
  readonly #retryInitialMs: number;
  readonly #retryMaxMs: number;
  readonly #listeners = new Set<(event: PcscEvent) => void>();
  readonly #readers = new Map<string, ReaderEntry>();
  readonly #sessions = new Set<ApduTransport>();
  #context: BindingContext | undefined;
  #state: PcscState = "unavailable";
  #message = NOT_RUNNING;
  #retryDelay: number;
  #retryTimer: NodeJS.Timeout | undefined;
  #readySince = 0;

  private constructor(factory: (() => BindingContext) | undefined, options: PcscOptions) {
    this.#factory = factory;
    this.#socketPath = options.socketPath ?? process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
    this.#retryInitialMs = options.retryInitialMs ?? 100;
    this.#retryMaxMs = options.retryMaxMs ?? 2_000;
    this.#retryDelay = this.#retryInitialMs;
  }

  /**
   * Loads the binding and connects to pcscd if it runs; never throws for a missing service: the
   * manager then starts `unavailable` and keeps looking for it. A binding that cannot load (no
   * libpcsclite) leaves it `unavailable` for good, with that message.
   */
  static async start(options: PcscOptions = {}): Promise<PcscManager> {
    let factory: (() => BindingContext) | undefined;
    try {
      factory = (await import("pcsclite")).default as unknown as () => BindingContext;
    } catch {
      factory = undefined;
    }
    const manager = new PcscManager(factory, options);
    if (factory === undefined) manager.#message = "PC/SC library (libpcsclite or its binding) not available";
    else manager.#tryContext();
    return manager;
  }

  /** `ready`, `unavailable` (with reason PCSC_UNAVAILABLE and a message) or `closed`. */
  get status(): { state: PcscState; reason?: "PCSC_UNAVAILABLE"; message?: string } {
    return this.#state === "unavailable" ? { state: this.#state, reason: "PCSC_UNAVAILABLE", message: this.#message } : { state: this.#state };
  }

  /**
   * True once pcscd's reader list has come and every reader in it has reported its first status
   * (whether a card sits in it). The binding announces the readers of one listing together, so
   * one reader seen means the whole first list is in. With no reader at all this stays false:
   * an empty list and one not come yet look the same.
   */
  scanComplete(): boolean {
    return this.#state === "ready" && this.#readers.size > 0 && [...this.#readers.values()].every((entry) => entry.quiet.reported);
  }

  /** The readers pcscd reports now. */
  readers(): ReaderInfo[] {
    return [...this.#readers.entries()].map(([name, e]) => ({ name, cardPresent: e.present, atr: e.atr.slice(), inUse: e.busy }));
  }

  /**
   * Subscribes to service, reader and card events; returns the unsubscribe function. Listeners run
   * synchronously and must not throw.
   */
  on(listener: (event: PcscEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Opens an exclusive session (SCARD_SHARE_EXCLUSIVE) on the card in `reader`: until it is closed
   * no other PC/SC client can talk to the card, and another session of this process is refused.
   * @throws OtpbridgeError PCSC_UNAVAILABLE (no service), READER_GONE (unknown reader),
   *   CARD_REMOVED (no card), DEVICE_BUSY (held by this process or another PC/SC client).
   */
  async connect(reader: string): Promise<ApduTransport> {
    if (this.#state !== "ready") throw this.#unavailable();
    const entry = this.#readers.get(reader);
    if (entry === undefined) throw otpbError("READER_GONE", `no reader named ${JSON.stringify(reader)}`, { detail: { reader } });
    if (entry.busy) throw otpbError("DEVICE_BUSY", `reader ${reader} is in use by another session`, { detail: { reader } });
    if (!entry.present) throw otpbError("CARD_REMOVED", `no card in reader ${reader}`, { detail: { reader } });
    entry.busy = true;
    try {
      const r = entry.reader;
      // A session whose disconnect failed leaves the binding believing it is still connected, and
      // its connect() would then skip SCardConnect and report no protocol: release that first.
      if (r.connected) await new Promise<void>((resolve) => r.disconnect(r.SCARD_LEAVE_CARD, () => resolve()));
      const protocol = await new Promise<number>((resolve, reject) =>
        r.connect({ share_mode: r.SCARD_SHARE_EXCLUSIVE, protocol: r.SCARD_PROTOCOL_T0 | r.SCARD_PROTOCOL_T1 }, (error, p) =>
          error ? reject(error) : typeof p === "number" ? resolve(p) : reject(new Error("stale PC/SC handle")),
        ),
      );
      return this.#session(entry, protocol);
    } catch (error) {
      entry.busy = false;
      throw await this.#explain(entry, error, "connect");
    }
  }

  /** {@inheritDoc CardConnector.withCard} */
  async withCard<T>(reader: string, fn: (transport: ApduTransport) => Promise<T>): Promise<T> {
    const transport = await this.connect(reader);
    try {
      return await fn(transport);
    } finally {
      await transport.close();
    }
  }

  /**
   * Ends every session, closes every reader and then the context, and stops looking for the
   * service, so that the process can exit. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    clearTimeout(this.#retryTimer);
    this.#setState("closed");
    // Close may be called from an event listener, i.e. inside a reader's status callback.
    await new Promise((resolve) => setImmediate(resolve));
    await Promise.all([...this.#sessions].map((session) => session.close()));
    const context = this.#context;
    this.#context = undefined;
    const entries = [...this.#readers.values()];
    this.#readers.clear();
    const deadline = performance.now() + QUIET_WAIT_MS;
    await Promise.all(entries.map((entry) => entry.quiet.settled(deadline)));
    await new Promise((resolve) => setImmediate(resolve));
    for (const entry of entries) entry.reader.close();
    context?.close();
  }

  #tryContext(): void {
    this.#retryTimer = undefined;
    if (this.#state === "closed") return;
    let context: BindingContext;
    try {
      if (!existsSync(this.#socketPath)) throw new Error("no socket");
      context = this.#factory!();
    } catch {
      // Not running, or its socket is stale (killed with -9): look again later, a bit later each time.
      this.#retryTimer = setTimeout(() => this.#tryContext(), this.#retryDelay);
      this.#retryDelay = Math.min(this.#retryDelay * 2, this.#retryMaxMs);
      return;
    }
    this.#context = context;
    // After close() or a service loss, the old context's errors ("Command cancelled") mean nothing.
    context.on("error", () => this.#onContextLost(context));
    context.on("reader", (reader) => this.#onReader(context, reader));
    this.#readySince = Date.now();
    this.#setState("ready");
  }

  #onContextLost(context: BindingContext): void {
    if (context !== this.#context || this.#state === "closed") return;
    this.#context = undefined;
    this.#setState("unavailable", NOT_RUNNING);
    for (const entry of [...this.#readers.values()]) this.#dropReader(entry);
    setImmediate(() => context.close());
    // A service that dies right after each start must not be retried at the fastest rate.
    if (Date.now() - this.#readySince > this.#retryMaxMs) this.#retryDelay = this.#retryInitialMs;
    this.#retryTimer = setTimeout(() => this.#tryContext(), this.#retryDelay);
    this.#retryDelay = Math.min(this.#retryDelay * 2, this.#retryMaxMs);
  }

  #onReader(context: BindingContext, reader: BindingReader): void {
    // Status-thread errors need no handling beyond ReaderQuiet's listener: a lost service is
    // reported by the context, a lost reader by "end".
    const quiet = new ReaderQuiet(reader);
    if (context !== this.#context || this.#state === "closed") {
      quiet.closeWhenQuiet();
      return;
    }
    const entry: ReaderEntry = { reader, quiet, present: false, atr: new Uint8Array(0), busy: false };
    this.#readers.set(reader.name, entry);
    reader.on("end", () => {
      if (this.#readers.get(reader.name) === entry) this.#dropReader(entry);
    });
    reader.on("status", ({ state, atr }) => {
      const present = (state & reader.SCARD_STATE_PRESENT) !== 0;
      if (present === entry.present || this.#readers.get(reader.name) !== entry) return;
      entry.present = present;
      entry.atr = present && atr ? new Uint8Array(atr) : new Uint8Array(0);
      if (present) this.#emit({ type: "card-inserted", reader: reader.name, atr: entry.atr.slice() });
      else this.#emit({ type: "card-removed", reader: reader.name });
    });
    this.#emit({ type: "reader-added", reader: reader.name });
  }

  #dropReader(entry: ReaderEntry): void {
    const name = entry.reader.name;
    this.#readers.delete(name);
    if (entry.present) this.#emit({ type: "card-removed", reader: name });
    this.#emit({ type: "reader-removed", reader: name });
    entry.quiet.closeWhenQuiet();
  }

  #session(entry: ReaderEntry, protocol: number): ApduTransport {
    const reader = entry.reader;
    let closed = false;
    const queue = new OneAtATime();
    // The binding's buffers may hold seed frames: wiped as soon as they are copied.
    const send = (apdu: Uint8Array): Promise<Uint8Array> =>
      new Promise<Uint8Array>((resolve, reject) => {
        const command = Buffer.from(apdu);
        reader.transmit(command, MAX_RESPONSE, protocol, (error, response) => {
          command.fill(0);
          if (error) return reject(error);
          // A card that leaves a vpcd reader mid-exchange comes back as an EMPTY response, not an
          // error (vpcd 3.3): without a status word it is a link failure, explained like the others.
          if (response.length < 2) return reject(new Error("pcscd returned a response without a status word"));
          resolve(new Uint8Array(response));
          response.fill(0);
        });
      }).catch(async (error: unknown) => {
        throw await this.#explain(entry, error, "transmit");
      });
    const session: ApduTransport = {
      transmit: (apdu) => {
        abytes(apdu, "apdu", { min: 4 });
        if (closed) return Promise.reject(otpbError("INTERNAL", "transmit on a closed PC/SC session"));
        // One APDU at a time, in call order: the binding would interleave concurrent calls.
        return queue.run(() => send(apdu));
      },
      close: async () => {
        if (closed) return;
        closed = true;
        await queue.idle();
        // LEAVE_CARD: a reset or power-down would wipe a token's session state for the next user
        // (docs/PROTOCOL.md §3.1: reconnecting a Molto2 resets it). Failure means the card or the service
        // already went away, which ends the session just as well.
        await new Promise<void>((resolve) => reader.disconnect(reader.SCARD_LEAVE_CARD, () => resolve()));
        entry.busy = false;
        this.#sessions.delete(session);
      },
    };
    this.#sessions.add(session);
    return session;
  }

  /**
   * Turns a binding failure into a typed error. Ambiguous codes are explained by what happens
   * next: the service going away, the reader vanishing or the card leaving (within SETTLE_MS).
   */
  async #explain(entry: ReaderEntry, error: unknown, operation: string): Promise<OtpbridgeError> {
    const code = pcscCode(error);
    let reason: Reason | undefined = definiteReason(code);
    if (reason === undefined) {
      await this.#settle(entry);
      if (this.#state !== "ready") reason = "PCSC_UNAVAILABLE";
      else if (this.#readers.get(entry.reader.name) !== entry) reason = "READER_GONE";
      else if (!entry.present) reason = "CARD_REMOVED";
      else reason = "DEVICE_ERROR";
    }
    const reader = entry.reader.name;
    const messages: Partial<Record<Reason, string>> = {
      CARD_REMOVED: `the card left reader ${reader}`,
      READER_GONE: `reader ${reader} is gone`,
      PCSC_UNAVAILABLE: NOT_RUNNING,
      DEVICE_BUSY: `reader ${reader} is in use by another PC/SC client`,
    };
    return otpbError(reason, messages[reason] ?? `PC/SC ${operation} failed on reader ${reader}`, {
      detail: { reader, operation, pcscCode: hexCode(code) },
      cause: error,
    });
  }

  /** Resolves when the reader, its card or the service changes, or after SETTLE_MS. */
  #settle(entry: ReaderEntry): Promise<void> {
    if (this.#state !== "ready" || !entry.present || this.#readers.get(entry.reader.name) !== entry) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        off();
        resolve();
      };
      const timer = setTimeout(done, SETTLE_MS);
      const off = this.on((event) => {
        if (event.type === "service" || ("reader" in event && event.reader === entry.reader.name)) done();
      });
    });
  }

  #unavailable(): OtpbridgeError {
    if (this.#state === "closed") return otpbError("PCSC_UNAVAILABLE", "the PC/SC manager is closed");
    return otpbError("PCSC_UNAVAILABLE", this.#message);
  }

  #setState(state: PcscState, message?: string): void {
    if (state === this.#state) return;
    this.#state = state;
    if (message !== undefined) this.#message = message;
    this.#emit(state === "unavailable" ? { type: "service", state, reason: "PCSC_UNAVAILABLE", message: this.#message } : { type: "service", state });
  }

  #emit(event: PcscEvent): void {
    for (const listener of [...this.#listeners]) listener(event);
  }
}

/**
 * Tells when a reader may be closed: once its status thread has reported (a status, an error or
 * its end) and then been quiet for READER_QUIET_MS, so that it is blocked in pcscd where close()
 * cancels it (see the header). Closing is always outside the binding's callbacks.
 */
class ReaderQuiet {
  readonly #reader: BindingReader;
  /** performance.now() of the last report; 0 before the first. */
  #last = 0;

  constructor(reader: BindingReader) {
    this.#reader = reader;
    const seen = (): void => {
      this.#last = performance.now();
    };
    // The "error" listener must exist anyway: an unheard "error" would throw.
    reader.on("status", seen);
    reader.on("error", seen);
    reader.on("end", seen);
  }

  /** True once the reader has reported anything (its first status comes a few ms after it is listed). */
  get reported(): boolean {
    return this.#last !== 0;
  }

  /** Resolves once the reader may be closed, or at `deadline` (performance.now() time). */
  async settled(deadline: number): Promise<void> {
    for (;;) {
      const now = performance.now();
      const wait = this.#last === 0 ? 20 : this.#last + READER_QUIET_MS - now;
      if (wait <= 0 || now >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(wait, deadline - now)));
    }
  }

  /**
   * Closes the reader once it may be (for readers dropped while the manager goes on). Through
   * setImmediate: a promise continuation can run inside the binding's callback scope, which holds
   * the reader's mutex that close() takes.
   */
  closeWhenQuiet(): void {
    void this.settled(performance.now() + QUIET_WAIT_MS).then(() => setImmediate(() => this.#reader.close()));
  }
}
