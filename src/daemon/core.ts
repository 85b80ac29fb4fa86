/**
 * The daemon core: which client holds which device, in the style of trezord-go's core (acquire naming the previous session, one call at a time). It owns the
 * device leases and nothing else; it knows no WebSocket and no JSON-RPC, and reaches devices only
 * through the {@link DeviceSource} it declares (the device manager satisfies it through a thin
 * adapter, tests and --simulate through the same one over in-memory readers).
 *
 * Rules:
 * - `acquire(device, previous)` is a compare-and-swap on the device's current session: it succeeds
 *   only when `previous` names the current session (null when free). A device held by another
 *   session is DEVICE_BUSY for a caller that names no session, WRONG_PREVIOUS_SESSION for one that
 *   names a stale one; naming the current one takes the device over, unless a call is running
 *   (no stealing while a burn runs: DEVICE_BUSY).
 * - one call in flight per session (a second one is DEVICE_BUSY, not queued: the client decides);
 * - a session ends when its owner goes (socket closed), when it is released, or when its device
 *   leaves the list or loses its card; a running call finishes first (the driver's own error, or
 *   the journal, tells what the token holds), and the device is free once it has;
 * - a call may ask for hold-still retries (src/drivers/hold-still.ts): a token that slips out of the
 *   field during a step that is safe to repeat is waited for and the call runs again on a new link.
 *   So a card that leaves while a call runs ends the session only if, when the call is over, the
 *   same token (serial) is not back in the reader.
 */
import { randomBytes } from "node:crypto";
import { holdStill, type DeviceWatch, type RetryEvent } from "../drivers/hold-still.js";
import { otpbError } from "../lib/errors.js";
import { silentLogger, type Logger } from "../lib/log.js";
import type { DeviceInfo } from "../drivers/device-manager.js";
import type { HidTransport } from "../transports/hid-types.js";
import type { ApduTransport } from "../transports/types.js";

/** How a call reaches its device: an exclusive APDU session (PC/SC) or a HID link. */
export type DeviceLink = { kind: "apdu"; transport: ApduTransport } | { kind: "hid"; transport: HidTransport };

/** What the core needs from the device layer (owned here, as trezord's core owns USBBus). */
export interface DeviceSource {
  list(): DeviceInfo[];
  /** Calls `listener` with the whole new list on every change; returns the unsubscribe function. */
  onChange(listener: (devices: DeviceInfo[]) => void): () => void;
  /**
   * Runs `fn` with an exclusive link to `device`, closed whatever happens.
   * @throws OtpbridgeError READER_GONE, CARD_REMOVED, DEVICE_BUSY, PCSC_UNAVAILABLE, DEVICE_GONE; what `fn` throws.
   */
  withDevice<T>(device: DeviceInfo, fn: (link: DeviceLink) => Promise<T>): Promise<T>;
}

/** A device session held by one client. */
export interface Lease {
  readonly session: string;
  readonly deviceId: string;
  readonly owner: string;
}

interface LeaseState extends Lease {
  calling: boolean;
  ended: boolean;
  /** The token's serial when the session began (null: not identified). */
  serial: string | null;
  /** The card left while a call ran: decided when the call is over. */
  cardLeft: boolean;
}

/** Hold-still retries for one call (PC/SC tokens whose serial the device list gives). */
export interface CallRetry {
  /** Whether the step the error ended may run again (single-profile: `safeToRepeat`). */
  repeatable: (error: unknown) => boolean;
  /** Told before each retry. */
  onRetry?: (event: RetryEvent) => void;
  /** Retries after the first try (default 2). */
  attempts?: number;
  /** How long the token has to be back, each time, in ms (default 5000). */
  waitMs?: number;
}

/** Why a session ended, sent to its owner. */
export type EndReason = "released" | "taken-over" | "device-gone" | "client-gone";

export interface CoreOptions {
  logger?: Logger;
  /** Called when a session ends for a reason its owner did not cause itself. */
  onEnded?: (lease: Lease, reason: EndReason) => void;
}

/** See the module comment. */
export class DaemonCore {
  readonly #source: DeviceSource;
  readonly #log: Logger;
  readonly #onEnded: (lease: Lease, reason: EndReason) => void;
  /** deviceId → the live session on it. */
  readonly #byDevice = new Map<string, LeaseState>();
  readonly #bySession = new Map<string, LeaseState>();
  readonly #unsubscribe: () => void;
  /**
   * The source's list as of its last change event, by id: calls look their device up here
   * instead of copying the whole list each time (the load benchmark's 200 clients made that the
   * daemon's main cost).
   */
  #devices: Map<string, DeviceInfo>;
  /** devices() as JSON, until the next device or session change. */
  #devicesJson: string | undefined;

  constructor(source: DeviceSource, options: CoreOptions = {}) {
    this.#source = source;
    this.#log = options.logger ?? silentLogger;
    this.#onEnded = options.onEnded ?? (() => {});
    this.#devices = new Map(source.list().map((d) => [d.id, d]));
    this.#unsubscribe = source.onChange((devices) => this.#devicesChanged(devices));
  }

  /** The devices, each with the session holding it (null when free). */
  devices(): Array<DeviceInfo & { session: string | null }> {
    return [...this.#devices.values()].map((d) => ({ ...d, session: this.#byDevice.get(d.id)?.session ?? null }));
  }

  /** `JSON.stringify(this.devices())`, computed once per device or session change. */
  devicesJson(): string {
    this.#devicesJson ??= JSON.stringify(this.devices());
    return this.#devicesJson;
  }

  /**
   * Takes a session on `deviceId` for `owner` (see the module comment).
   * @throws OtpbridgeError NO_DEVICE (unknown id or no card), DEVICE_BUSY, WRONG_PREVIOUS_SESSION.
   */
  acquire(owner: string, deviceId: string, previous: string | null): Lease {
    const device = this.#devices.get(deviceId);
    if (device === undefined || device.state === "no-card") {
      throw otpbError("NO_DEVICE", `no device ${JSON.stringify(deviceId)} with a card`, { detail: { device: deviceId } });
    }
    const current = this.#byDevice.get(deviceId);
    if (current === undefined) {
      if (previous !== null) {
        throw otpbError("WRONG_PREVIOUS_SESSION", "the device is free now: acquire it with previous null", { detail: { device: deviceId, current: null } });
      }
    } else if (previous !== current.session) {
      if (previous === null) {
        throw otpbError("DEVICE_BUSY", "another session holds the device", { detail: { device: deviceId } });
      }
      throw otpbError("WRONG_PREVIOUS_SESSION", "previous does not name the device's current session", { detail: { device: deviceId } });
    } else if (current.calling) {
      throw otpbError("DEVICE_BUSY", "a call is running on the device: it cannot be taken over now", { detail: { device: deviceId } });
    } else {
      this.#end(current, "taken-over");
    }
    const lease: LeaseState = {
      session: randomBytes(12).toString("base64url"),
      deviceId,
      owner,
      calling: false,
      ended: false,
      serial: device.serial,
      cardLeft: false,
    };
    this.#byDevice.set(deviceId, lease);
    this.#bySession.set(lease.session, lease);
    this.#devicesJson = undefined;
    this.#log.info("session acquired", { device: deviceId, session: lease.session, client: owner });
    return { session: lease.session, deviceId, owner };
  }

  /**
   * Ends `owner`'s session. A running call finishes first; the device is free once it has.
   * @throws OtpbridgeError NOT_ACQUIRED if `owner` holds no such session.
   */
  release(owner: string, session: string): void {
    const lease = this.#owned(owner, session);
    this.#end(lease, "released");
  }

  /** Ends every session of `owner` (its socket closed). */
  releaseAll(owner: string): void {
    for (const lease of [...this.#bySession.values()]) if (lease.owner === owner) this.#end(lease, "client-gone");
  }

  /**
   * Runs `fn` on the session's device: one call at a time per session. With `retry`, a PC/SC token
   * that leaves during a repeatable step is waited for and `fn` runs again (see the module comment).
   * @throws OtpbridgeError NOT_ACQUIRED, DEVICE_BUSY (a call is running), NO_DEVICE (the device
   *   left the list); the link's and `fn`'s errors.
   */
  async call<T>(owner: string, session: string, fn: (link: DeviceLink, device: DeviceInfo) => Promise<T>, retry?: CallRetry): Promise<T> {
    const lease = this.#owned(owner, session);
    if (lease.calling) throw otpbError("DEVICE_BUSY", "a call is already running in this session", { detail: { device: lease.deviceId } });
    const device = this.#devices.get(lease.deviceId);
    if (device === undefined) throw otpbError("NO_DEVICE", "the device is gone", { detail: { device: lease.deviceId } });
    lease.calling = true;
    try {
      if (retry === undefined || device.reader === undefined || device.serial === null) {
        return await this.#source.withDevice(device, (link) => fn(link, device));
      }
      const watch: DeviceWatch = { list: () => this.#source.list(), on: (listener) => this.#source.onChange(() => listener()) };
      return await holdStill(watch, { reader: device.reader, serial: device.serial }, (link: DeviceLink) => fn(link, device), retry.repeatable, {
        ...retry,
        // A retry opens the device as it is listed now (back in its reader, identified again).
        connect: (run) => this.#source.withDevice(this.#devices.get(device.id) ?? device, run),
      });
    } finally {
      lease.calling = false;
      if (!lease.ended && lease.cardLeft) {
        lease.cardLeft = false;
        const now = this.#devices.get(lease.deviceId);
        if (now === undefined || now.state === "no-card" || now.serial === null || now.serial !== lease.serial) this.#end(lease, "device-gone");
      }
      // A session ended while its call ran (client gone, device gone) frees the device only now.
      if (lease.ended) this.#free(lease);
    }
  }

  /** Ends every session and stops listening to the source. */
  close(): void {
    this.#unsubscribe();
    for (const lease of [...this.#bySession.values()]) this.#end(lease, "client-gone");
  }

  /** Number of calls running now (shutdown waits for them). */
  get running(): number {
    // Every lease with a call running is still in #byDevice (it is freed only when the call ends).
    return [...this.#byDevice.values()].filter((l) => l.calling).length;
  }

  #owned(owner: string, session: string): LeaseState {
    const lease = this.#bySession.get(session);
    if (lease === undefined || lease.owner !== owner || lease.ended) {
      // The session text is not echoed: it is whatever the client sent in that field.
      throw otpbError("NOT_ACQUIRED", "no such session for this client (acquire the device first)");
    }
    return lease;
  }

  #end(lease: LeaseState, reason: EndReason): void {
    if (lease.ended) return;
    lease.ended = true;
    this.#bySession.delete(lease.session);
    if (!lease.calling) this.#free(lease);
    this.#log.info("session ended", { device: lease.deviceId, session: lease.session, reason, callRunning: lease.calling });
    if (reason === "taken-over" || reason === "device-gone") {
      this.#onEnded({ session: lease.session, deviceId: lease.deviceId, owner: lease.owner }, reason);
    }
  }

  #free(lease: LeaseState): void {
    if (this.#byDevice.get(lease.deviceId) === lease) this.#byDevice.delete(lease.deviceId);
    this.#devicesJson = undefined;
  }

  #devicesChanged(devices: DeviceInfo[]): void {
    this.#devices = new Map(devices.map((d) => [d.id, d]));
    this.#devicesJson = undefined;
    for (const lease of [...this.#bySession.values()]) {
      const device = devices.find((d) => d.id === lease.deviceId);
      if (device !== undefined && device.state !== "no-card") continue;
      // During a call the token may be coming back (hold-still): call() decides when it is over.
      if (lease.calling) lease.cardLeft = true;
      else this.#end(lease, "device-gone");
    }
  }
}
