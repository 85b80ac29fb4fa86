/**
 * Token proof for native clients over TCP (docs/API.md "Native clients over TCP"). A process that
 * binds the daemon's port first (or after the daemon exits) must not collect the token, so the
 * token never crosses the wire: the daemon proves first that it knows the token, then the client
 * does, each with an HMAC-SHA256 under the token over both nonces and the TCP connection's two
 * endpoints. A squatter that relays the exchange to the real daemon holds two different connections
 * (other ports, other addresses), so the proofs it could forward do not fit either of them.
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export interface Endpoint {
  address: string;
  port: number;
}

/** The connection as both ends name it: client endpoint, then daemon endpoint. */
export function channelName(client: Endpoint, daemon: Endpoint): string {
  const name = (e: Endpoint): string => (e.address.includes(":") ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`);
  return `${name(client)}>${name(daemon)}`;
}

/** The HMAC a side sends: `side` is "daemon" or "client"; nonces are base64url text. */
export function proofOf(token: string, side: "daemon" | "client", clientNonce: string, daemonNonce: string, channel: string): string {
  return createHmac("sha256", token).update(`otpbridge-native-proof-v1\n${side}\n${clientNonce}\n${daemonNonce}\n${channel}`).digest("base64url");
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The daemon's side of one socket's proof: one challenge and one answer per socket. */
export class NativeChallenge {
  readonly #token: string;
  readonly #channel: string;
  #clientNonce: string | undefined;
  #daemonNonce: string | undefined;
  #state: "open" | "challenged" | "proven" | "failed" = "open";

  constructor(token: string, channel: string) {
    this.#token = token;
    this.#channel = channel;
  }

  get proven(): boolean {
    return this.#state === "proven";
  }

  get state(): "open" | "challenged" | "proven" | "failed" {
    return this.#state;
  }

  /** Answers the client's nonce with the daemon's nonce and proof; once per socket. */
  challenge(clientNonce: string): { nonce: string; proof: string } | undefined {
    if (this.#state !== "open") return undefined;
    this.#clientNonce = clientNonce;
    this.#daemonNonce = randomBytes(32).toString("base64url");
    this.#state = "challenged";
    return { nonce: this.#daemonNonce, proof: proofOf(this.#token, "daemon", clientNonce, this.#daemonNonce, this.#channel) };
  }

  /** Checks the client's proof; a wrong one fails the socket for good. */
  prove(proof: string): boolean {
    if (this.#state !== "challenged") return false;
    const ok = same(proof, proofOf(this.#token, "client", this.#clientNonce!, this.#daemonNonce!, this.#channel));
    this.#state = ok ? "proven" : "failed";
    return ok;
  }
}
