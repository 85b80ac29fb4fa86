/**
 * `otpbridge find CODE [NEXT...]`: which token shows this code (src/service/find.ts). Like `batch`,
 * it opens the journal itself while no daemon serves the data directory, and asks the daemon
 * (journal.find) while one does: the daemon holds the journal then.
 */
import { parseArgs } from "node:util";
import { otpbError } from "../../lib/errors.js";
import {
  DEFAULT_FIND_WINDOW,
  MAX_FIND_CODES,
  MAX_FIND_WINDOW,
  findToken,
  journalSeedSource,
  type FindMatch,
  type FindRequest,
  type FindResult,
} from "../../service/find.js";
import { Journal } from "../../store/journal.js";
import type { CommandIo } from "../io.js";
import { daemonFor } from "../daemon-link.js";
import { JOURNAL_KEY_HELP, JOURNAL_KEY_OPTIONS, dataDirFrom, journalKeyFrom } from "../journal-key.js";
import { parseInteger } from "./code.js";

export const FIND_HELP = `Usage: otpbridge find CODE [NEXT [NEXT]] [--batch ID] [--window N] [--at TIME] [--json]
                      [--data-dir DIR]

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

Exit status: 0 one or more tokens found (several: the next code is asked for on stderr), 3 none.

${JOURNAL_KEY_HELP}`;

const OPTIONS = {
  "data-dir": { type: "string" },
  batch: { type: "string" },
  window: { type: "string" },
  at: { type: "string" },
  json: { type: "boolean" },
  ...JOURNAL_KEY_OPTIONS,
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
  const result = await search(dataDirFrom(values), request, () => journalKeyFrom(values, io.readStdin));
  if (values.json) io.out(JSON.stringify(result, null, 2));
  else for (const match of result.matches) io.out(formatMatch(match));
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

/** The search, by the daemon serving `dataDir` (journal.find) or on the journal opened here. */
async function search(dataDir: string, request: FindRequest, key: () => ReturnType<typeof journalKeyFrom>): Promise<FindResult> {
  const daemon = await daemonFor(dataDir);
  if (daemon !== undefined) {
    try {
      return await daemon.call<FindResult>("journal.find", request);
    } finally {
      await daemon.close();
    }
  }
  const journal = Journal.open({ dataDir, key: key() });
  try {
    return await findToken([journalSeedSource(journal)], request);
  } finally {
    journal.close();
  }
}

function formatMatch(m: FindMatch): string {
  const clock = m.offset === 0 ? "on time" : `${Math.abs(m.offset)} step${Math.abs(m.offset) === 1 ? "" : "s"} ${m.offset < 0 ? "behind" : "ahead"}`;
  return `batch ${m.batchId}  item ${m.item}  serial ${m.serial}  ${m.label ?? "(no label)"}  ${clock}`;
}

/** Unix seconds, or an ISO 8601 date with a time zone. */
function parseTime(text: string): number {
  if (/^\d+$/.test(text)) return parseInteger(text, "--at", 0, Number.MAX_SAFE_INTEGER);
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(text) ? Date.parse(text) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0)
    throw otpbError("INVALID_INPUT", "--at must be Unix seconds or an ISO 8601 date with a time zone, e.g. 2026-12-07T09:30:00Z");
  return Math.floor(ms / 1000);
}
