/**
 * Events (JSON-RPC notifications): `devices.changed` to every client past hello that may read,
 * `batch.item` and `batch.progress` to those holding `batch`, and `device.sessionEnded` to the owner of a session the daemon ended (device gone, taken over).
 */
import type { EndReason, Lease } from "./core.js";
import { RawJson, type ClientContext } from "./rpc.js";

/** The set of connected clients, and the fan-out of events to them. */
export class EventHub {
  readonly #clients = new Map<string, ClientContext>();

  add(client: ClientContext): void {
    this.#clients.set(client.id, client);
  }

  remove(clientId: string): void {
    this.#clients.delete(clientId);
  }

  get size(): number {
    return this.#clients.size;
  }

  /**
   * Sends the new device list (`devicesJson`: the JSON array of DaemonCore.devicesJson, with each
   * device's session) to every client allowed to read; serialised once for all of them.
   */
  devicesChanged(devicesJson: string): void {
    const params = new RawJson(`{"devices":${devicesJson}}`);
    for (const client of this.#clients.values()) {
      if (client.helloDone && client.paired() && client.capabilities().has("read")) client.notify("devices.changed", params);
    }
  }

  /** Sends a batch event (`batch.item`, `batch.progress`) to every client holding the `batch` capability. */
  batchEvent(method: "batch.item" | "batch.progress" | "batch.stations", params: object): void {
    const json = new RawJson(JSON.stringify(params));
    for (const client of this.#clients.values()) {
      if (client.helloDone && client.paired() && client.capabilities().has("batch")) client.notify(method, json);
    }
  }

  /** Tells a session's owner that the daemon ended it. */
  sessionEnded(lease: Lease, reason: EndReason): void {
    this.#clients.get(lease.owner)?.notify("device.sessionEnded", { session: lease.session, id: lease.deviceId, reason });
  }
}
