/**
 * `otpbridge batch create|run|status|list|export` (issue #6). The CLI opens the journal itself, so
 * it runs while no daemon holds it (JOURNAL_BUSY otherwise: use the daemon's batch.* API then);
 * `run` drives the same BatchEngine the daemon uses, with its own device manager.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { BatchEngine, type BatchItemEvent, type BatchProgress } from "../../service/batch-engine.js";
import { CSV_HEADERS, generatedBatch, parseBatchCsv, parseBatchUris, wipeBatchInput, type ParsedBatch } from "../../service/batch-input.js";
import { ProgressMeter, reportedState } from "../../service/batch-progress.js";
import { checkTypedCode } from "../../service/batch-verify.js";
import { DeviceManager } from "../../drivers/device-manager.js";
import { EXPORT_TARGETS, type ExportTarget } from "../../input/capabilities.js";
import { aint, aoneOf } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import { exportBatch, type ExportRequest } from "../../store/export/index.js";
import { HostClockGuard } from "../../service/host-clock.js";
import { parseServerAddress } from "../../lib/sntp.js";
import { simulatedBatchReaders } from "../../simulation/simulation.js";
import type { CommandContext } from "../context.js";
import { openDevices, parseFamilyRules } from "../device-context.js";
import { processIo, type CommandIo } from "../io.js";
import { formatItem, formatLive, formatSummary, printCodeCheck } from "./_batch-format.js";
import { dataDirFrom, JOURNAL_OPTIONS, openJournal } from "../journal-key.js";
import type { DaemonClient } from "../../client/daemon-client.js";
import { daemonFor, refuseLocalFlags } from "../daemon-link.js";
import { checkThrough, createThrough, exportThrough, listThrough, reburnThrough, runThrough, statusThrough, type CreateSource } from "./_batch-daemon.js";
import { DISPLAY_SECONDS, PERIODS } from "../../drivers/single-profile.js";
import { STATION_HELP, STATION_OPTIONS, runSharedBatch } from "./station-batch.js";

export const BATCH_HELP = `Usage: otpbridge batch create (--csv FILE | --uris FILE | --generate N) --name NAME [--issuer TEXT]
                              [--algorithm SHA1|SHA256] [--period 30|60]
       otpbridge batch run ID [--simulate [--readers N]] [--reader NAME] [--family READER=FAMILY]...
                              [--reburn] [--display 15|30|60|120] [--ntp HOST[:PORT]] [--force]
       otpbridge batch status ID [--json]
       otpbridge batch check ID --item ITEM --code CODE
       otpbridge batch reburn ID --item ITEM [--simulate [--readers N]] [--reader NAME] [--force]
       otpbridge batch list [--json]
       otpbridge batch export ID --format FORMAT --out FILE [--password-env VAR --key-name NAME]
  (every form takes --data-dir DIR: default $XDG_DATA_HOME/otpbridge, the daemon's, and the
   journal's passphrase if it has one: --passphrase-stdin | --passphrase-file PATH | --passphrase-env NAME)

create   a batch from a CSV (header names: ${CSV_HEADERS.join(", ")}; empty secret: generated),
         from otpauth://totp URIs (one per line), or N seeds of 20 random bytes
run      every single-profile token tapped on any reader takes the next item, readers in parallel:
         claimed in the journal, burned, its clock read back (within 2 s), committed. Leave each
         token on the reader until its line says done or remove. Ends when no item is left, or on
         Ctrl-C (the batch is paused; burns under way finish). --simulate: in-memory readers
         (--readers N, default 4) with emulated tokens swapped in as each is done. Refused while the
         system clock is unsynchronised or, with --ntp, more than 2 s off that server (checked before
         the first tap and again every minute); --force runs anyway, with a warning
status   counts per state, rate and readers
check    compare the code a burned token shows with the one its seed gives now (±1 step)
reburn   burn one committed or failed item again (its token lost or broken, or its codes wrong):
         the next token tapped takes its seed, either the same token or a blank one bound to no
         other item (the item then names the new serial; the old one stays in the journal's
         events). Runs the batch until that tap is done
export   committed items only, to a 0600 file: ${EXPORT_TARGETS.join(", ")}; PSKC formats
         encrypt the seeds under the password in environment variable --password-env
With --store, create, run, status, list and export work on a batch shared by several stations:
${STATION_HELP}`;

const OPTIONS = {
  csv: { type: "string" },
  uris: { type: "string" },
  generate: { type: "string" },
  name: { type: "string" },
  issuer: { type: "string" },
  algorithm: { type: "string" },
  period: { type: "string" },
  display: { type: "string" },
  simulate: { type: "boolean" },
  readers: { type: "string" },
  reader: { type: "string" },
  family: { type: "string", multiple: true },
  reburn: { type: "boolean" },
  ntp: { type: "string" },
  force: { type: "boolean" },
  json: { type: "boolean" },
  format: { type: "string" },
  out: { type: "string" },
  "password-env": { type: "string" },
  "key-name": { type: "string" },
  item: { type: "string" },
  code: { type: "string" },
  ...JOURNAL_OPTIONS,
  ...STATION_OPTIONS,
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>["values"];

function batchIdOf(text: string | undefined): number {
  const id = Number(text);
  aint(id, "batch ID", 1, Number.MAX_SAFE_INTEGER);
  return id;
}

/** `otpbridge batch ...`. */
export async function runBatch(argv: string[], io: CommandIo, context: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [sub, id] = positionals;
  if (values.help || sub === undefined) {
    io.out(BATCH_HELP);
    return values.help ? 0 : 2;
  }
  if (values.store !== undefined) return runSharedBatch(sub, id === undefined ? undefined : batchIdOf(id), values, io, context, () => parsedInput(values));
  const daemon = values.simulate === true ? undefined : await daemonFor(dataDirFrom(values));
  if (daemon !== undefined) {
    try {
      return await throughDaemon(daemon, sub, id, values, io);
    } finally {
      await daemon.close();
    }
  }
  switch (sub) {
    case "create":
      return create(values, io);
    case "run":
      return run(batchIdOf(id), values, io, context);
    case "status":
      return status(batchIdOf(id), values, io);
    case "list":
      return list(values, io);
    case "check":
      return check(batchIdOf(id), values, io);
    case "reburn":
      return run(batchIdOf(id), values, io, context, itemIdOf(values));
    case "export":
      return exportCommand(batchIdOf(id), values, io);
    default:
      throw unknownCommand(sub);
  }
}

const unknownCommand = (sub: string): Error =>
  otpbError("INVALID_INPUT", `unknown batch command ${JSON.stringify(sub)}: create, run, status, check, reburn, list or export`);

/** The same subcommands through the daemon that serves the data directory. */
function throughDaemon(daemon: DaemonClient, sub: string, id: string | undefined, values: Values, io: CommandIo): Promise<number> {
  const json = values.json === true;
  switch (sub) {
    case "create":
      return createThrough(daemon, createSource(values), requiredName(values), values.issuer, json, io);
    case "run":
      refuseLocalFlags(values, ["readers", "reader", "family", "reburn", "display", "ntp"], dataDirFrom(values));
      return runThrough(daemon, batchIdOf(id), values.force === true, io);
    case "status":
      return statusThrough(daemon, batchIdOf(id), json, io);
    case "list":
      return listThrough(daemon, json, io);
    case "check":
      return checkThrough(daemon, batchIdOf(id), itemIdOf(values), values.code ?? "", json, io);
    case "reburn":
      refuseLocalFlags(values, ["readers", "reader", "family", "reburn", "display", "ntp"], dataDirFrom(values));
      return reburnThrough(daemon, batchIdOf(id), itemIdOf(values), values.force === true, io);
    case "export": {
      const { request, path } = exportTarget(values);
      return exportThrough(daemon, batchIdOf(id), request, path, io);
    }
    default:
      throw unknownCommand(sub);
  }
}

function requiredName(values: Values): string {
  if (values.name === undefined) throw otpbError("INVALID_INPUT", "--name is required");
  return values.name;
}

/** The one source of `batch create`, as given. */
function createSource(values: Values): CreateSource {
  const sources = (["csv", "uris", "generate"] as const).filter((k) => values[k] !== undefined);
  if (sources.length !== 1) throw otpbError("INVALID_INPUT", "give exactly one of --csv FILE, --uris FILE and --generate N");
  if (values.csv !== undefined) return { csv: readFileSync(values.csv, "utf8") };
  if (values.uris !== undefined) return { uris: readFileSync(values.uris, "utf8").split(/\r?\n/) };
  const { algorithm, period } = generatedParameters(values);
  return { generate: Number(values.generate), algorithm, period };
}

function generatedParameters(values: Values): { algorithm: "SHA1" | "SHA256"; period: (typeof PERIODS)[number] } {
  const algorithm = values.algorithm?.toUpperCase().replace("-", "") ?? "SHA1";
  aoneOf(algorithm, "--algorithm", ["SHA1", "SHA256"] as const);
  const period = Number(values.period ?? 30);
  aoneOf(period, "--period", PERIODS);
  return { algorithm, period };
}

function itemIdOf(values: Values): number {
  const itemId = Number(values.item);
  aint(itemId, "--item", 1, Number.MAX_SAFE_INTEGER);
  return itemId;
}

function parsedInput(values: Values): ParsedBatch {
  const name = requiredName(values);
  const source = createSource(values);
  if ("csv" in source) return parseBatchCsv(source.csv, name);
  if ("uris" in source) return parseBatchUris(source.uris, name);
  return generatedBatch(source.generate, name, { algorithm: source.algorithm as "SHA1" | "SHA256", period: source.period as (typeof PERIODS)[number] });
}

function create(values: Values, io: CommandIo): number {
  const input = parsedInput(values);
  if (values.issuer !== undefined) input.issuer = values.issuer;
  try {
    const journal = openJournal(values, io);
    try {
      const batch = journal.createBatch(input);
      if (values.json) io.out(JSON.stringify({ batch, total: input.items.length, ...(input.skipped !== undefined ? { skipped: input.skipped } : {}) }));
      else io.out(`batch ${batch.id} "${batch.name}": ${input.items.length} items; run it with: otpbridge batch run ${batch.id}`);
      for (const s of input.skipped ?? []) {
        io.err(
          `skipped  line ${s.line}: ${s.issuer ? `${s.issuer}:` : ""}${s.name} (${s.reason === "hotp" ? "a counter-based HOTP account" : s.reason}; a TOTP token cannot hold it)`,
        );
      }
      return 0;
    } finally {
      journal.close();
    }
  } finally {
    wipeBatchInput(input);
  }
}

/** `batch run`, or with `reburnItem` `batch reburn`: that item is armed and the run ends once a token took it. */
async function run(batchId: number, values: Values, io: CommandIo, context: CommandContext, reburnItem?: number): Promise<number> {
  const display = Number(values.display ?? 30);
  aoneOf(display, "--display", DISPLAY_SECONDS);
  // Before anything is opened: every token of the batch gets its clock from this host.
  const force = values.force === true;
  const clock = new HostClockGuard({
    forceHint: "--force burns anyway",
    ...(values.ntp !== undefined ? { ntp: parseServerAddress(values.ntp, "--ntp") } : {}),
  });
  for (const line of (await clock.check(force)).overridden) io.err(`warning (--force): ${line}`);
  const journal = openJournal(values, io);
  const simulation = values.simulate ? simulatedBatchReaders(Number(values.readers ?? 4)) : undefined;
  const devices =
    simulation === undefined
      ? await openDevices({ simulate: false, families: parseFamilyRules(values.family), logger: context.logger, hid: false, reader: values.reader })
      : { manager: new DeviceManager({ pcsc: simulation.pcsc, families: simulation.families, logger: context.logger }), close: async () => {} };
  const engine = new BatchEngine({
    journal,
    devices: devices.manager,
    logger: context.logger,
    display,
    reburn: values.reburn === true,
    checkClock: (forced) => clock.check(forced),
  });
  const live = io === processIo && process.stderr.isTTY === true;
  const startedAt = Date.now();
  let last: BatchProgress | undefined;
  let onSigint = (): void => {};
  try {
    const finished = new Promise<"finished" | "interrupted">((done) => {
      engine.onItem((event: BatchItemEvent) => {
        if (live) process.stderr.write("\r\x1b[K");
        io.out(formatItem(event));
        simulation?.onItem(event);
        if (reburnItem !== undefined && event.itemId === reburnItem && ["committed", "failed", "interrupted"].includes(event.outcome)) done("finished");
      });
      engine.onProgress((progress) => {
        last = progress;
        if (live) process.stderr.write(`\r\x1b[K${formatLive(progress, process.stderr.columns ?? 100)}`);
        if (reburnItem === undefined && progress.finished && progress.inFlight === 0) done("finished");
      });
      onSigint = () => done("interrupted");
      process.once("SIGINT", onSigint);
    });
    engine.run(batchId, { forceClock: force });
    if (reburnItem !== undefined) {
      const item = journal.item(reburnItem);
      if (item.batchId !== batchId)
        throw otpbError("ITEM_NOT_FOUND", `item ${reburnItem} is not in batch ${batchId}`, { detail: { batchId, itemId: reburnItem } });
      if (item.state !== "committed" && item.state !== "failed") {
        throw otpbError("ITEM_STATE", `item ${reburnItem} is ${item.state}; only a committed or failed item can be re-burned`, {
          detail: { itemId: reburnItem, state: item.state },
        });
      }
      engine.reburnItem(batchId, reburnItem);
      io.out(`item ${reburnItem} (token ${item.serial ?? "none"}): tap its token again, or a blank token to take its place (Ctrl-C pauses)`);
    }
    last = engine.progress();
    if (!last.finished || reburnItem !== undefined) {
      if (!live && reburnItem === undefined) io.out(`batch ${batchId}: ${last.done}/${last.total} done; tap tokens on any reader (Ctrl-C pauses)`);
      if ((await finished) === "interrupted") {
        io.err("stopping: burns under way finish, then the batch is paused");
        await engine.close();
        if (journal.batch(batchId).state === "running") engine.pause(batchId);
      }
    }
    await engine.close();
    if (live) process.stderr.write("\r\x1b[K");
    const final = engine.progress(batchId);
    io.out(formatSummary(final, Date.now() - startedAt));
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    await engine.close();
    devices.manager.close();
    await devices.close();
    journal.close();
  }
}

function status(batchId: number, values: Values, io: CommandIo): number {
  const journal = openJournal(values, io);
  try {
    const progress = new ProgressMeter().progress(journal.status(batchId), [], 0);
    if (values.json) io.out(JSON.stringify(progress, null, 2));
    else io.out(formatSummary(progress));
    return 0;
  } finally {
    journal.close();
  }
}

function check(batchId: number, values: Values, io: CommandIo): number {
  const itemId = itemIdOf(values);
  const journal = openJournal(values, io);
  try {
    return printCodeCheck(checkTypedCode(journal, batchId, itemId, values.code ?? ""), itemId, values.json, io);
  } finally {
    journal.close();
  }
}

function list(values: Values, io: CommandIo): number {
  const journal = openJournal(values, io);
  try {
    const rows = journal.batches().map((b) => {
      const status = journal.status(b.id);
      return { ...b, state: reportedState(status), counts: status.counts };
    });
    if (values.json) io.out(JSON.stringify(rows, null, 2));
    else for (const b of rows) io.out(`${String(b.id).padStart(4)}  ${b.state.padEnd(9)}  ${b.counts.committed} committed  ${b.name}`);
    return 0;
  } finally {
    journal.close();
  }
}

/** Where and how `batch export` writes. */
function exportTarget(values: Values): { request: ExportRequest; path: string } {
  if (values.out === undefined || values.format === undefined) throw otpbError("INVALID_INPUT", "--format and --out are required");
  const format = values.format as ExportTarget;
  aoneOf(format, "--format", EXPORT_TARGETS);
  const path = resolve(values.out);
  if (format === "pskc" || format === "privacyidea-pskc") {
    const variable = values["password-env"];
    const password = variable === undefined ? undefined : process.env[variable];
    if (password === undefined || password === "")
      throw otpbError("INVALID_INPUT", `${format} needs --password-env VAR naming a set environment variable (the PSKC encryption password)`);
    return { request: { format, protection: { kind: "password", password, keyName: values["key-name"] ?? "otpbridge" } }, path };
  }
  return { request: { format }, path };
}

function exportCommand(batchId: number, values: Values, io: CommandIo): number {
  const { request, path } = exportTarget(values);
  const journal = openJournal(values, io);
  try {
    const result = exportBatch(journal, batchId, request, path);
    io.out(`${result.count} committed items of batch ${batchId} written to ${result.path} (${request.format}, mode 0600)`);
    return 0;
  } finally {
    journal.close();
  }
}
