/**
 * The console's one connection to the daemon: JSON-RPC 2.0 over the page's own WebSocket, the
 * same public API every client uses. Its first message is `hello` with the CSRF value the daemon
 * put in this page (docs/CONSOLE.md); a socket that does not start so is closed by the daemon.
 */
import fixes from "virtual:reason-fixes";

/** A JSON-RPC error as the daemon sends it, with its reason's fix. */
export class RpcError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly data: Record<string, any>;
  constructor(error: { code: number; message: string; data?: Record<string, any> }) {
    super(error.message);
    this.code = error.code;
    this.data = error.data ?? {};
    this.reason = typeof this.data.reason === "string" ? this.data.reason : "INTERNAL";
  }

  /** The one-line "Fix:" the CLI's docs give for this reason (docs/TROUBLESHOOTING.md). */
  get fix(): string {
    return fixes[this.reason] ?? "";
  }
}

type Listener = (params: any) => void;

export class Rpc {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve: (v: any) => void; reject: (e: unknown) => void }>();
  readonly #listeners = new Map<string, Set<Listener>>();
  #id = 0;
  hello: { server: { version: string }; capabilities: string[]; client: { kind: string } } | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener("message", (e) => this.#receive(String(e.data)));
    ws.addEventListener("close", () => {
      for (const p of this.#pending.values())
        p.reject(new RpcError({ code: -32603, message: "the connection to the daemon closed", data: { reason: "INTERNAL" } }));
      this.#pending.clear();
      this.#emit("close", {});
    });
  }

  /** Opens the page's WebSocket and says hello with the page's CSRF value. */
  static connect(csrf: string): Promise<Rpc> {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/`);
    return new Promise((resolve, reject) => {
      ws.addEventListener("error", () => reject(new Error("the daemon refused the connection: log in again with otpbridge console")), { once: true });
      ws.addEventListener(
        "open",
        () => {
          const rpc = new Rpc(ws);
          rpc.call("hello", { apiVersion: 1, client: "console", csrf }).then((hello) => {
            rpc.hello = hello;
            resolve(rpc);
          }, reject);
        },
        { once: true },
      );
    });
  }

  /** Calls a method; rejects with an {@link RpcError}. */
  call<T = any>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.#id;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  /** Listens to an event (a notification, or "close"); returns the unsubscribe function. */
  on(method: string, listener: Listener): () => void {
    let set = this.#listeners.get(method);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(method, set);
    }
    set.add(listener);
    return () => set!.delete(listener);
  }

  #emit(method: string, params: unknown): void {
    for (const listener of this.#listeners.get(method) ?? []) listener(params);
  }

  #receive(text: string): void {
    const message = JSON.parse(text) as { id?: number | null; method?: string; params?: unknown; result?: unknown; error?: any };
    if (message.method !== undefined && message.id === undefined) return this.#emit(message.method, message.params);
    const pending = typeof message.id === "number" ? this.#pending.get(message.id) : undefined;
    if (pending === undefined) return;
    this.#pending.delete(message.id as number);
    if (message.error !== undefined) pending.reject(new RpcError(message.error));
    else pending.resolve(message.result);
  }
}
