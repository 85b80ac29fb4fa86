/**
 * Who is asking to connect, decided once per upgrade request ({@link classifyConnection}), and
 * whether there is room for it ({@link SocketPool}). Adding a kind of client means a branch here and
 * its context in server.ts.
 *
 * - The Unix socket: a native client of the daemon's own user (the 0700 data directory lets no one
 *   else reach it), with every capability and no token.
 * - TCP with the daemon's own address as Origin: the operator console, which must hold the session
 *   cookie of a console login (docs/CONSOLE.md); its CSRF value comes in its first message.
 * - TCP with any other Origin header: a browser page of that origin, which pairs (docs/API.md
 *   "Pairing"); a cookie it may carry counts for nothing.
 * - TCP without one: a native client, which proves the token: `Authorization: OtpbridgeProof`
 *   announces the challenge-response (the token never crosses the wire), `Authorization: Bearer`
 *   sends it plainly (documented risk: a process squatting the port collects it).
 */
import type { IncomingMessage } from "node:http";
import type { Reason } from "../lib/errors.js";
import { bearerMatches, isLoopbackHost, pairableOrigin } from "./auth.js";
import { isOwnOrigin } from "./console-http.js";

export type Via = "tcp" | "unix";

export type Connection =
  | { kind: "native"; via: Via; proof: "socket" | "bearer" | "challenge" }
  | { kind: "browser"; via: "tcp"; origin: string }
  | { kind: "console"; via: "tcp"; origin: string; session: string };

/** What the classification needs to know of the console: the TCP port and its login sessions. */
export interface ConsoleGate {
  port: number;
  /** The console session a Cookie header holds, if any. */
  sessionOf(cookie: string | undefined): string | undefined;
}

export interface Refusal {
  status: 401 | 403;
  reason: Reason;
  message: string;
  /** What the log line says about the request (truncated: header values are the client's). */
  logFields: Record<string, string>;
}

/** The `Authorization` value that asks for the token challenge-response instead of a bearer token. */
export const PROOF_SCHEME = "OtpbridgeProof";

/** Classifies an upgrade request, or says why it is refused. */
export function classifyConnection(req: IncomingMessage, via: Via, token: string, console?: ConsoleGate): Connection | { refused: Refusal } {
  // A browser cannot reach a Unix socket; whatever its headers say, the peer is the daemon's user.
  if (via === "unix") return { kind: "native", via, proof: "socket" };
  if (!isLoopbackHost(req.headers.host)) {
    return {
      refused: {
        status: 403,
        reason: "FORBIDDEN_HOST",
        message: "the Host header must be a loopback name",
        logFields: { host: String(req.headers.host).slice(0, 100) },
      },
    };
  }
  const rawOrigin = req.headers.origin;
  if (rawOrigin !== undefined && console !== undefined && isOwnOrigin(rawOrigin, req.headers.host, console.port)) {
    const session = console.sessionOf(req.headers.cookie);
    if (session !== undefined) return { kind: "console", via, origin: rawOrigin.toLowerCase(), session };
    return { refused: { status: 401, reason: "UNAUTHORIZED", message: "the console needs a login: run otpbridge console", logFields: {} } };
  }
  if (rawOrigin !== undefined) {
    const origin = pairableOrigin(rawOrigin);
    if (origin === null) {
      return {
        refused: {
          status: 403,
          reason: "FORBIDDEN_ORIGIN",
          message: "this Origin can never be paired (null, wildcard, not https, too long)",
          logFields: { origin: rawOrigin.slice(0, 100) },
        },
      };
    }
    return { kind: "browser", via, origin };
  }
  const authorization = req.headers.authorization;
  if (authorization === PROOF_SCHEME) return { kind: "native", via, proof: "challenge" };
  if (bearerMatches(authorization, token)) return { kind: "native", via, proof: "bearer" };
  return {
    refused: {
      status: 401,
      reason: "UNAUTHORIZED",
      logFields: {},
      message: `native clients connect to the daemon's Unix socket, or send Authorization: ${PROOF_SCHEME} and prove the token (docs/API.md)`,
    },
  };
}

export interface SocketLimits {
  /** Open sockets at most, per listener kind (TCP; the Unix socket has its own count). */
  maxSockets: number;
  /** TCP sockets kept for native clients: browser pages get at most maxSockets minus this. */
  nativeReserve: number;
  /** Open sockets of one browser origin at most. */
  perOrigin: number;
}

/** Counts open sockets by where they came from, so no kind of client can take the room of another. */
export class SocketPool {
  readonly #limits: SocketLimits;
  #unix = 0;
  #tcp = 0;
  #browsers = 0;
  /** TCP natives that have not proved the token yet. */
  #unproven = 0;
  readonly #byOrigin = new Map<string, number>();

  constructor(limits: SocketLimits) {
    this.#limits = limits;
  }

  /** The limit `connection` would exceed, or undefined when there is room. */
  admit(connection: Connection): string | undefined {
    const { maxSockets, nativeReserve, perOrigin } = this.#limits;
    if (connection.via === "unix") return this.#unix >= maxSockets ? "local socket" : undefined;
    if (this.#tcp >= maxSockets) return "all sockets";
    if (connection.kind === "browser") {
      if (this.#browsers >= Math.max(1, maxSockets - nativeReserve)) return "browser sockets";
      if ((this.#byOrigin.get(connection.origin) ?? 0) >= perOrigin) return "sockets of this origin";
    } else if (connection.kind === "native" && connection.proof === "challenge" && this.#unproven >= perOrigin) return "native sockets proving the token";
    return undefined;
  }

  /**
   * Counts `connection` in. `release` counts it out (once, when the socket closes); `proved` moves a
   * TCP native that proved the token out of the count of those still proving.
   */
  take(connection: Connection): { release: () => void; proved: () => void } {
    let proving = connection.kind === "native" && connection.proof === "challenge";
    const delta = (d: number): void => {
      if (connection.via === "unix") {
        this.#unix += d;
        return;
      }
      this.#tcp += d;
      if (connection.kind === "browser") {
        this.#browsers += d;
        const n = (this.#byOrigin.get(connection.origin) ?? 0) + d;
        if (n > 0) this.#byOrigin.set(connection.origin, n);
        else this.#byOrigin.delete(connection.origin);
      } else if (proving) this.#unproven += d;
    };
    delta(1);
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        delta(-1);
      },
      proved: () => {
        if (!proving || released) return;
        proving = false;
        this.#unproven--;
      },
    };
  }
}
