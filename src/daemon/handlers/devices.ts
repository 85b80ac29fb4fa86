/** `devices.list`, `device.acquire` (compare-and-swap) and `device.release`: decode, call the core, encode. */
import { RawJson, type MethodTable } from "../rpc.js";
import { objectParams, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";
import { otpbError } from "../../lib/errors.js";

/** @returns the `devices.*` and `device.*` methods. */
export function deviceMethods(s: DaemonServices): MethodTable {
  return {
    "devices.list": {
      capability: "read",
      handler: () => {
        const { status, simulated } = s.deviceLinks();
        return new RawJson(`{"devices":${s.core.devicesJson()},"status":${JSON.stringify(status)},"simulated":${JSON.stringify(simulated)}}`);
      },
    },
    "device.acquire": {
      capability: "read",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const previous = params.previous ?? null;
        if (previous !== null && typeof previous !== "string") throw otpbError("INVALID_INPUT", "previous must be a session id or null");
        const lease = s.core.acquire(client.id, text(params, "id", 512), previous);
        return { session: lease.session, id: lease.deviceId };
      },
    },
    "device.release": {
      capability: "read",
      handler: (raw, client) => {
        s.core.release(client.id, text(objectParams(raw), "session", 64));
        return { released: true };
      },
    },
  };
}
