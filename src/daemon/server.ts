/**
 * The HTTP side. Listens on 127.0.0.1 and ::1 (TCP) and on the Unix socket in the data directory.
 * Plain GETs over TCP get the operator console's page (console-http.ts).
 * Each upgrade is classified once ({@link classifyConnection}: who is asking, and how it proves it)
 * and admitted against the socket limits ({@link SocketPool}) before any WebSocket exists; then one
 * {@link ClientContext} per socket, each message through the rate limit and the JSON-RPC
 * dispatcher. ws enforces `maxPayload` (close 1009). Sockets that do not say hello in time, or
 * stop answering pings, are closed, so a stopped or silent client cannot hold one for long.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "../lib/log.js";
import { type Capability, type PairingStore, CAPABILITIES } from "./auth.js";
import { serveConsole, type ConsoleBundle } from "./console-http.js";
import { ConsoleLogin } from "./console-login.js";
import { classifyConnection, SocketPool, type Connection, type SocketLimits, type Via } from "./connections.js";
import type { EventHub } from "./events.js";
import { LogThrottle } from "./log-throttle.js";
import { NativeChallenge, channelName } from "./native-proof.js";
import { DEFAULT_PAIRING_LIMITS, type PairingLimits } from "./pairing-requests.js";
import { TokenBucket, type RateLimitOptions } from "./rate-limit.js";
import { RawJson, type ClientContext, type RpcDispatcher } from "./rpc.js";
import { freeSocketPath, privateSocket } from "./local-socket.js";
import type { Reason } from "../lib/errors.js";

export interface ServerLimits extends SocketLimits {
  /** Largest WebSocket message, bytes (default 64 KiB). */
  maxPayload: number;
  rate: RateLimitOptions;
  /** A socket that has not said hello (and, over TCP without the bearer header, proved the token) by then is closed, ms. */
  helloTimeoutMs: number;
  /** Sockets are pinged this often; one that did not answer the previous ping is cut, ms. */
  pingIntervalMs: number;
  /** An HTTP request's headers must arrive within this, ms: half-sent upgrades do not hold file descriptors. */
  headersTimeoutMs: number;
  pairing: PairingLimits;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxPayload: 64 * 1024,
  maxSockets: 256,
  nativeReserve: 64,
  perOrigin: 16,
  rate: { perSecond: 100, burst: 200 },
  helloTimeoutMs: 10_000,
  pingIntervalMs: 30_000,
  headersTimeoutMs: 5_000,
  pairing: DEFAULT_PAIRING_LIMITS,
};

export interface ServerOptions {
  port: number;
  /** The Unix socket to listen on as well (src/lib/daemon-paths.ts), or undefined for TCP only. */
  socketPath?: string;
  token: string;
  pairings: PairingStore;
  dispatcher: RpcDispatcher;
  hub: EventHub;
  limits: ServerLimits;
  log: Logger;
  /** Ends a client's device sessions: its socket closed, or its pairing was revoked. */
  endSessions: (clientId: string) => void;
  /** Called when a client's socket closes (after its sessions ended). */
  onClientGone?: (clientId: string) => void;
  /** The operator console: its bundle (undefined: not built) and where its launch file goes. */
  console: { dataDir: string; bundle: ConsoleBundle | undefined; launchTtlMs?: number };
}

const ALL: ReadonlySet<Capability> = new Set(CAPABILITIES);
const NONE: ReadonlySet<Capability> = new Set();

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 403: "Forbidden", 503: "Service Unavailable" };

/** Answers the upgrade request with an HTTP error whose JSON body names the reason (docs/API.md). */
function refuse(socket: Duplex, status: 401 | 403 | 503, reason: Reason, message: string): void {
  const body = JSON.stringify({ reason, message });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

interface Open {
  ws: WebSocket;
  client: ClientContext;
  alive: boolean;
}

/** The listening daemon. Build it with {@link DaemonServer.listen}. */
export class DaemonServer {
  readonly #options: ServerOptions;
  readonly #wss: WebSocketServer;
  readonly #http: Server[] = [];
  readonly #open = new Map<string, Open>();
  readonly #pool: SocketPool;
  readonly #quiet = new LogThrottle();
  #heartbeat: NodeJS.Timeout | undefined;
  #port = 0;
  #login: ConsoleLogin | undefined;

  private constructor(options: ServerOptions) {
    this.#options = options;
    this.#pool = new SocketPool(options.limits);
    this.#wss = new WebSocketServer({ noServer: true, maxPayload: options.limits.maxPayload, perMessageDeflate: false });
    options.pairings.onChange(() => this.#sweepPairings());
  }

  /**
   * Listens on the Unix socket (when given), on 127.0.0.1 (port 0: any free port) and then on ::1
   * with the same port; a host without IPv6 loopback keeps only 127.0.0.1.
   * @throws Node's listen error for 127.0.0.1 (EADDRINUSE, EACCES); OtpbridgeError from {@link freeSocketPath}.
   */
  static async listen(options: ServerOptions): Promise<DaemonServer> {
    const server = new DaemonServer(options);
    if (options.socketPath !== undefined) {
      await freeSocketPath(options.socketPath);
      await server.#bind({ path: options.socketPath }, "unix");
      privateSocket(options.socketPath);
    }
    server.#port = await server.#bind({ host: "127.0.0.1", port: options.port }, "tcp");
    server.#login = new ConsoleLogin(options.console.dataDir, server.#port, options.console.launchTtlMs);
    try {
      await server.#bind({ host: "::1", port: server.#port, ipv6Only: true }, "tcp");
    } catch (error) {
      options.log.warn("daemon: not listening on ::1", { error });
    }
    server.#heartbeat = setInterval(() => server.#beat(), options.limits.pingIntervalMs).unref();
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
    clearInterval(this.#heartbeat);
    const closes = [...this.#open.values()].map(
      ({ ws }) =>
        new Promise<void>((resolve) => {
          ws.once("close", () => resolve());
          ws.close(1001, "daemon shutting down");
          setTimeout(() => ws.terminate(), 1_000).unref();
        }),
    );
    await Promise.all([...closes, ...this.#http.map((h) => new Promise<void>((resolve) => h.close(() => resolve())))]);
    this.#wss.close();
  }

  #bind(address: { host: string; port: number; ipv6Only?: boolean } | { path: string }, via: Via): Promise<number> {
    const { headersTimeoutMs, maxSockets } = this.#options.limits;
    const http = createServer(
      { headersTimeout: headersTimeoutMs, requestTimeout: headersTimeoutMs * 2, connectionsCheckingInterval: Math.min(1_000, headersTimeoutMs) },
      (req, res) => {
        const login = this.#login;
        // The console is a page of the daemon's TCP address; the Unix socket serves only the API.
        if (via === "unix") return void res.writeHead(426, { "Content-Type": "text/plain" }).end("otpbridge speaks JSON-RPC over WebSocket\n");
        if (login === undefined) return void res.writeHead(503, { "Content-Type": "text/plain" }).end("starting\n");
        serveConsole(req, res, { login, bundle: this.#options.console.bundle, log: this.#options.log });
      },
    );
    // Half-open connections beyond this are dropped by the kernel accept path, not kept as descriptors.
    http.maxConnections = 2 * maxSockets + 64;
    http.on("upgrade", (req, socket, head) => this.#upgrade(req, socket, head, via));
    return new Promise((resolve, reject) => {
      http.once("error", reject);
      http.listen(address, () => {
        http.off("error", reject);
        this.#http.push(http);
        const bound = http.address();
        resolve(typeof bound === "object" && bound !== null ? bound.port : 0);
      });
    });
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, via: Via): void {
    const { log, token } = this.#options;
    socket.on("error", () => socket.destroy());
    const login = this.#login;
    const gate = login === undefined ? undefined : { port: this.#port, sessionOf: (cookie: string | undefined) => login.sessionOf(cookie) };
    const connection = classifyConnection(req, via, token, gate);
    if ("refused" in connection) {
      const { status, reason, message, logFields } = connection.refused;
      this.#quiet.log(`refused:${reason}`, (extra) => log.warn("upgrade refused", { reason, ...logFields, ...extra }));
      return refuse(socket, status, reason, message);
    }
    const full = this.#pool.admit(connection);
    if (full !== undefined) {
      this.#quiet.log(`full:${full}`, (extra) => log.warn("upgrade refused: socket limit", { limit: full, ...extra }));
      return refuse(socket, 503, "RATE_LIMITED", `too many open sockets (${full})`);
    }
    // Counted once the WebSocket exists: ws answers a malformed upgrade itself and never calls back.
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connected(ws, req, connection, this.#pool.take(connection)));
  }

  #clientOf(id: string, ws: WebSocket, req: IncomingMessage, connection: Connection): ClientContext {
    const { pairings, token } = this.#options;
    const notify = (method: string, params: unknown): void => {
      if (ws.readyState !== ws.OPEN) return;
      const json = params instanceof RawJson ? params.json : JSON.stringify(params);
      ws.send(`{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${json}}`);
    };
    if (connection.kind === "browser") {
      const origin = connection.origin;
      const client: ClientContext = {
        id,
        kind: "browser",
        origin,
        helloDone: false,
        notify,
        capabilities: () => {
          const approval = client.approvalId === undefined ? undefined : pairings.current(origin, client.approvalId);
          return approval === undefined ? NONE : new Set(approval.capabilities);
        },
        paired: () => client.approvalId !== undefined && pairings.current(origin, client.approvalId) !== undefined,
      };
      return client;
    }
    // The console is the user who runs the daemon, as a native client is.
    if (connection.kind === "console")
      return { id, kind: "console", origin: connection.origin, capabilities: () => ALL, paired: () => true, helloDone: false, notify };
    if (connection.proof !== "challenge") return { id, kind: "native", capabilities: () => ALL, paired: () => true, helloDone: false, notify };
    const s = req.socket;
    const challenge = new NativeChallenge(
      token,
      channelName({ address: s.remoteAddress ?? "", port: s.remotePort ?? 0 }, { address: s.localAddress ?? "", port: s.localPort ?? 0 }),
    );
    return {
      id,
      kind: "native",
      helloDone: false,
      notify,
      challenge,
      capabilities: () => (challenge.proven ? ALL : NONE),
      paired: () => challenge.proven,
    };
  }

  #connected(ws: WebSocket, req: IncomingMessage, connection: Connection, slot: { release: () => void; proved: () => void }): void {
    const { dispatcher, hub, log, limits } = this.#options;
    const id = randomBytes(9).toString("base64url");
    const client = this.#clientOf(id, ws, req, connection);
    const open: Open = { ws, client, alive: true };
    this.#open.set(id, open);
    hub.add(client);
    const fields = { client: id, kind: client.kind, via: connection.via, ...(client.origin !== undefined ? { origin: client.origin } : {}) };
    // Any page can open sockets at will: its connects are logged once a minute per origin.
    if (client.kind === "browser") this.#quiet.log(`connect:${client.origin}`, (extra) => log.info("client connected", { ...fields, ...extra }));
    else log.info("client connected", fields);
    const deadline = setTimeout(() => {
      if (!client.helloDone || client.challenge?.proven === false) ws.close(1008, "hello (and the token proof) must come first");
    }, limits.helloTimeoutMs);
    const bucket = new TokenBucket(limits.rate);
    // The console's first message must carry its page's CSRF value (see #csrfFirst).
    let csrfPending = connection.kind === "console";
    ws.on("pong", () => (open.alive = true));
    ws.on("message", (data, isBinary) => {
      open.alive = true;
      if (isBinary) return ws.close(1003, "text JSON-RPC messages only");
      const text = (data as Buffer).toString("utf8");
      if (csrfPending) {
        if (connection.kind !== "console" || !this.#csrfFirst(text, connection.session)) {
          log.warn("console socket closed: first message without its page's CSRF value", { client: id });
          return ws.close(1008, "csrf");
        }
        csrfPending = false;
      }
      let flooding = false;
      const admit = (requests: number): number => {
        const wait = bucket.take(requests);
        // Far past the limit: the client ignores RATE_LIMITED answers, so it goes.
        flooding = wait > 0 && bucket.refusedInARow > limits.rate.burst;
        return wait;
      };
      dispatcher.receive(text, client, admit).then(
        (reply) => {
          if (flooding) return ws.close(1008, "rate limit");
          if (reply !== null && ws.readyState === ws.OPEN) ws.send(reply);
          if (client.challenge?.state === "failed") ws.close(1008, "wrong token proof");
          if (client.challenge?.proven === true) slot.proved();
        },
        // receive() answers every failure itself; this is the last guard for the process.
        (error: unknown) => log.error("rpc: unanswered message", { client: id, error }),
      );
    });
    ws.on("error", (error) => log.warn("client socket error", { client: id, error }));
    ws.on("close", (code) => {
      clearTimeout(deadline);
      this.#open.delete(id);
      slot.release();
      hub.remove(id);
      if (client.kind !== "browser") log.info("client gone", { client: id, code });
      this.#options.endSessions(id);
      this.#options.onClientGone?.(id);
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

  /** Pings every socket; cuts those that did not answer the last ping; notices pairing file edits. */
  #beat(): void {
    for (const open of this.#open.values()) {
      if (!open.alive) {
        open.ws.terminate();
        continue;
      }
      open.alive = false;
      open.ws.ping();
    }
    // Reading the store notices an edit of the file made while the daemon runs (listeners sweep).
    try {
      this.#options.pairings.list();
    } catch (error) {
      // A pairing file gone wrong (mode, content) is refused at each page's next call; the heartbeat goes on.
      this.#quiet.log("pairings-unreadable", (extra) => this.#options.log.warn("daemon: the pairing file cannot be read", { error, ...extra }));
    }
  }

  /** A browser socket whose approval went away (revoked, or replaced by a new pairing) loses it and its sessions at once. */
  #sweepPairings(): void {
    const { pairings, endSessions, log } = this.#options;
    for (const { client } of this.#open.values()) {
      if (client.kind !== "browser" || client.approvalId === undefined) continue;
      if (pairings.current(client.origin!, client.approvalId) !== undefined) continue;
      client.approvalId = undefined;
      endSessions(client.id);
      client.notify("pairing.revoked", { origin: client.origin });
      log.info("pairing ended for a connected page", { client: client.id, origin: client.origin });
    }
  }
}
