/** `hello` (always the first call) and `pairing.request` (a browser page asks the user for access). */
import { otpbError } from "../../lib/errors.js";
import { PAIRING_TTL_MS, parseCapabilities } from "../auth.js";
import { API_VERSION, type MethodTable } from "../rpc.js";
import { int, objectParams, optionalText } from "./_params.js";
import type { DaemonServices } from "./_services.js";

/** @returns the `hello` and `pairing.*` methods. */
export function sessionMethods(s: DaemonServices): MethodTable {
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
        client.helloDone = true;
        s.log.info("hello", { client: client.id, ...(name !== undefined ? { name } : {}) });
        return {
          apiVersion: API_VERSION,
          server: { name: "otpbridge", version: s.version },
          client: { kind: client.kind, ...(client.origin !== undefined ? { origin: client.origin } : {}) },
          paired: client.paired(),
          capabilities: [...client.capabilities()],
        };
      },
    },
    "pairing.request": {
      capability: null,
      handler: (raw, client) => {
        if (client.kind !== "browser" || client.origin === undefined) throw otpbError("INVALID_INPUT", "native clients use the bearer token; pairing is for browser origins");
        const params = objectParams(raw);
        const capabilities = parseCapabilities(params.capabilities ?? ["read"]);
        const pending = s.pairings.request(client.origin, capabilities, client.id);
        s.log.info("pairing requested", { origin: client.origin, capabilities, client: client.id });
        return { code: pending.code, origin: pending.origin, capabilities, expiresAt: pending.createdAt + PAIRING_TTL_MS, approveWith: `otpbridge pair approve ${pending.code}` };
      },
    },
  };
}

