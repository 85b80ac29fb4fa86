/**
 * The composition root (trezord.go's role): data directory, token, pairing store, journal,
 * PC/SC (or the simulation), device manager, core, handlers, server; and the orderly shutdown.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DeviceManager, type FamilyRule } from "../drivers/device-manager.js";
import type { Logger } from "../lib/log.js";
import { Journal, type KeySource } from "../store/journal.js";
import { ensurePrivateDir } from "../store/private-files.js";
import { PcscManager } from "../transports/pcsc.js";
import { loadOrCreateToken, PairingStore, TOKEN_FILE } from "./auth.js";
import { readActiveBatch, writeActiveBatch } from "./batch-active.js";
import { BatchEngine } from "./batch-engine.js";
import { HostClockGuard } from "./host-clock.js";
import { DaemonCore } from "./core.js";
import { managerSource } from "./device-source.js";
import { EventHub } from "./events.js";
import { batchMethods } from "./handlers/batch.js";
import { deviceMethods } from "./handlers/devices.js";
import { journalMethods } from "./handlers/journal.js";
import { molto2Methods } from "./handlers/molto2.js";
import { otpAppletMethods } from "./handlers/otp-applet.js";
import type { DaemonServices } from "./handlers/_services.js";
import { sessionMethods } from "./handlers/session.js";
import { tokenMethods } from "./handlers/token.js";
import { RpcDispatcher } from "./rpc.js";
import { DaemonServer, DEFAULT_LIMITS, type ServerLimits } from "./server.js";
import { startDaemonSimulation } from "./simulate.js";

/** The documented default port (docs/API.md). */
export const DEFAULT_PORT = 21_630;

// It lives with the other data-directory paths, which commands read without loading the daemon.
export { defaultDataDir } from "../lib/daemon-paths.js";
/** Longest wait at shutdown for running device calls to finish (a burn takes well under 1 s). */
const DRAIN_MS = 10_000;

export interface DaemonOptions {
  port: number;
  dataDir: string;
  simulate: boolean;
  /** Single-profile tokens in the in-memory simulation (default 2). */
  simulateTokens?: number;
  /** Reader→family rules added to the simulation's (vpcd readers cannot be told apart by name). */
  families?: FamilyRule[];
  log: Logger;
  limits?: Partial<ServerLimits>;
  /** The journal's key: the 0600 key file by default, or a passphrase (scrypt). */
  journalKey?: KeySource;
  /** `--ntp HOST[:PORT]`: the SNTP server the host clock is compared with before each write. */
  ntp?: { host: string; port?: number };
}

export interface RunningDaemon {
  port: number;
  dataDir: string;
  tokenFile: string;
  link: "pcsc" | "vpcd" | "memory";
  /** Stops accepting, ends sessions, waits for running calls, closes the journal and PC/SC. */
  close(): Promise<void>;
}

/** package.json's version, from src/daemon (tests) or dist/src/daemon (the built CLI). */
function packageVersion(): string {
  for (const up of ["../../package.json", "../../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), "utf8")) as { name?: string; version: string };
      if (pkg.name === "otpbridge") return pkg.version;
    } catch {
      // Not at this level: try the next one.
    }
  }
  return "unknown";
}

/**
 * Starts the daemon.
 * @throws OtpbridgeError DATA_DIR_PERMISSIONS, KEY_FILE_PERMISSIONS, JOURNAL_* (journal unusable);
 *   Node's listen errors.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { dataDir, log } = options;
  ensurePrivateDir(dataDir);
  const token = loadOrCreateToken(dataDir);
  const pairings = new PairingStore(dataDir);
  const journal = Journal.open({ dataDir, key: options.journalKey ?? { kind: "keyFile" } });
  const simulation = options.simulate ? await startDaemonSimulation(log, options.simulateTokens) : undefined;
  const pcsc = simulation?.pcsc ?? (await PcscManager.start());
  const manager = new DeviceManager({
    pcsc, families: [...(simulation?.families ?? []), ...(options.families ?? [])], logger: log,
    ...(simulation === undefined ? { hid: { list: async () => (await import("../transports/hid.js")).listToken2HidDevices() } } : {}),
  });
  const hub = new EventHub();
  const openHid = simulation === undefined ? async (path: string) => (await import("../transports/hid.js")).openHidTransport(path) : undefined;
  const core = new DaemonCore(managerSource(manager, openHid), { logger: log, onEnded: (lease, reason) => hub.sessionEnded(lease, reason) });
  const unsubscribe = manager.on(() => hub.devicesChanged(core.devicesJson()));
  const hostClock = new HostClockGuard(options.ntp !== undefined ? { ntp: options.ntp } : {});
  const services: DaemonServices = { core, journal, pairings, hostClock, version: packageVersion(), log };
  // The batch engine leaves alone a device an API client holds a session on.
  const batches = new BatchEngine({
    journal, devices: manager, logger: log, checkClock: (force) => hostClock.check(force), skip: (id) => core.devices().some((d) => d.id === id && d.session !== null),
    onAttach: (batchId) => {
      try {
        writeActiveBatch(dataDir, batchId);
      } catch (error) {
        // The batch runs all the same; only a restart would not pick it up by itself (batch.start does).
        log.warn("daemon: could not record the running batch", { batchId, error });
      }
    },
  });
  batches.onItem((event) => hub.batchEvent("batch.item", event));
  batches.onProgress((progress) => hub.batchEvent("batch.progress", progress));
  const active = readActiveBatch(dataDir);
  if (active !== undefined) {
    try {
      const batch = journal.batch(active);
      // After a restart: go on with the batch the engine drove (paused stays paused, but attached).
      if (batch.state === "running") batches.run(active);
    } catch (error) {
      log.warn("daemon: the recorded batch cannot be resumed", { batchId: active, error });
    }
  }
  const dispatcher = new RpcDispatcher({
    ...sessionMethods(services), ...deviceMethods(services), ...tokenMethods(services),
    ...molto2Methods(services), ...otpAppletMethods(services), ...journalMethods(services), ...batchMethods(services, batches),
  }, log);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  await manager.settled();
  const server = await DaemonServer.listen({
    port: options.port, token, pairings, dispatcher, hub, limits, log, onClientGone: (id) => core.releaseAll(id),
  });
  log.info("daemon listening", { port: server.port, dataDir, link: simulation?.link ?? "pcsc" });
  let closing: Promise<void> | undefined;
  return {
    port: server.port, dataDir, tokenFile: join(dataDir, TOKEN_FILE), link: simulation?.link ?? "pcsc",
    close: () => (closing ??= (async () => {
      await server.close();
      // A burn under way finishes (its journal item then says what the token holds) before the journal closes.
      const deadline = Date.now() + DRAIN_MS;
      while (core.running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      // A batch burn under way finishes too, so its item is committed, failed or left to resume.
      await batches.close();
      core.close();
      unsubscribe();
      manager.close();
      journal.close();
      if (simulation !== undefined) await simulation.close();
      else await (pcsc as PcscManager).close();
      log.info("daemon stopped");
    })()),
  };
}
