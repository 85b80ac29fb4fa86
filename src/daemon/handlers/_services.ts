/** What the handlers reach: the core, the journal, the pairing store (built by the daemon's composition root). */
import type { Logger } from "../../lib/log.js";
import type { Journal } from "../../store/journal.js";
import type { PairingStore } from "../auth.js";
import type { DaemonCore } from "../core.js";

export interface DaemonServices {
  core: DaemonCore;
  journal: Journal;
  pairings: PairingStore;
  version: string;
  log: Logger;
}
