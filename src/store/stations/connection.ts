/**
 * Connections to the shared store. node-postgres pitfalls handled here: a pooled client that errors
 * while idle emits `error` on the Pool, which crashes the process unless someone listens; a query
 * against a server that went silent waits forever unless it has a timeout. TLS comes either from the
 * connection string (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`, as libpq reads them) or from
 * {@link StoreConnectOptions.tls}, which wins.
 */
import type pg from "pg";
import type { ConnectionOptions } from "node:tls";
import { otpbError, OtpbridgeError } from "../../lib/errors.js";

export interface StoreConnectOptions {
  /** `postgres://` or `postgresql://` connection string. Never logged: it may hold a password. */
  url: string;
  /** TLS settings (CA, client certificate, servername); overrides what the URL says. */
  tls?: ConnectionOptions;
  /** Pool size; default 8 (one per reader of a busy station, and the heartbeat and status reads). */
  maxConnections?: number;
  /** How long a connection attempt or a query may take before the store counts as unreachable. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5_000;

/** SQLSTATE classes and codes that mean "the server is not there", not "the request was wrong". */
const UNAVAILABLE_SQLSTATES = ["57P01", "57P02", "57P03", "53300"];
const UNAVAILABLE_ERRNOS = ["ECONNREFUSED", "ECONNRESET", "ENOENT", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"];
const UNAVAILABLE_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Query read timeout/i,
  /Client has encountered a connection error/i,
  /Connection ended unexpectedly/i,
  /terminating connection/i,
  /the database system is (starting up|shutting down)/i,
];

/** Pool settings from the options; the caller attaches the error handler. */
export function poolConfig(options: StoreConnectOptions, applicationName: string): pg.PoolConfig {
  if (typeof options.url !== "string" || !/^postgres(ql)?:\/\//.test(options.url)) {
    throw Object.assign(new TypeError("store must be a postgres:// or postgresql:// connection string"), {
      reason: "INVALID_INPUT" as const,
    });
  }
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const config: pg.PoolConfig = {
    connectionString: options.url,
    max: options.maxConnections ?? 8,
    connectionTimeoutMillis: timeout,
    query_timeout: timeout,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: applicationName,
  };
  if (options.tls !== undefined) config.ssl = options.tls;
  return config;
}

/** True when `error` says the server is unreachable or went away (as opposed to a refused request). */
export function isUnavailable(error: unknown): boolean {
  if (error instanceof OtpbridgeError) return error.reason === "STORE_UNAVAILABLE";
  const { code, message } = error as { code?: string; message?: string };
  if (typeof code === "string" && (code.startsWith("08") || UNAVAILABLE_SQLSTATES.includes(code))) return true;
  if (typeof code === "string" && UNAVAILABLE_ERRNOS.includes(code)) return true;
  return typeof message === "string" && UNAVAILABLE_MESSAGES.some((re) => re.test(message));
}

/** Turns a connection-level failure into STORE_UNAVAILABLE; anything else passes through. */
export function storeError(error: unknown, action: string): unknown {
  if (error instanceof OtpbridgeError || !isUnavailable(error)) return error;
  return otpbError("STORE_UNAVAILABLE", `the shared store did not answer while trying to ${action}`, {
    detail: { action, code: (error as { code?: string }).code ?? null },
    cause: error,
  });
}
