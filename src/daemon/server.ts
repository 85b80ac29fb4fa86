/**
 * The HTTP side: listens on 127.0.0.1 and ::1 only, serves the operator console's page over plain
 * GET (console-http.ts), refuses at the upgrade (before any WebSocket exists) a non-loopback Host
 * (DNS rebinding), an Origin that can never be paired, a native client without the bearer token, a
 * console page without its session cookie, and sockets over the limit; then one
 * {@link ClientContext} per socket, each message through the rate limit and the JSON-RPC
 * dispatcher (a console socket's first message must carry its page's CSRF value). ws enforces
 * `maxPayload` (close 1009).
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../lib/log.js";
import { bearerMatches, isLoopbackHost, pairableOrigin, type Capability, type PairingStore, CAPABILITIES } from "./auth.js";
import { isOwnOrigin, serveConsole, type ConsoleBundle } from "./console-http.js";
import { ConsoleLogin } from "./console-login.js";
import type { EventHub } from "./events.js";
import { TokenBucket, type RateLimitOptions } from "./rate-limit.js";
import { RawJson, toRpcError, type ClientContext, type RpcDispatcher } from "./rpc.js";
import { otpbError, type Reason } from "../lib/errors.js";

export interface ServerLimits {
  /** Largest WebSocket message, bytes (default 64 KiB). */
  maxPayload: number;
  /** Open sockets at most (default 256). */
  maxSockets: number;
  rate: RateLimitOptions;
}

export const DEFAULT_LIMITS: ServerLimits = { maxPayload: 64 * 1024, maxSockets: 256, rate: { perSecond: 100, burst: 200 } };

export interface ServerOptions {
  port: number;
  token: string;
  pairings: PairingStore;
  dispatcher: RpcDispatcher;
  hub: EventHub;
  limits: ServerLimits;
  log: Logger;
  /** Called when a client's socket closes (its sessions end). */
  onClientGone: (clientId: string) => void;
  /** The operator console: its bundle (undefined: not built) and where its launch file goes. */
  console: { dataDir: string; bundle: ConsoleBundle | undefined; launchTtlMs?: number };
}

/** Who is at the other end of an upgrade, or why it is refused: decided in `#classify` only. */
type Classified =
  | { kind: "native" }
  | { kind: "browser"; origin: string }
  | { kind: "console"; origin: string; session: string }
  | { refuse: [status: 401 | 403, reason: Reason, message: string] };

const ALL: ReadonlySet<Capability> = new Set(CAPABILITIES);
const NONE: ReadonlySet<Capability> = new Set();

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable" };

/** Answers the upgrade request with an HTTP error whose JSON body names the reason (docs/API.md). */
function refuse(socket: Duplex, status: 401 | 403 | 503, reason: Reason, message: string): void {
  const body = JSON.stringify({ reason, message });
  socket.end(`HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** The listening daemon. Build it with {@link DaemonServer.listen}. */
export class DaemonServer {
  readonly #options: ServerOptions;
  readonly #wss: WebSocketServer;
  readonly #http: Server[] = [];
  readonly #sockets = new Set<WebSocket>();
  #port = 0;
  #login: ConsoleLogin | undefined;

  private constructor(options: ServerOptions) {
    this.#options = options;
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.limits.maxPayload, perMessageDeflate: false });
  }

  /**
   * Listens on 127.0.0.1 (port 0: any free port) and then on ::1 with the same port; a host
   * without IPv6 loopback keeps only 127.0.0.1.
   * @throws Node's listen error for 127.0.0.1 (EADDRINUSE, EACCES).
   */
  static async listen(options: ServerOptions): Promise<DaemonServer> {
    const server = new DaemonServer(options);
    server.#port = await server.#bind("127.0.0.1", options.port);
    server.#login = new ConsoleLogin(options.console.dataDir, server.#port, options.console.launchTtlMs);
    try {
      await server.#bind("::1", server.#port);
    } catch (error) {
      options.log.warn("daemon: not listening on ::1", { error });
    }
    return server;
  }

  get port(): number {
    return this.#port;
  }

  /**
   * Stops listening and closes every socket (1001 going away), waiting for each close (a client
   * that does not answer the close handshake within 1 s is cut), so that every client's sessions
   * have ended when this resolves.
   */
  async close(): Promise<void> {
    const closes = [...this.#sockets].map((ws) => new Promise<void>((resolve) => {
      ws.once("close", () => resolve());
      ws.close(1001, "daemon shutting down");
      setTimeout(() => ws.terminate(), 1_000).unref();
    }));
    this.#login?.close();
    await Promise.all([...closes, ...this.#http.map((h) => new Promise<void>((resolve) => h.close(() => resolve())))]);
    this.#wss.close();
  }

  #bind(host: string, port: number): Promise<number> {
    const http = createServer((req, res) => {
      const login = this.#login;
      if (login === undefined) return void res.writeHead(503, { "Content-Type": "text/plain" }).end("starting\n");
      serveConsole(req, res, { login, bundle: this.#options.console.bundle, log: this.#options.log });
    });
    http.on("upgrade", (req, socket, head) => this.#upgrade(req, socket, head));
    return new Promise((resolve, reject) => {
      http.once("error", reject);
      http.listen({ host, port, ipv6Only: host === "::1" }, () => {
        http.off("error", reject);
        this.#http.push(http);
        resolve((http.address() as { port: number }).port);
      });
    });
  }

  /**
   * The one place that tells clients apart. A loopback Host first (DNS rebinding). Then the
   * Origin: the daemon's own address is the console, which must hold a console session cookie;
   * any other Origin is a web page that pairs (its cookie, if the browser sent one, counts for
   * nothing); no Origin is a native program, which must hold the bearer token.
   */
  #classify(req: IncomingMessage): Classified {
    const { log, token } = this.#options;
    if (!isLoopbackHost(req.headers.host)) {
      log.warn("upgrade refused: Host is not a loopback name", { host: String(req.headers.host).slice(0, 100) });
      return { refuse: [403, "FORBIDDEN_HOST", "the Host header must be a loopback name"] };
    }
    const rawOrigin = req.headers.origin;
    if (rawOrigin === undefined) {
      if (bearerMatches(req.headers.authorization, token)) return { kind: "native" };
      log.warn("upgrade refused: no valid bearer token");
      return { refuse: [401, "UNAUTHORIZED", "native clients send Authorization: Bearer <token file>"] };
    }
    if (isOwnOrigin(rawOrigin, req.headers.host, this.#port)) {
      const session = this.#login?.sessionOf(req.headers.cookie);
      if (session !== undefined) return { kind: "console", origin: rawOrigin.toLowerCase(), session };
      log.warn("upgrade refused: console page without a session");
      return { refuse: [401, "UNAUTHORIZED", "the console needs a login: run otpbridge console"] };
    }
    const origin = pairableOrigin(rawOrigin);
    if (origin !== null) return { kind: "browser", origin };
    log.warn("upgrade refused: Origin", { origin: rawOrigin.slice(0, 100) });
    return { refuse: [403, "FORBIDDEN_ORIGIN", "this Origin can never be paired (null, wildcard, not https)"] };
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const { log } = this.#options;
    socket.on("error", () => socket.destroy());
    const who = this.#classify(req);
    if ("refuse" in who) return refuse(socket, ...who.refuse);
    if (this.#sockets.size >= this.#options.limits.maxSockets) {
      log.warn("upgrade refused: too many sockets", { open: this.#sockets.size });
      return refuse(socket, 503, "RATE_LIMITED", "too many open sockets");
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws, who));
  }

  #connected(ws: WebSocket, who: Exclude<Classified, { refuse: unknown }>): void {
    const { dispatcher, hub, log, pairings, limits } = this.#options;
    this.#sockets.add(ws);
    const id = randomBytes(9).toString("base64url");
    let client: ClientContext;
    if (who.kind === "browser") {
      const origin = who.origin;
      client = {
        id, kind: "browser", origin, helloDone: false, notify,
        capabilities: () => new Set(pairings.approved(origin)?.capabilities ?? NONE),
        paired: () => pairings.approved(origin) !== undefined,
      };
    } else {
      // The console is the user who runs the daemon, as a native client is.
      client = { id, kind: who.kind, ...(who.kind === "console" ? { origin: who.origin } : {}), capabilities: () => ALL, paired: () => true, helloDone: false, notify };
    }
    // The console's first message must carry its page's CSRF value (see #csrfFirst).
    let csrfPending = who.kind === "console";
    const origin = client.origin;
    function notify(method: string, params: unknown): void {
      if (ws.readyState !== ws.OPEN) return;
      const json = params instanceof RawJson ? params.json : JSON.stringify(params);
      ws.send(`{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${json}}`);
    }
    hub.add(client);
    log.info("client connected", { client: id, kind: client.kind, ...(origin !== undefined ? { origin } : {}) });
    const bucket = new TokenBucket(limits.rate);
    ws.on("message", (data, isBinary) => {
      if (isBinary) return ws.close(1003, "text JSON-RPC messages only");
      const wait = bucket.take();
      if (wait > 0) {
        // Far past the limit: the client ignores RATE_LIMITED answers, so it goes.
        if (bucket.refusedInARow > limits.rate.burst) return ws.close(1008, "rate limit");
        const e = toRpcError(otpbError("RATE_LIMITED", "too many requests", { detail: { retryAfterMs: wait } }));
        return ws.send(JSON.stringify({ jsonrpc: "2.0", id: null, error: e }));
      }
      const text = (data as Buffer).toString("utf8");
      if (csrfPending) {
        if (who.kind !== "console" || !this.#csrfFirst(text, who.session)) {
          log.warn("console socket closed: first message without its page's CSRF value", { client: id });
          return ws.close(1008, "csrf");
        }
        csrfPending = false;
      }
      dispatcher.receive(text, client).then(
        (reply) => {
          if (reply !== null && ws.readyState === ws.OPEN) ws.send(reply);
        },
        // receive() answers every failure itself; this is the last guard for the process.
        (error: unknown) => log.error("rpc: unanswered message", { client: id, error }),
      );
    });
    ws.on("error", (error) => log.warn("client socket error", { client: id, error }));
    ws.on("close", (code) => {
      this.#sockets.delete(ws);
      hub.remove(id);
      log.info("client gone", { client: id, code });
      this.#options.onClientGone(id);
    });
  }

  /** True when `text` is a `hello` request whose params carry a CSRF value of the session. */
  #csrfFirst(text: string, session: string): boolean {
    try {
      const message = JSON.parse(text) as { method?: unknown; params?: { csrf?: unknown } };
      return message.method === "hello" && this.#login !== undefined && this.#login.csrfMatches(session, message.params?.csrf);
    } catch {
      return false;
    }
  }
}
