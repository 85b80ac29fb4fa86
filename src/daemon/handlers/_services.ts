/** What the handlers reach: the core, the journal, the pairing store (built by the daemon's composition root). */
import type { Logger } from "../../lib/log.js";
import type { Journal } from "../../store/journal.js";
import type { PairingStore } from "../auth.js";
import type { DaemonCore } from "../core.js";
import type { PairingRequests } from "../pairing-requests.js";
import type { SharedBatches } from "../../service/find.js";
import type { HostClockGuard } from "../../service/host-clock.js";
import type { DeviceManager } from "../../drivers/device-manager.js";

export interface DaemonServices {
  core: DaemonCore;
  journal: Journal;
  pairings: PairingStore;
  /** Pending browser pairings (in memory until approved). */
  pairingRequests: PairingRequests;
  /** The host-clock check before every write of a token's clock. */
  hostClock: HostClockGuard;
  /** The links behind the device list, for `devices.list`: PC/SC and HID status, and the simulation's link (null: real devices). */
  deviceLinks: () => { status: ReturnType<DeviceManager["status"]>; simulated: "vpcd" | "memory" | null };
  /** Called when a client confirms a ▲ press (molto2.buttonPressed): --simulate presses the emulated Molto2's. */
  onButtonConfirmed?: () => void;
  /** A station (--store): the shared batches journal.find searches, beside the journal. */
  sharedBatches?: SharedBatches;
  /**
   * A station's check before a one-off burn's claim (src/daemon/station-mode.ts): the shared store
   * refuses a token of its batches.
   */
  beforeOneOffClaim?: (token: { serial: string }) => Promise<void>;
  version: string;
  log: Logger;
}
