/**
 * `otpbridge find CODE [NEXT...]`: which token shows this code (src/service/find.ts). Like `batch`,
 * it opens the journal itself while no daemon serves the data directory, and asks the daemon
 * (journal.find) while one does: the daemon holds the journal then. With --store it searches the
 * stations' shared store too, as a station daemon's journal.find does (findOnStation).
 */
import { parseArgs } from "node:util";
import { otpbError } from "../../lib/errors.js";
import {
  DEFAULT_FIND_WINDOW,
  MAX_FIND_CODES,
  MAX_FIND_WINDOW,
  findOnStation,
  findToken,
  journalSeedSource,
  type FindMatch,
  type FindRequest,
  type FindResult,
  type SkippedBatch,
} from "../../service/find.js";
import { Journal } from "../../store/journal.js";
import type { CommandIo } from "../io.js";
import { daemonFor } from "../daemon-link.js";
import { JOURNAL_KEY_HELP, JOURNAL_KEY_OPTIONS, dataDirFrom, journalKeyFrom } from "../journal-key.js";
import { parseInteger } from "./code.js";
import type { StationValues } from "./station-batch.js";

export const FIND_HELP = `Usage: otpbridge find CODE [NEXT [NEXT]] [--batch ID] [--window N] [--at TIME] [--json]
                      [--data-dir DIR] [--store URL --batch-passphrase-...]

Finds the token that shows CODE: every committed seed of the journal (of batch ID, or of every
batch) is searched for it within N time steps either side of TIME. Prints each match: batch, item
number (from 1), serial, label and how many steps the token's clock is off. Seeds are never printed.

A 6-digit code is shown by chance by about one seed in a million per step: over 100,000 seeds and
±2 steps, about one false match in two searches. When several tokens match, read the code the
token shows next (after it changes) and run find again with both codes: CODE NEXT.

  --batch    search only this batch
  --window   steps either side, 0 to ${MAX_FIND_WINDOW} (default ${DEFAULT_FIND_WINDOW})
  --at       when CODE was read: Unix seconds or an ISO 8601 date (default now)
  --json     the whole result as JSON
  --data-dir the daemon's data directory (default $XDG_DATA_HOME/otpbridge); while a daemon serves
             it, the daemon searches (its journal.find) and no journal key is read here
  --store URL  postgres://... : also search the stations' shared store (docs/STATIONS.md): every
             shared batch the batch passphrase opens (those it does not are named on stderr), and
             this machine's journal; with --batch, that shared batch alone (ids as batch list
             --store shows them). While a station daemon (started with --store) serves the data
             directory, it searches, with its own passphrase
  --batch-passphrase-stdin | --batch-passphrase-file PATH | --batch-passphrase-env NAME
             with --store: the passphrase the shared batches are sealed under

Exit status: 0 one or more tokens found (several: the next code is asked for on stderr), 3 none.

${JOURNAL_KEY_HELP}`;

const OPTIONS = {
  "data-dir": { type: "string" },
  batch: { type: "string" },
  window: { type: "string" },
  at: { type: "string" },
  json: { type: "boolean" },
  ...JOURNAL_KEY_OPTIONS,
  // As `batch --store` takes them (station-batch.ts), declared here so that a find without --store
  // loads no PostgreSQL client.
  store: { type: "string" },
  "batch-passphrase-stdin": { type: "boolean" },
  "batch-passphrase-file": { type: "string" },
  "batch-passphrase-env": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `otpbridge find`. */
export async function runFind(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help || positionals.length === 0) {
    io.out(FIND_HELP);
    return values.help ? 0 : 2;
  }
  if (positionals.length > MAX_FIND_CODES) {
    throw otpbError("INVALID_INPUT", `give at most ${MAX_FIND_CODES} codes: the one the token shows, then the ones it shows next`);
  }
  const request = {
    codes: positionals,
    window: values.window === undefined ? DEFAULT_FIND_WINDOW : parseInteger(values.window, "--window", 0, MAX_FIND_WINDOW),
    time: values.at === undefined ? Math.floor(Date.now() / 1000) : parseTime(values.at),
    ...(values.batch === undefined ? {} : { batchId: parseInteger(values.batch, "--batch", 1, Number.MAX_SAFE_INTEGER) }),
  };
  const passphraseGiven =
    values["batch-passphrase-stdin"] === true || values["batch-passphrase-file"] !== undefined || values["batch-passphrase-env"] !== undefined;
  if (values.store === undefined && passphraseGiven) throw otpbError("INVALID_INPUT", "--batch-passphrase-... needs --store (the shared batches live there)");
  const key = () => journalKeyFrom(values, io.readStdin);
  const result = await search(dataDirFrom(values), request, key, values.store === undefined ? undefined : { ...values, store: values.store }, io);
  if (values.json) io.out(JSON.stringify(result, null, 2));
  else for (const match of result.matches) io.out(formatMatch(match));
  for (const { batchId } of result.skipped ?? []) {
    io.err(`shared batch ${batchId} not searched: its seeds are sealed under another passphrase`);
  }
  const steps = `±${result.window} step${result.window === 1 ? "" : "s"}`;
  if (result.matches.length === 0) {
    io.err(
      `no committed seed shows ${positionals.length > 1 ? "these codes" : "this code"} within ${steps} (${result.searched} seeds searched); check the token's clock or widen --window`,
    );
    return 3;
  }
  if (result.ambiguous) {
    io.err(
      `${result.matches.length} tokens match (${result.expectedFalseMatches.toPrecision(2)} expected by chance): read the code the token shows next, after it changes, and run otpbridge find ${positionals.join(" ")} NEXT`,
    );
  }
  return 0;
}

type StoreValues = StationValues & { store: string };
/** A station's answer (journal.find on a daemon started with --store, or findOnStation here) names the shared batches it left out. */
type SearchResult = FindResult & { skipped?: SkippedBatch[] };

/** The search, by the daemon serving `dataDir` (journal.find) or here: the journal, and with --store the shared store. */
async function search(
  dataDir: string,
  request: FindRequest,
  key: () => ReturnType<typeof journalKeyFrom>,
  shared: StoreValues | undefined,
  io: CommandIo,
): Promise<SearchResult> {
  const daemon = await daemonFor(dataDir);
  if (daemon !== undefined) {
    let result: SearchResult;
    try {
      result = await daemon.call<SearchResult>("journal.find", request);
    } finally {
      await daemon.close();
    }
    if (shared !== undefined && result.skipped === undefined) {
      throw otpbError(
        "INVALID_INPUT",
        `the daemon serving ${dataDir} is not a station (it was started without --store), so it searches its journal only: stop it to search the shared store from here, or start it with --store`,
      );
    }
    return result;
  }
  if (shared !== undefined) return searchStation(dataDir, request, key, shared, io);
  const journal = Journal.open({ dataDir, key: key() });
  try {
    return await findToken([journalSeedSource(journal)], request);
  } finally {
    journal.close();
  }
}

/** findOnStation here: the journal is opened only when every batch is searched. */
async function searchStation(
  dataDir: string,
  request: FindRequest,
  key: () => ReturnType<typeof journalKeyFrom>,
  values: StoreValues,
  io: CommandIo,
): Promise<SearchResult> {
  const { batchPassphrase } = await import("./station-batch.js");
  const { BatchKeyring, StationStore } = await import("../../store/stations/index.js");
  const passphrase = batchPassphrase(values, io.readStdin);
  // A search only reads: it does not register this machine as a station.
  const store = await StationStore.connect({ url: values.store, register: false });
  const keyring = new BatchKeyring(store, passphrase);
  let journal: Journal | undefined;
  try {
    const openJournal = () => {
      journal = Journal.open({ dataDir, key: key() });
      return journalSeedSource(journal);
    };
    return await findOnStation(openJournal, keyring, request);
  } finally {
    journal?.close();
    await keyring.close();
    await store.close();
  }
}

function formatMatch(m: FindMatch): string {
  const clock = m.offset === 0 ? "on time" : `${Math.abs(m.offset)} step${Math.abs(m.offset) === 1 ? "" : "s"} ${m.offset < 0 ? "behind" : "ahead"}`;
  // A station's batch ids are the shared store's: "shared batch 3" and the journal's "batch 3" differ.
  const batch = m.source === "stations" ? "shared batch" : "batch";
  return `${batch} ${m.batchId}  item ${m.item}  serial ${m.serial}  ${m.label ?? "(no label)"}  ${clock}`;
}

/** Unix seconds, or an ISO 8601 date with a time zone. */
function parseTime(text: string): number {
  if (/^\d+$/.test(text)) return parseInteger(text, "--at", 0, Number.MAX_SAFE_INTEGER);
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0)
    throw otpbError("INVALID_INPUT", "--at must be Unix seconds or an ISO 8601 date with a time zone, e.g. 2026-12-07T09:30:00Z");
  return Math.floor(ms / 1000);
}
