/**
 * Who may talk to the daemon (docs/API.md "Security"): the Host and Origin policy checked at the
 * HTTP upgrade, the native clients' token (a 0600 file in the data directory), and the store of
 * approved browser origins (a 0600 JSON file, replaced atomically; the daemon re-reads it when it
 * changes, so an edit made while it runs takes effect on the next call).
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { otpbError } from "../lib/errors.js";
import { assertPrivateFile, createPrivateFile, ensurePrivateDir, writePrivateFileAtomic } from "../store/private-files.js";

export const CAPABILITIES = ["read", "burn", "batch", "export"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export const TOKEN_FILE = "daemon.token";
export const PAIRINGS_FILE = "pairings.json";
/** Longest Origin accepted: a scheme, a 253-character host name and a port fit. */
export const MAX_ORIGIN_LENGTH = 280;

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
 * `null`, wildcards, absurd lengths, anything with a path or credentials, and plain http except on loopback pages.
 */
export function pairableOrigin(origin: string): string | null {
  if (origin.length > MAX_ORIGIN_LENGTH || origin === "null" || origin.includes("*")) return null;
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
  if (!existsSync(path)) createPrivateFile(path, Buffer.from(`${randomBytes(32).toString("base64url")}\n`));
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

/**
 * An origin the user approved. The page proves it is the approved page by presenting the pairing
 * secret the daemon handed its socket at approval; the file keeps only the secret's SHA-256, so a
 * reader of the file learns nothing a page could present. `id` names this approval: a socket paired
 * under it stays paired only while the approval stands (a revocation or a new pairing ends it).
 */
export interface ApprovedOrigin {
  origin: string;
  capabilities: Capability[];
  approvedAt: number;
  id: string;
  secretSha256: string;
}

interface PairingFile {
  version: 2;
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

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/**
 * The approved origins (pending requests live in the daemon's memory: {@link PairingRequests}).
 * The file is the truth: the daemon re-reads it when its mtime, inode or size changes, and calls
 * the change listeners so that sockets whose approval went away lose it at once.
 */
export class PairingStore {
  readonly path: string;
  #cache: PairingFile = { version: 2, approved: [] };
  /** mtime, inode and size of the file last read: an atomic replace always changes the inode. */
  #stamp = "";
  readonly #listeners: Array<() => void> = [];

  /** @throws OtpbridgeError DATA_DIR_PERMISSIONS. */
  constructor(dataDir: string) {
    ensurePrivateDir(dataDir);
    this.path = join(dataDir, PAIRINGS_FILE);
  }

  /** Calls `listener` after every change of the approvals (written here or read from a newer file). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** The approvals. */
  list(): ApprovedOrigin[] {
    return this.#read().approved;
  }

  /** The approval of `origin` whose id is `id`, if it still stands. */
  current(origin: string, id: string): ApprovedOrigin | undefined {
    return this.#read().approved.find((a) => a.origin === origin && a.id === id);
  }

  /** The approval of `origin` that `secret` proves, or undefined (constant time in the secret). */
  verify(origin: string, secret: string): ApprovedOrigin | undefined {
    const approval = this.#read().approved.find((a) => a.origin === origin);
    if (approval === undefined) return undefined;
    const a = Buffer.from(sha256(secret), "hex");
    const b = Buffer.from(approval.secretSha256, "hex");
    return a.length === b.length && timingSafeEqual(a, b) ? approval : undefined;
  }

  /**
   * Approves `origin` with `capabilities`, replacing an earlier approval of it (whose pages must
   * pair again), and returns the approval with its secret, which is not kept anywhere.
   */
  approve(origin: string, capabilities: Capability[], now = Date.now()): { approval: ApprovedOrigin; secret: string } {
    const secret = randomBytes(32).toString("base64url");
    const approval: ApprovedOrigin = { origin, capabilities, approvedAt: now, id: randomBytes(9).toString("base64url"), secretSha256: sha256(secret) };
    this.#update((file) => {
      file.approved = [...file.approved.filter((a) => a.origin !== origin), approval];
    });
    return { approval, secret };
  }

  /**
   * Revokes an approved origin.
   * @throws OtpbridgeError PAIRING_NOT_FOUND if it was not approved.
   */
  revoke(origin: string): void {
    this.#update((file) => {
      const before = file.approved.length;
      file.approved = file.approved.filter((a) => a.origin !== origin);
      if (file.approved.length === before) throw otpbError("PAIRING_NOT_FOUND", "that origin is not paired (otpbridge pair list shows the paired ones)");
    });
  }

  #read(): PairingFile {
    let stamp: string;
    try {
      const st = statSync(this.path);
      stamp = `${st.mtimeMs}:${st.ino}:${st.size}`;
    } catch {
      stamp = "absent";
    }
    if (stamp !== this.#stamp) {
      if (stamp === "absent") this.#cache = { version: 2, approved: [] };
      else {
        assertPrivateFile(this.path, "pairing file", "DATA_DIR_PERMISSIONS");
        const parsed = JSON.parse(readFileSync(this.path, "utf8")) as Partial<PairingFile>;
        // Approvals from before pairing secrets (file version 1) prove nothing: those pages pair again.
        const approved = (parsed.approved ?? []).filter((a) => typeof a.secretSha256 === "string" && typeof a.id === "string");
        this.#cache = { version: 2, approved };
      }
      const first = this.#stamp === "";
      this.#stamp = stamp;
      if (!first) for (const listener of this.#listeners) listener();
    }
    return this.#cache;
  }

  #update(change: (file: PairingFile) => void): void {
    this.#stamp = "";
    const file = structuredClone(this.#read());
    change(file);
    writePrivateFileAtomic(this.path, Buffer.from(`${JSON.stringify(file, null, 2)}\n`));
    this.#cache = file;
    const st = statSync(this.path);
    this.#stamp = `${st.mtimeMs}:${st.ino}:${st.size}`;
    for (const listener of this.#listeners) listener();
  }
}
