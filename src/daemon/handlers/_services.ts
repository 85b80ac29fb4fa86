/** What the handlers reach: the core, the journal, the pairing store (built by the daemon's composition root). */
import type { Logger } from "../../lib/log.js";
import type { Journal } from "../../store/journal.js";
import type { PairingStore } from "../auth.js";
import type { DaemonCore } from "../core.js";
import type { PairingRequests } from "../pairing-requests.js";
import type { HostClockGuard } from "../../service/host-clock.js";

export interface DaemonServices {
  core: DaemonCore;
  journal: Journal;
  pairings: PairingStore;
  /** Pending browser pairings (in memory until approved). */
  pairingRequests: PairingRequests;
  /** The host-clock check before every write of a token's clock. */
  hostClock: HostClockGuard;
  version: string;
  log: Logger;
}
