/**
 * `hello` (always the first call), the token proof of native clients over TCP (`auth.*`), and
 * pairing: a browser page asks (`pairing.request`), the daemon's own user looks and approves
 * (`pairing.list`, `pairing.approve`, `pairing.revoke`: native clients only).
 */
import { otpbError } from "../../lib/errors.js";
import { parseCapabilities } from "../auth.js";
import { LogThrottle } from "../log-throttle.js";
import { PAIRING_TTL_MS } from "../pairing-requests.js";
import { API_VERSION, type ClientContext, type MethodTable } from "../rpc.js";
import { int, objectParams, optionalText, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";

/** A nonce or proof: base64url of 32 bytes. */
function base64url(params: Record<string, unknown>, name: string): string {
  const value = params[name];
  if (typeof value !== "string" || !/^[A-Za-z0-9_-]{43}$/.test(value)) {
    throw otpbError("INVALID_INPUT", `${name} must be 32 bytes in base64url (43 characters)`, { detail: { param: name } });
  }
  return value;
}

function challengeOf(client: ClientContext): NonNullable<ClientContext["challenge"]> {
  if (client.challenge === undefined) throw otpbError("INVALID_INPUT", "this connection has nothing to prove (Unix socket, bearer token, or a page)");
  return client.challenge;
}

/** @returns the `hello`, `auth.*` and `pairing.*` methods. */
export function sessionMethods(s: DaemonServices): MethodTable {
  // A page may ask again and again: its requests are logged once a minute per origin.
  const quiet = new LogThrottle();
  return {
    hello: {
      capability: null,
      handler: (raw, client) => {
        const params = objectParams(raw);
        const wanted = int(params, "apiVersion", 1, 1_000);
        if (wanted !== API_VERSION) {
          throw otpbError("HELLO_REQUIRED", `this daemon speaks apiVersion ${API_VERSION}`, { detail: { supported: [API_VERSION] } });
        }
        const name = optionalText(params, "client", 64);
        const secret = optionalText(params, "pairing", 64);
        if (secret !== undefined && client.kind === "browser") {
          // A wrong or stale secret just leaves the page unpaired: it pairs again.
          client.approvalId = s.pairings.verify(client.origin!, secret)?.id;
        }
        client.helloDone = true;
        if (client.kind !== "browser") s.log.info("hello", { client: client.id, ...(name !== undefined ? { name } : {}) });
        return {
          apiVersion: API_VERSION,
          server: { name: "otpbridge", version: s.version },
          client: { kind: client.kind, ...(client.origin !== undefined ? { origin: client.origin } : {}) },
          paired: client.paired(),
          capabilities: [...client.capabilities()],
        };
      },
    },
    "auth.challenge": {
      capability: null,
      handler: (raw, client) => {
        const answer = challengeOf(client).challenge(base64url(objectParams(raw), "nonce"));
        if (answer === undefined) throw otpbError("UNAUTHORIZED", "one challenge per connection: open a new one");
        return answer;
      },
    },
    "auth.prove": {
      capability: null,
      handler: (raw, client) => {
        const challenge = challengeOf(client);
        const proof = base64url(objectParams(raw), "proof");
        if (!challenge.prove(proof)) {
          s.log.warn("native client: wrong token proof", { client: client.id });
          throw otpbError("UNAUTHORIZED", "the proof does not match the daemon's token (or auth.challenge was not called); the connection closes");
        }
        return { capabilities: [...client.capabilities()] };
      },
    },
    "pairing.request": {
      capability: null,
      handler: (raw, client) => {
        if (client.kind !== "browser" || client.origin === undefined)
          throw otpbError("INVALID_INPUT", "native clients are the daemon's own user; pairing is for browser origins");
        const params = objectParams(raw);
        const capabilities = parseCapabilities(params.capabilities ?? ["read"]);
        const pending = s.pairingRequests.request(client.id, client.origin, capabilities, (approval, secret) => {
          client.approvalId = approval.id;
          client.notify("pairing.approved", { origin: approval.origin, capabilities: approval.capabilities, secret });
        });
        quiet.log(client.origin, (extra) => s.log.info("pairing requested", { origin: client.origin, capabilities, ...extra }));
        return { code: pending.code, origin: pending.origin, capabilities, expiresAt: pending.createdAt + PAIRING_TTL_MS };
      },
    },
    "pairing.list": {
      capability: null,
      nativeOnly: true,
      handler: () => ({
        pending: s.pairingRequests
          .list()
          .map(({ code, origin, capabilities, createdAt }) => ({ code, origin, capabilities, createdAt, expiresAt: createdAt + PAIRING_TTL_MS })),
        approved: s.pairings.list().map(({ origin, capabilities, approvedAt }) => ({ origin, capabilities, approvedAt })),
      }),
    },
    "pairing.approve": {
      capability: null,
      nativeOnly: true,
      handler: (raw) => {
        const params = objectParams(raw);
        const code = text(params, "code", 32);
        const capabilities = params.capabilities === undefined ? undefined : parseCapabilities(params.capabilities);
        const approval = s.pairingRequests.approve(code, capabilities);
        s.log.info("pairing approved", { origin: approval.origin, capabilities: approval.capabilities });
        return { origin: approval.origin, capabilities: approval.capabilities };
      },
    },
    "pairing.revoke": {
      capability: null,
      nativeOnly: true,
      handler: (raw) => {
        const origin = text(objectParams(raw), "origin", 300);
        s.pairings.revoke(origin);
        s.log.info("pairing revoked", { origin });
        return { origin, revoked: true };
      },
    },
  };
}
