/**
 * Pending browser pairings, in the daemon's memory only: a request costs no disk write, ends with
 * the socket that made it, and is capped per origin, so one page (or one origin forged by a local
 * process) can neither stall the daemon with writes nor take the slots of other origins. When the
 * user approves a code, the approval's secret goes to the socket that asked, and nowhere else.
 */
import { randomInt } from "node:crypto";
import { otpbError } from "../lib/errors.js";
import type { ApprovedOrigin, Capability, PairingStore } from "./auth.js";

/** A pending pairing lives this long: long enough to type the code, short enough not to pile up. */
export const PAIRING_TTL_MS = 10 * 60_000;
/** No 0/O/1/I/L: the code is read off a screen and typed. */
const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";

export interface PairingLimits {
  /** Pending pairings of one origin at most (one per socket). */
  perOrigin: number;
  /** Pending pairings of all origins at most. */
  total: number;
}

export const DEFAULT_PAIRING_LIMITS: PairingLimits = { perOrigin: 4, total: 256 };

export interface PendingPairing {
  code: string;
  origin: string;
  capabilities: Capability[];
  client: string;
  createdAt: number;
}

/** Hands the approval and its secret to the socket that asked. */
export type GrantPairing = (approval: ApprovedOrigin, secret: string) => void;

/** Normalises a typed code: case, spaces and dashes do not matter. */
function normaliseCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, "");
}

export class PairingRequests {
  readonly #store: PairingStore;
  readonly #limits: PairingLimits;
  /** client id → its one pending pairing. */
  readonly #byClient = new Map<string, PendingPairing & { grant: GrantPairing }>();

  constructor(store: PairingStore, limits: PairingLimits = DEFAULT_PAIRING_LIMITS) {
    this.#store = store;
    this.#limits = limits;
  }

  /**
   * Records the pending pairing of socket `client` (replacing its earlier one) and returns it with
   * its code (8 characters from a 31-letter alphabet, about 40 bits: not guessable).
   * @throws OtpbridgeError RATE_LIMITED when this origin, or all origins together, have too many pending.
   */
  request(client: string, origin: string, capabilities: Capability[], grant: GrantPairing, now = Date.now()): PendingPairing {
    this.#expire(now);
    this.#byClient.delete(client);
    const ofOrigin = [...this.#byClient.values()].filter((p) => p.origin === origin).length;
    if (ofOrigin >= this.#limits.perOrigin) {
      throw otpbError("RATE_LIMITED", `this origin has ${ofOrigin} pairings pending already; close other tabs or wait`, {
        detail: { retryAfterMs: PAIRING_TTL_MS },
      });
    }
    if (this.#byClient.size >= this.#limits.total) {
      throw otpbError("RATE_LIMITED", "too many pairings are pending; approve or wait", { detail: { retryAfterMs: PAIRING_TTL_MS } });
    }
    let code: string;
    do {
      code = "";
      for (let i = 0; i < 8; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
    } while (this.#find(code) !== undefined);
    const pending = { code, origin, capabilities, client, createdAt: now };
    this.#byClient.set(client, { ...pending, grant });
    return pending;
  }

  /** Ends the pending pairing of a socket that closed. */
  drop(client: string): void {
    this.#byClient.delete(client);
  }

  /** The pending pairings that have not expired. */
  list(now = Date.now()): PendingPairing[] {
    this.#expire(now);
    return [...this.#byClient.values()].map(({ grant: _grant, ...pending }) => pending);
  }

  /**
   * The pending pairing of `code`, for the user to look at before approving.
   * @throws OtpbridgeError PAIRING_NOT_FOUND (unknown or expired code, or its page has gone).
   */
  lookup(code: string, now = Date.now()): PendingPairing {
    this.#expire(now);
    const found = this.#find(normaliseCode(code));
    if (found === undefined) throw otpbError("PAIRING_NOT_FOUND", "no pending pairing with that code (expired, already used, or its page was closed?)");
    const { grant: _grant, ...pending } = found;
    return pending;
  }

  /**
   * Approves the pending pairing of `code`, optionally with fewer capabilities than asked, and hands
   * the secret to the socket that asked.
   * @throws OtpbridgeError PAIRING_NOT_FOUND; INVALID_INPUT when `capabilities` asks for more than the page did.
   */
  approve(code: string, capabilities?: Capability[], now = Date.now()): ApprovedOrigin {
    const pending = this.lookup(code, now);
    const granted = capabilities ?? pending.capabilities;
    if (granted.some((c) => !pending.capabilities.includes(c))) {
      throw otpbError("INVALID_INPUT", `capabilities may only narrow what the page asked for (${pending.capabilities.join(", ")})`);
    }
    const entry = this.#byClient.get(pending.client)!;
    this.#byClient.delete(pending.client);
    const { approval, secret } = this.#store.approve(pending.origin, granted, now);
    entry.grant(approval, secret);
    return approval;
  }

  #find(code: string): (PendingPairing & { grant: GrantPairing }) | undefined {
    return [...this.#byClient.values()].find((p) => p.code === code);
  }

  #expire(now: number): void {
    for (const [client, pending] of this.#byClient) if (now - pending.createdAt >= PAIRING_TTL_MS) this.#byClient.delete(client);
  }
}
