/**
 * `otpbridge batch ... --store postgres://...`: the batch lives in the stations' shared store
 * (docs/STATIONS.md) instead of this machine's journal. `run` makes this machine one station: the
 * same BatchEngine as a local run, on a SharedJournal, with the station's outbox in the data
 * directory. The batch passphrase (every station is given it; it never reaches the database) comes
 * from --batch-passphrase-stdin | --batch-passphrase-file PATH | --batch-passphrase-env NAME.
 */
import { resolve } from "node:path";
import { BatchEngine, type BatchItemEvent, type BatchProgress } from "../../service/batch-engine.js";
import type { ParsedBatch } from "../../service/batch-input.js";
import { wipeBatchInput } from "../../service/batch-input.js";
import { defaultDataDir } from "../../lib/daemon-paths.js";
import { HostClockGuard } from "../../service/host-clock.js";
import { DeviceManager } from "../../drivers/device-manager.js";
import { EXPORT_TARGETS, type ExportTarget } from "../../input/capabilities.js";
import { aoneOf } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import type { Logger } from "../../lib/log.js";
import { parseServerAddress } from "../../lib/sntp.js";
import { renderCommitted, type ExportRequest } from "../../store/export/index.js";
import { writePrivateFileAtomic } from "../../store/private-files.js";
import { Outbox, SharedJournal, Station, StationStore } from "../../store/stations/index.js";
import { simulatedBatchReaders } from "../../simulation/simulation.js";
import type { CommandContext } from "../context.js";
import { openDevices, parseFamilyRules } from "../device-context.js";
import { processIo, type CommandIo } from "../io.js";
import { readCustomerKey } from "../key-source.js";
import { formatItem, formatLive, formatStations, formatSummary } from "./_batch-format.js";

/** parseArgs options of the shared store, for `batch` and `daemon`. */
export const STATION_OPTIONS = {
  store: { type: "string" },
  station: { type: "string" },
  "batch-passphrase-stdin": { type: "boolean" },
  "batch-passphrase-file": { type: "string" },
  "batch-passphrase-env": { type: "string" },
} as const;

export const STATION_HELP = `  --store URL     postgres://... : the batch is shared by several stations (docs/STATIONS.md);
                  TLS through the URL (sslmode=verify-full&sslrootcert=FILE)
  --station NAME  this station's name in the shared store (default: the host name)
  --batch-passphrase-stdin | --batch-passphrase-file PATH | --batch-passphrase-env NAME
                  the shared batch's passphrase (its seeds are sealed under a key derived from it)`;

export interface StationValues {
  store?: string | undefined;
  station?: string | undefined;
  "batch-passphrase-stdin"?: boolean | undefined;
  "batch-passphrase-file"?: string | undefined;
  "batch-passphrase-env"?: string | undefined;
  "data-dir"?: string | undefined;
  issuer?: string | undefined;
  json?: boolean | undefined;
  display?: string | undefined;
  ntp?: string | undefined;
  force?: boolean | undefined;
  simulate?: boolean | undefined;
  readers?: string | undefined;
  reader?: string | undefined;
  family?: string[] | undefined;
  reburn?: boolean | undefined;
  format?: string | undefined;
  out?: string | undefined;
  "password-env"?: string | undefined;
  "key-name"?: string | undefined;
}

/** The batch passphrase from the one source given. @throws OtpbridgeError INVALID_INPUT. */
export function batchPassphrase(values: StationValues, readStdin?: () => string): string {
  const bytes = readCustomerKey(
    "batch-passphrase",
    { stdin: values["batch-passphrase-stdin"], file: values["batch-passphrase-file"], env: values["batch-passphrase-env"] },
    readStdin,
  );
  if (bytes === undefined) {
    throw otpbError(
      "INVALID_INPUT",
      "a shared batch needs its passphrase: --batch-passphrase-stdin, --batch-passphrase-file PATH or --batch-passphrase-env NAME",
    );
  }
  try {
    return new TextDecoder().decode(bytes);
  } finally {
    bytes.fill(0);
  }
}

/**
 * Only `run` makes this machine a station: the other commands connect without registering, since
 * registering under the name of a station running here (by default both are the host name) would
 * end that station's heartbeats.
 */
function connectStore(values: StationValues, sub: string): Promise<StationStore> {
  return StationStore.connect({
    url: values.store!,
    ...(values.station !== undefined ? { station: values.station } : {}),
    ...(sub === "run" ? {} : { register: false }),
  });
}

/** `batch create|run|status|list|export` against the shared store. */
export async function runSharedBatch(
  sub: string,
  batchId: number | undefined,
  values: StationValues,
  io: CommandIo,
  context: CommandContext,
  parsedInput: () => ParsedBatch,
): Promise<number> {
  const store = await connectStore(values, sub);
  try {
    switch (sub) {
      case "create":
        return await create(store, values, io, parsedInput());
      case "status":
        return await status(store, batchId!, values, io);
      case "list":
        for (const b of await store.batches()) io.out(`${String(b.id).padStart(4)}  ${b.state.padEnd(9)}  ${b.name}`);
        return 0;
      case "run":
        return await run(store, batchId!, values, io, context.logger);
      case "export":
        return await exportShared(store, batchId!, values, io);
      default:
        throw otpbError("INVALID_INPUT", `batch ${sub} has no --store form: create, run, status, list or export`);
    }
  } finally {
    await store.close();
  }
}

async function create(store: StationStore, values: StationValues, io: CommandIo, input: ParsedBatch): Promise<number> {
  if (values.issuer !== undefined) input.issuer = values.issuer;
  try {
    const batch = await store.createBatch(input, batchPassphrase(values, io.readStdin));
    if (values.json) io.out(JSON.stringify({ batch, total: input.items.length }));
    else
      io.out(`shared batch ${batch.id} "${batch.name}": ${input.items.length} items; run it on each station with: otpbridge batch run ${batch.id} --store URL`);
    return 0;
  } finally {
    wipeBatchInput(input);
  }
}

async function status(store: StationStore, batchId: number, values: StationValues, io: CommandIo): Promise<number> {
  const s = await store.status(batchId);
  io.out(values.json ? JSON.stringify(s, null, 2) : formatStations(s));
  return 0;
}

async function exportShared(store: StationStore, batchId: number, values: StationValues, io: CommandIo): Promise<number> {
  if (values.out === undefined || values.format === undefined) throw otpbError("INVALID_INPUT", "--format and --out are required");
  const format = values.format as ExportTarget;
  aoneOf(format, "--format", EXPORT_TARGETS);
  let request: ExportRequest;
  if (format === "pskc" || format === "privacyidea-pskc") {
    const password = values["password-env"] === undefined ? undefined : process.env[values["password-env"]];
    if (password === undefined || password === "")
      throw otpbError("INVALID_INPUT", `${format} needs --password-env VAR naming a set environment variable (the PSKC encryption password)`);
    request = { format, protection: { kind: "password", password, keyName: values["key-name"] ?? "otpbridge" } };
  } else {
    request = { format };
  }
  const batch = await store.openBatch(batchId, batchPassphrase(values, io.readStdin));
  try {
    const path = resolve(values.out);
    const count = await batch.withCommittedSeeds((items) => {
      const { text, count } = renderCommitted(items, request);
      const bytes = Buffer.from(text, "utf8");
      try {
        writePrivateFileAtomic(path, bytes);
      } finally {
        bytes.fill(0);
      }
      return count;
    });
    io.out(`${count} committed items of shared batch ${batchId} written to ${path} (${format}, mode 0600)`);
    return 0;
  } finally {
    batch.close();
  }
}

/** This machine as one station of the shared batch, until no item is left or Ctrl-C. */
async function run(store: StationStore, batchId: number, values: StationValues, io: CommandIo, logger: Logger): Promise<number> {
  const display = Number(values.display ?? 30);
  aoneOf(display, "--display", [15, 30, 60, 120] as const);
  const force = values.force === true;
  const clock = new HostClockGuard({
    forceHint: "--force burns anyway",
    ...(values.ntp !== undefined ? { ntp: parseServerAddress(values.ntp, "--ntp") } : {}),
  });
  for (const line of (await clock.check(force)).overridden) io.err(`warning (--force): ${line}`);
  const batch = await store.openBatch(batchId, batchPassphrase(values, io.readStdin));
  const outbox = Outbox.open(resolve(values["data-dir"] ?? defaultDataDir()));
  let engine: BatchEngine | undefined;
  const station = new Station({ store, batch, outbox, logger, readers: () => readersOf(engine) });
  const journal = await SharedJournal.open(station, { logger });
  const simulation = values.simulate ? simulatedBatchReaders(Number(values.readers ?? 4)) : undefined;
  const devices =
    simulation === undefined
      ? await openDevices({ simulate: false, families: parseFamilyRules(values.family), logger, hid: false, reader: values.reader })
      : { manager: new DeviceManager({ pcsc: simulation.pcsc, families: simulation.families, logger }), close: async () => {} };
  engine = new BatchEngine({ journal, devices: devices.manager, logger, display, reburn: values.reburn === true, checkClock: (forced) => clock.check(forced) });
  const live = io === processIo && process.stderr.isTTY === true;
  const startedAt = Date.now();
  let onSigint = (): void => {};
  station.on("paused", () => io.err(`the shared store is unreachable: no new tap until it answers; burns under way finish and are kept in ${outbox.path}`));
  station.on("resumed", () => {
    io.err("the shared store answers again: taking taps");
    engine?.run(batchId, { forceClock: force });
  });
  station.start();
  try {
    const finished = new Promise<"finished" | "interrupted">((done) => {
      engine!.onItem((event: BatchItemEvent) => {
        if (live) process.stderr.write("\r\x1b[K");
        io.out(formatItem(event));
        simulation?.onItem(event);
      });
      engine!.onProgress((progress: BatchProgress) => {
        if (live) process.stderr.write(`\r\x1b[K${formatLive(progress, process.stderr.columns ?? 100)}`);
        if (progress.finished && progress.inFlight === 0) done("finished");
      });
      // The last items may be committed at other stations: their status ends this run too.
      journal.onStatus((shared) => {
        if (shared.done) done("finished");
      });
      onSigint = () => done("interrupted");
      process.once("SIGINT", onSigint);
    });
    // On the server before the first claim: a claim must not find the batch still created or paused.
    await journal.startOnServer(batchId);
    engine.run(batchId, { forceClock: force });
    if (!engine.progress().finished) {
      if (!live) io.out(`shared batch ${batchId}: tap tokens on any reader of this station (Ctrl-C stops this station only)`);
      if ((await finished) === "interrupted") io.err("stopping this station: burns under way finish");
    }
    await engine.close();
    await station.flush();
    if (live) process.stderr.write("\r\x1b[K");
    io.out(formatSummary(engine.progress(batchId), Date.now() - startedAt));
    if (station.unsent().length > 0) io.err(`${station.unsent().length} steps wait in ${outbox.path} for the shared store; run again when it answers`);
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    await engine.close();
    station.close();
    await journal.close();
    batch.close();
    outbox.close();
    devices.manager.close();
    await devices.close();
  }
}

function readersOf(engine: BatchEngine | undefined): { name: string; activity: string; serial?: string }[] {
  if (engine?.batchId === undefined) return [];
  try {
    return engine.progress().readers.map((r) => ({ name: r.reader, activity: r.state, ...(r.serial !== null ? { serial: r.serial } : {}) }));
  } catch {
    return [];
  }
}
