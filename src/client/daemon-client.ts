/**
 * A native client of a running daemon (docs/API.md): one WebSocket, on the daemon's local Unix
 * socket when it has one, else on 127.0.0.1 with the bearer token from the data directory; JSON-RPC
 * calls that resolve with the result or reject with an OtpbridgeError of the daemon's reason; its
 * notifications (events); and DAEMON_GONE for every call still open when the connection drops.
 * The CLI uses it whenever a daemon serves its data directory; other local programs can too.
 */
import { readFileSync } from "node:fs";
import WebSocket from "ws";
import { daemonTokenPath, type DaemonDiscovery } from "../lib/daemon-paths.js";
import { otpbError, REASONS, type Reason } from "../lib/errors.js";

/** The API version this client speaks. */
const API_VERSION = 1;
/** WebSocket close code: message too big (RFC 6455 §7.4.1). */
const TOO_BIG = 1009;

interface RpcError {
  code: number;
  message: string;
  data?: Record<string, unknown>;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** The daemon's error as the OtpbridgeError it was: same reason, message and detail. */
function errorOf(error: RpcError): Error {
  const { reason, ...detail } = error.data ?? {};
  const known = typeof reason === "string" && (REASONS as readonly string[]).includes(reason);
  return otpbError(known ? (reason as Reason) : "INTERNAL", error.message, { detail });
}

function gone(dataDir: string, cause?: unknown): Error {
  return otpbError("DAEMON_GONE", `the daemon serving ${dataDir} went away before the command finished; nothing is lost (the journal is the daemon's)`, {
    ...(cause !== undefined ? { cause } : {}),
  });
}

/** See the module comment. */
export class DaemonClient {
  readonly #ws: WebSocket;
  readonly #dataDir: string;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<string, Set<(params: unknown) => void>>();
  readonly #goneListeners = new Set<(error: Error) => void>();
  #nextId = 1;
  #closing = false;
  #gone: Error | undefined;

  private constructor(ws: WebSocket, dataDir: string) {
    this.#ws = ws;
    this.#dataDir = dataDir;
    ws.on("message", (data) => this.#received(String(data)));
    ws.on("close", (code) => this.#closed(code));
    ws.on("error", () => {
      // "close" follows and settles what is open.
    });
  }

  /**
   * Connects to the daemon `found` names (see findDaemon) and says hello.
   * @throws OtpbridgeError DAEMON_GONE if it cannot be reached; the daemon's own refusals.
   */
  static async connect(dataDir: string, found: DaemonDiscovery, client = "otpbridge-cli"): Promise<DaemonClient> {
    const ws =
      found.socket !== null
        ? new WebSocket(`ws+unix://${found.socket}:/`)
        : new WebSocket(`ws://127.0.0.1:${found.port}/`, { headers: { authorization: `Bearer ${readFileSync(daemonTokenPath(dataDir), "utf8").trim()}` } });
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("unexpected-response", (_req, res) =>
        reject(otpbError("UNAUTHORIZED", `the daemon serving ${dataDir} refused this client (HTTP ${res.statusCode})`)),
      );
      ws.once("error", (error) => reject(gone(dataDir, error)));
    });
    const connection = new DaemonClient(ws, dataDir);
    await connection.call("hello", { apiVersion: API_VERSION, client });
    return connection;
  }

  /**
   * Calls `method` and resolves with its result.
   * @throws OtpbridgeError with the daemon's reason; DAEMON_GONE if the connection drops first.
   */
  call<T = Record<string, unknown>>(method: string, params: object = {}): Promise<T> {
    if (this.#gone !== undefined) return Promise.reject(this.#gone);
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  /** Calls `listener` with the params of every `method` notification; returns the unsubscribe function. */
  on(method: string, listener: (params: unknown) => void): () => void {
    let set = this.#listeners.get(method);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(method, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Calls `listener` once if the daemon goes away before {@link close}. */
  onGone(listener: (error: Error) => void): () => void {
    this.#goneListeners.add(listener);
    return () => this.#goneListeners.delete(listener);
  }

  /** Closes the connection (what the daemon was doing for it goes on: a batch keeps running). */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.#ws.once("close", () => resolve());
      this.#ws.close();
    });
  }

  #received(text: string): void {
    let message: { id?: number; method?: string; params?: unknown; result?: unknown; error?: RpcError };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (message.method !== undefined) {
      for (const listener of this.#listeners.get(message.method) ?? []) listener(message.params);
      return;
    }
    const pending = message.id === undefined ? undefined : this.#pending.get(message.id);
    if (pending === undefined) return;
    this.#pending.delete(message.id!);
    if (message.error !== undefined) pending.reject(errorOf(message.error));
    else pending.resolve(message.result);
  }

  #closed(code: number): void {
    // 1009: the daemon refused a message larger than it takes (its maxPayload), and closed.
    const error =
      code === TOO_BIG
        ? otpbError(
            "INVALID_INPUT",
            `the request is larger than the daemon serving ${this.#dataDir} takes in one message: for a large CSV or URI list, stop the daemon and run the command alone`,
          )
        : gone(this.#dataDir);
    this.#gone = error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    if (!this.#closing) for (const listener of this.#goneListeners) listener(error);
  }
}
