/**
 * Who may talk to the daemon (DESIGN.md "Security"): the Host and Origin policy checked at the
 * HTTP upgrade, the native clients' bearer token (a 0600 file in the data directory), and the
 * pairing store of approved browser origins (a 0600 JSON file, replaced atomically, shared with
 * the `otpbridge pair` command: the daemon re-reads it when its mtime changes, so an approval or
 * a revocation made from the CLI takes effect on the next call).
 */
import { randomBytes, randomInt, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { otpbError } from "../lib/errors.js";
import { assertPrivateFile, createPrivateFile, ensurePrivateDir, writePrivateFileAtomic } from "../store/private-files.js";

export const CAPABILITIES = ["read", "burn", "batch", "export"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const TOKEN_FILE = "daemon.token";
export const PAIRINGS_FILE = "pairings.json";
/** A pending pairing lives this long: long enough to type the code, short enough not to pile up. */
export const PAIRING_TTL_MS = 10 * 60_000;
/** At most this many pending pairings (a page cannot fill the file). */
const MAX_PENDING = 32;
/** No 0/O/1/I/L: the code is read off a screen and typed. */
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/**
 * True for the names a loopback server can be reached by. A page of another site that makes its
 * own name resolve to 127.0.0.1 (DNS rebinding) still sends its own name as Host: refused.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const m = /^(\[::1\]|localhost|127\.0\.0\.1)(:\d{1,5})?$/i.exec(host);
  return m !== null;
}

/**
 * The normalised origin a browser may pair from, or null when the Origin is never accepted:
 * `null`, wildcards, anything with a path or credentials, and plain http except on loopback pages.
 */
export function pairableOrigin(origin: string): string | null {
  if (origin === "null" || origin.includes("*")) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  if (url.origin !== origin.replace(/\/$/, "") || url.username !== "" || url.password !== "") return null;
  if (url.protocol === "https:") return url.origin;
  if (url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) return url.origin;
  return null;
}

/**
 * Reads the bearer token, creating it (32 random bytes, base64url, 0600) on first start.
 * @throws OtpbridgeError KEY_FILE_PERMISSIONS if the file is open to group or others; DATA_DIR_PERMISSIONS.
 */
export function loadOrCreateToken(dataDir: string): string {
  ensurePrivateDir(dataDir);
  const path = join(dataDir, TOKEN_FILE);
  if (!existsSync(path)) createPrivateFile(path, Buffer.from(randomBytes(32).toString("base64url") + "\n"));
  assertPrivateFile(path, "daemon token file", "KEY_FILE_PERMISSIONS");
  return readFileSync(path, "utf8").trim();
}

/** Constant-time comparison of a presented `Authorization: Bearer` header with the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const presented = /^Bearer ([A-Za-z0-9_-]{16,128})$/.exec(header ?? "")?.[1];
  if (presented === undefined) return false;
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface PendingPairing {
  code: string;
  origin: string;
  capabilities: Capability[];
  client: string;
  createdAt: number;
}

export interface ApprovedOrigin {
  origin: string;
  capabilities: Capability[];
  approvedAt: number;
}

interface PairingFile {
  version: 1;
  pending: PendingPairing[];
  approved: ApprovedOrigin[];
}

/**
 * Checks a capability list from a client or the command line.
 * @throws OtpbridgeError INVALID_INPUT for anything but a non-empty list of known capabilities.
 */
export function parseCapabilities(value: unknown): Capability[] {
  if (!Array.isArray(value) || value.length === 0 || value.some((c) => !(CAPABILITIES as readonly unknown[]).includes(c))) {
    throw otpbError("INVALID_INPUT", `capabilities must be a non-empty list of ${CAPABILITIES.join(", ")}`);
  }
  return CAPABILITIES.filter((c) => value.includes(c));
}

/** The pairing store; one instance per process, the file is the truth. */
export class PairingStore {
  readonly path: string;
  #cache: PairingFile = { version: 1, pending: [], approved: [] };
  /** mtime, inode and size of the file last read: an atomic replace always changes the inode. */
  #stamp = "";

  /** @throws OtpbridgeError DATA_DIR_PERMISSIONS. */
  constructor(dataDir: string) {
    ensurePrivateDir(dataDir);
    this.path = join(dataDir, PAIRINGS_FILE);
  }

  /** The approval of `origin`, or undefined. */
  approved(origin: string): ApprovedOrigin | undefined {
    return this.#read().approved.find((a) => a.origin === origin);
  }

  /** Pending pairings that have not expired, and approved origins. */
  list(now = Date.now()): { pending: PendingPairing[]; approved: ApprovedOrigin[] } {
    const file = this.#read();
    return { pending: file.pending.filter((p) => now - p.createdAt < PAIRING_TTL_MS), approved: file.approved };
  }

  /**
   * Records a pending pairing for `origin` and returns its short code (8 characters from a
   * 31-letter alphabet, about 40 bits: not guessable within the rate limit).
   * @throws OtpbridgeError RATE_LIMITED when too many pairings are pending.
   */
  request(origin: string, capabilities: Capability[], client: string, now = Date.now()): PendingPairing {
    return this.#update((file) => {
      file.pending = file.pending.filter((p) => now - p.createdAt < PAIRING_TTL_MS && p.client !== client);
      if (file.pending.length >= MAX_PENDING) throw otpbError("RATE_LIMITED", "too many pairings are pending; approve or wait", { detail: { retryAfterMs: PAIRING_TTL_MS } });
      let code = "";
      for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
      const pending: PendingPairing = { code, origin, capabilities, client, createdAt: now };
      file.pending.push(pending);
      return pending;
    });
  }

  /**
   * Approves a pending pairing by its code, optionally with fewer capabilities than asked.
   * @throws OtpbridgeError PAIRING_NOT_FOUND (unknown or expired code).
   */
  approve(code: string, capabilities?: Capability[], now = Date.now()): ApprovedOrigin {
    return this.#update((file) => {
      const wanted = code.toUpperCase().replace(/[\s-]/g, "");
      const pending = file.pending.find((p) => p.code === wanted && now - p.createdAt < PAIRING_TTL_MS);
      if (pending === undefined) throw otpbError("PAIRING_NOT_FOUND", "no pending pairing with that code (expired or already used?)");
      const approved: ApprovedOrigin = { origin: pending.origin, capabilities: capabilities ?? pending.capabilities, approvedAt: now };
      file.pending = file.pending.filter((p) => p !== pending && p.origin !== pending.origin);
      file.approved = [...file.approved.filter((a) => a.origin !== approved.origin), approved];
      return approved;
    });
  }

  /**
   * Revokes an approved origin.
   * @throws OtpbridgeError PAIRING_NOT_FOUND if it was not approved.
   */
  revoke(origin: string): void {
    this.#update((file) => {
      const before = file.approved.length;
      file.approved = file.approved.filter((a) => a.origin !== origin);
      if (file.approved.length === before) throw otpbError("PAIRING_NOT_FOUND", `origin ${JSON.stringify(origin)} is not paired`);
    });
  }

  #read(): PairingFile {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.ino}:${st.size}`;
    } catch {
      return this.#cache;
    }
    if (stamp !== this.#stamp) {
      assertPrivateFile(this.path, "pairing file", "DATA_DIR_PERMISSIONS");
      const parsed = JSON.parse(readFileSync(this.path, "utf8")) as PairingFile;
      this.#cache = { version: 1, pending: parsed.pending ?? [], approved: parsed.approved ?? [] };
      this.#stamp = stamp;
    }
    return this.#cache;
  }

  #update<T>(change: (file: PairingFile) => T): T {
    this.#stamp = "";
    const file = structuredClone(this.#read());
    const result = change(file);
    writePrivateFileAtomic(this.path, Buffer.from(JSON.stringify(file, null, 2) + "\n"));
    this.#stamp = "";
    return result;
  }
}
