/**
 * The operator console's login, the way Jupyter does it: the daemon keeps a single-use launch
 * token in a 0600 file of the data directory (`console-launch.json`), which only the user who runs
 * the daemon can read; `otpbridge console` prints the URL in it. Opening that URL exchanges the
 * token for a session cookie (HttpOnly, SameSite=Strict, named after the port because cookies
 * ignore ports), and every page served to that session carries a fresh CSRF value that the page's
 * WebSocket must send in its first message (a browser cannot add headers to a WebSocket).
 *
 * Tokens, sessions and CSRF values are 32 random bytes; only their SHA-256 is kept, so a lookup
 * takes the same time whatever prefix an attacker guessed.
 */
import { createHash, randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { consoleLaunchPath, type LaunchFile } from "../lib/daemon-paths.js";
import { writePrivateFileAtomic } from "../store/private-files.js";

/** A launch URL works once, within this long of being written (about a minute, as Jupyter's). */
export const LAUNCH_TTL_MS = 60_000;
/** A console session lasts a working day; the daemon's restart ends it earlier. */
const SESSION_TTL_MS = 12 * 3_600_000;
/** CSRF values kept per session: one per page load, the oldest dropped first. */
const CSRF_PER_SESSION = 32;

interface ConsoleSession {
  expiresAt: number;
  csrf: string[];
}

const digest = (value: string): string => createHash("sha256").update(value).digest("base64url");
const fresh = (): string => randomBytes(32).toString("base64url");

/** The console's launch tokens and sessions, in memory: a daemon restart logs every page out. */
export class ConsoleLogin {
  readonly cookieName: string;
  readonly #path: string;
  readonly #port: number;
  readonly #ttlMs: number;
  readonly #launch = new Map<string, number>();
  readonly #sessions = new Map<string, ConsoleSession>();
  #timer: NodeJS.Timeout | undefined;

  /** Writes the first launch token; a new one follows every half TTL, and after each use. */
  constructor(dataDir: string, port: number, ttlMs = LAUNCH_TTL_MS) {
    this.#path = consoleLaunchPath(dataDir);
    this.#port = port;
    this.#ttlMs = ttlMs;
    this.cookieName = `otpbridge-console-${port}`;
    this.#rotate();
  }

  /** Stops rotating and removes the launch file (no URL outlives its daemon). */
  close(): void {
    clearTimeout(this.#timer);
    rmSync(this.#path, { force: true });
  }

  /**
   * Exchanges a launch token for a new session id (the cookie's value), or undefined when the
   * token is unknown, used or expired. A used token is gone at once and a new one written.
   */
  exchange(token: string, now = Date.now()): string | undefined {
    const key = digest(token);
    const expiresAt = this.#launch.get(key);
    if (expiresAt === undefined) return undefined;
    this.#launch.delete(key);
    this.#rotate();
    if (expiresAt <= now) return undefined;
    const session = fresh();
    this.#sessions.set(digest(session), { expiresAt: now + SESSION_TTL_MS, csrf: [] });
    return session;
  }

  /** The `Set-Cookie` value for a session id. No `Secure`: the daemon speaks plain http on loopback. */
  setCookie(session: string): string {
    return `${this.cookieName}=${session}; Path=/; HttpOnly; SameSite=Strict`;
  }

  /** The session key (digest) named by this request's cookie header, if it is live. */
  sessionOf(cookieHeader: string | undefined, now = Date.now()): string | undefined {
    for (const part of (cookieHeader ?? "").split(";")) {
      const at = part.indexOf("=");
      if (at < 0 || part.slice(0, at).trim() !== this.cookieName) continue;
      const key = digest(part.slice(at + 1).trim());
      const session = this.#sessions.get(key);
      if (session === undefined) continue;
      if (session.expiresAt > now) return key;
      this.#sessions.delete(key);
    }
    return undefined;
  }

  /** A new CSRF value for one page of the session (`sessionOf`'s key). */
  newCsrf(sessionKey: string): string {
    const session = this.#sessions.get(sessionKey);
    if (session === undefined) throw new Error("newCsrf: no such session");
    const value = fresh();
    session.csrf.push(digest(value));
    if (session.csrf.length > CSRF_PER_SESSION) session.csrf.shift();
    return value;
  }

  /** True when `value` is one of the session's CSRF values. */
  csrfMatches(sessionKey: string, value: unknown): boolean {
    if (typeof value !== "string" || value.length > 100) return false;
    return this.#sessions.get(sessionKey)?.csrf.includes(digest(value)) ?? false;
  }

  /** Drops expired tokens, adds a new one and writes it to the launch file. */
  #rotate(now = Date.now()): void {
    clearTimeout(this.#timer);
    for (const [key, expiresAt] of this.#launch) if (expiresAt <= now) this.#launch.delete(key);
    const token = fresh();
    const expiresAt = now + this.#ttlMs;
    this.#launch.set(digest(token), expiresAt);
    const file: LaunchFile = { port: this.#port, url: `http://127.0.0.1:${this.#port}/login?token=${token}`, expiresAt };
    writePrivateFileAtomic(this.#path, Buffer.from(`${JSON.stringify(file)}\n`));
    // Every URL the file shows has at least half the TTL left.
    this.#timer = setTimeout(() => this.#rotate(), this.#ttlMs / 2).unref();
  }
}
