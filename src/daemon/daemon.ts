/**
 * The composition root (trezord.go's role): data directory, token, pairing store, journal,
 * PC/SC (or the simulation), device manager, core, handlers, server; and the orderly shutdown.
 */
import { rmSync } from "node:fs";
import { daemonSocketPath, daemonTokenPath, discoveryFilePath, type DaemonDiscovery } from "../lib/daemon-paths.js";
import { DeviceManager, type FamilyRule } from "../drivers/device-manager.js";
import { daemonCards, pressSimulatedMolto2Buttons, startSimulation } from "../simulation/simulation.js";
import type { Logger } from "../lib/log.js";
import { packageVersion } from "../lib/package-info.js";
import { Journal, type KeySource } from "../store/journal.js";
import { assertPrivateTree, ensurePrivateDir, writePrivateFileAtomic } from "../store/private-files.js";
import { PcscManager } from "../transports/pcsc.js";
import { loadOrCreateToken, PairingStore } from "./auth.js";
import { loadConsoleBundle } from "./console-http.js";
import { freeSocketPath } from "./local-socket.js";
import { PairingRequests } from "./pairing-requests.js";
import { readActiveBatch, writeActiveBatch } from "./batch-active.js";
import { BatchEngine } from "../service/batch-engine.js";
import { HostClockGuard } from "../service/host-clock.js";
import { DaemonCore } from "./core.js";
import { managerSource } from "./device-source.js";
import { EventHub } from "./events.js";
import { batchMethods } from "./handlers/batch.js";
import { batchLintMethods } from "./handlers/batch-lint.js";
import { deviceMethods } from "./handlers/devices.js";
import { healthMethods } from "./handlers/health.js";
import { journalMethods } from "./handlers/journal.js";
import { molto2Methods } from "./handlers/molto2.js";
import { molto2ButtonMethods } from "./handlers/molto2-button.js";
import { otpAppletMethods } from "./handlers/otp-applet.js";
import type { DaemonServices } from "./handlers/_services.js";
import { sessionMethods } from "./handlers/session.js";
import { tokenMethods } from "./handlers/token.js";
import { RpcDispatcher } from "./rpc.js";
import { DaemonServer, DEFAULT_LIMITS, type ServerLimits } from "./server.js";
import { localShelf } from "./batch-shelf.js";
import { StationMode, type StationModeOptions } from "./station-mode.js";

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
  /** Single-profile tokens in the simulation (default 2). */
  simulateTokens?: number;
  /** Reader→family rules added to the simulation's (vpcd readers cannot be told apart by name). */
  families?: FamilyRule[];
  log: Logger;
  limits?: Partial<ServerLimits>;
  /** The journal's key: the 0600 key file by default, or a passphrase (scrypt). */
  journalKey?: KeySource;
  /** `--ntp HOST[:PORT]`: the SNTP server the host clock is compared with before each write. */
  ntp?: { host: string; port?: number };
  /** How long a console launch URL works (default 60 s). */
  consoleLaunchTtlMs?: number;
  /** `--store URL [--shared-batch ID]`: this daemon is a station; its batches are the shared store's (docs/STATIONS.md). */
  station?: StationModeOptions;
}

export interface RunningDaemon {
  port: number;
  dataDir: string;
  tokenFile: string;
  /** The Unix socket native clients of this user connect to (no token). */
  socketPath: string;
  link: "pcsc" | "vpcd" | "memory";
  /** Stops accepting, ends sessions, waits for running calls, closes the journal and PC/SC. */
  close(): Promise<void>;
}

/**
 * Starts the daemon.
 * @throws OtpbridgeError DATA_DIR_PERMISSIONS (also: the directory or an entry belongs to another
 *   user, or is a symbolic link), KEY_FILE_PERMISSIONS, JOURNAL_BUSY (another daemon answers on the
 *   directory's socket), INVALID_INPUT (socket path too long), JOURNAL_* (journal unusable); Node's
 *   listen errors.
 */
export async function startDaemon(options: DaemonOptions): Promise<RunningDaemon> {
  const { dataDir, log } = options;
  ensurePrivateDir(dataDir);
  assertPrivateTree(dataDir);
  // Before the journal: a second daemon on this directory is told so plainly, and a dead one's socket goes.
  const socketPath = daemonSocketPath(dataDir);
  await freeSocketPath(socketPath);
  const token = loadOrCreateToken(dataDir);
  const pairings = new PairingStore(dataDir);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const pairingRequests = new PairingRequests(pairings, limits.pairing);
  const journal = Journal.open({ dataDir, key: options.journalKey ?? { kind: "keyFile" } });
  const station = options.station === undefined ? undefined : await StationMode.open(options.station, dataDir, log);
  // --simulate: the emulators are one more bus, chosen here and nowhere else.
  const simulatedCards = options.simulate ? daemonCards(options.simulateTokens ?? 2) : [];
  const simulation = options.simulate ? await startSimulation(simulatedCards, { logger: log }) : undefined;
  const pcsc = simulation?.pcsc ?? (await PcscManager.start());
  const manager = new DeviceManager({
    pcsc,
    families: [...(simulation?.families ?? []), ...(options.families ?? [])],
    logger: log,
    ...(simulation === undefined ? { hid: { list: async () => (await import("../transports/hid.js")).listToken2HidDevices() } } : {}),
  });
  const hub = new EventHub();
  const openHid = simulation === undefined ? async (path: string) => (await import("../transports/hid.js")).openHidTransport(path) : undefined;
  const core = new DaemonCore(managerSource(manager, openHid), { logger: log, onEnded: (lease, reason) => hub.sessionEnded(lease, reason) });
  const unsubscribe = manager.on(() => hub.devicesChanged(core.devicesJson()));
  const hostClock = new HostClockGuard(options.ntp !== undefined ? { ntp: options.ntp } : {});
  const services: DaemonServices = {
    core,
    journal,
    pairings,
    pairingRequests,
    hostClock,
    deviceLinks: () => ({ status: manager.status(), simulated: simulation?.link ?? null }),
    // --simulate: the press a client confirms is made on the emulated Molto2, as a person would have.
    ...(simulation !== undefined ? { onButtonConfirmed: () => pressSimulatedMolto2Buttons(simulatedCards) } : {}),
    ...(station !== undefined ? { sharedBatches: station.keyring, beforeOneOffClaim: (token: { serial: string }) => station.refuseSharedToken(token) } : {}),
    version: packageVersion(),
    log,
  };
  // The batch engine leaves alone a device an API client holds a session on.
  const batches = new BatchEngine({
    journal: station?.journal ?? journal,
    devices: manager,
    logger: log,
    checkClock: (force) => hostClock.check(force),
    skip: (id) => core.devices().some((d) => d.id === id && d.session !== null),
    onAttach: (batchId) => {
      // A shared batch's id means nothing to the local journal: a later local start must not resume it.
      if (station !== undefined) return;
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
  station?.drive(batches, (status) => hub.batchEvent("batch.stations", status));
  const active = station === undefined ? readActiveBatch(dataDir) : undefined;
  if (active !== undefined) {
    try {
      const batch = journal.batch(active);
      // After a restart: go on with the batch the engine drove (paused stays paused, but attached).
      if (batch.state === "running") batches.run(active);
    } catch (error) {
      log.warn("daemon: the recorded batch cannot be resumed", { batchId: active, error });
    }
  }
  const dispatcher = new RpcDispatcher(
    {
      ...sessionMethods(services),
      ...deviceMethods(services),
      ...tokenMethods(services),
      ...molto2Methods(services),
      ...molto2ButtonMethods(services),
      ...otpAppletMethods(services),
      ...journalMethods(services),
      ...batchMethods(services, batches, station ?? localShelf(journal, batches)),
      ...batchLintMethods(),
      ...healthMethods(services),
    },
    log,
  );
  await manager.settled();
  const links = manager.status();
  // Without pcscd (a machine with FIDO keys only, or pcscd not started yet) the daemon still serves HID
  // keys; PcscManager keeps looking for the service and readers appear when it starts.
  if (links.pcsc === "unavailable")
    log.warn("daemon: PC/SC unavailable; serving HID keys, readers once pcscd runs", { reason: links.pcscMessage, hid: links.hid });
  const server = await DaemonServer.listen({
    port: options.port,
    socketPath,
    token,
    pairings,
    dispatcher,
    hub,
    limits,
    log,
    endSessions: (id) => core.releaseAll(id),
    onClientGone: (id) => pairingRequests.drop(id),
    console: { dataDir, bundle: loadConsoleBundle(), ...(options.consoleLaunchTtlMs !== undefined ? { launchTtlMs: options.consoleLaunchTtlMs } : {}) },
  });
  log.info("daemon listening", { port: server.port, dataDir, link: simulation?.link ?? "pcsc" });
  // Local clients (the CLI) find the daemon of this data directory here, and go through it.
  const discovery: DaemonDiscovery = { pid: process.pid, port: server.port, socket: socketPath };
  writePrivateFileAtomic(discoveryFilePath(dataDir), new TextEncoder().encode(JSON.stringify(discovery)));
  let closing: Promise<void> | undefined;
  return {
    port: server.port,
    dataDir,
    tokenFile: daemonTokenPath(dataDir),
    socketPath,
    link: simulation?.link ?? "pcsc",
    close: () =>
      (closing ??= (async () => {
        rmSync(discoveryFilePath(dataDir), { force: true });
        await server.close();
        // A burn under way finishes (its journal item then says what the token holds) before the journal closes.
        const deadline = Date.now() + DRAIN_MS;
        while (core.running > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        // A batch burn under way finishes too, so its item is committed, failed or left to resume.
        await batches.close();
        await station?.close();
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
