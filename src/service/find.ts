/**
 * Which token shows this code? A helpdesk holds an unlabelled token, or a user reads a code over the
 * phone: every committed seed (of one batch, or all) is searched for the code within a window of
 * time steps around now, and every match is returned with its batch, item and serial, never a seed.
 *
 * Seeds come from {@link SeedSource}s: the local journal, and on a station (a daemon or CLI given
 * the stations' shared store) each shared batch its passphrase opens, beside the journal. A source
 * hands over its committed items with their seeds still sealed; the seeds are decrypted for the
 * search without their tags (one AES context for all, not one a seed), each copied straight into a
 * key slot of the WebAssembly core and zeroed before the next (ResidentKeySet.loadEach), the search
 * runs over the resident HMAC states, which are zeroed when it ends, and each match is confirmed by
 * opening its seed again with its tag checked before it is reported. Items are searched in groups
 * of one algorithm and period (a period sets the counter); only items with as many digits as the
 * code can show it.
 *
 * A 6-digit code collides by chance about once per 10^6 seed-steps: over 100,000 seeds and a window
 * of ±2 steps, about one false match in two searches. Each further code the token shows next must
 * then match at the next step as well, which divides the odds by 10^6 again: `ambiguous` asks for it.
 */
import { ResidentKeySet, hotp, totpCounter, type WindowMatch } from "../crypto/index.js";
import { adigits, aint } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import type { CommittedItemRef, SealedCommittedItems, TotpAlgorithm } from "../store/types.js";

/** Most consecutive codes one search takes: two settle a collision, a third is for the very unlucky. */
export const MAX_FIND_CODES = 3;
/** Default half-width of the window in steps: ±2 covers a token a minute off at 30 s, and the reading. */
export const DEFAULT_FIND_WINDOW = 2;
/** Widest window: beyond ±10 steps false matches multiply and a token that far off needs a clock sync. */
export const MAX_FIND_WINDOW = 10;

/**
 * Where committed seeds are kept. `committed` returns the committed items of batch `batchId` (every
 * batch when undefined) with their seeds sealed; the search opens them one at a time. A store that
 * does not know the batch returns no items rather than failing, so one search can span several
 * stores; the journal, which numbers the batches, throws BATCH_NOT_FOUND for an unknown one.
 */
export interface SeedSource {
  /** Names the store in each match: "journal", "stations". */
  readonly name: string;
  committed(batchId: number | undefined): SealedCommittedItems | Promise<SealedCommittedItems>;
}

/** The journal as a seed source. */
export function journalSeedSource(journal: { sealedCommitted(batchId?: number): SealedCommittedItems }): SeedSource {
  return { name: "journal", committed: (batchId) => journal.sealedCommitted(batchId) };
}

/**
 * One shared batch of the stations' store (src/store/stations: SharedBatch#sealedCommitted) as a
 * seed source: no items for any other batch id. Its batch ids are the store's, not the journal's.
 */
export function sharedBatchSeedSource(batch: { readonly batchId: number; sealedCommitted(): Promise<SealedCommittedItems> }): SeedSource {
  return { name: "stations", committed: (batchId) => (batchId === undefined || batchId === batch.batchId ? batch.sealedCommitted() : NO_ITEMS) };
}

const NO_ITEMS: SealedCommittedItems = {
  items: [],
  openSeed: (index) => {
    throw otpbError("INVALID_INPUT", `openSeed: no committed item at index ${index}`);
  },
  openForSearch: (indices) => {
    if (indices.length > 0) throw otpbError("INVALID_INPUT", "openForSearch: no committed items");
  },
};

/** A shared batch a station's search left out: its seeds are sealed under another passphrase. */
export interface SkippedBatch {
  batchId: number;
  reason: string;
}

/** The shared batches a station's search reads (src/store/stations: BatchKeyring). */
export interface SharedBatches {
  forSearch(batchId: number | undefined): Promise<{
    batches: ReadonlyArray<Parameters<typeof sharedBatchSeedSource>[0]>;
    skipped: SkippedBatch[];
  }>;
}

export interface FindRequest {
  /** The code the token shows, then optionally the codes it shows next, one step apart (1 to 3). */
  codes: readonly string[];
  /** Search only this batch; default every batch. */
  batchId?: number;
  /** Steps either side of the step of `time`, 0 to MAX_FIND_WINDOW; default 2. */
  window?: number;
  /** When the first code was read, Unix seconds; default now. */
  time?: number;
}

/** One token whose seed gives the code(s). */
export interface FindMatch {
  source: string;
  batchId: number;
  itemId: number;
  /** The item's number within its batch, counted from 1. */
  item: number;
  serial: string;
  label: string | null;
  algorithm: TotpAlgorithm;
  digits: number;
  period: number;
  /** Step of the first code minus the step of `time`: how far the token's clock is off, in steps. */
  offset: number;
}

export interface FindResult {
  matches: FindMatch[];
  /** Committed seeds searched (those with as many digits as the code). */
  searched: number;
  /** More than one match: ask for the code the token shows next and search again with both. */
  ambiguous: boolean;
  /** Matches expected by chance alone: searched × steps / 10^(digits × codes). */
  expectedFalseMatches: number;
  window: number;
  time: number;
}

/**
 * Searches every source for the token that shows `codes`.
 * @throws TypeError / RangeError (INVALID_INPUT) for codes that are not 1 to 3 strings of 4 to 10
 *   digits all of one length, a window outside 0..10, a time before 1970; whatever a source throws
 *   (BATCH_NOT_FOUND, SEED_TAMPERED, journal errors).
 * @example const { matches } = await findToken([journalSeedSource(journal)], { codes: ["287082"] });
 */
export async function findToken(sources: readonly SeedSource[], request: FindRequest): Promise<FindResult> {
  const { codes, digits, window, time } = checkedRequest(request);
  const matches: FindMatch[] = [];
  let searched = 0;
  for (const source of sources) {
    const sealed = await source.committed(request.batchId);
    for (const group of groupsOf(sealed.items, digits)) {
      searched += group.indices.length;
      for (const { key, offset } of searchGroup(sealed, group, codes, window, time)) {
        const item = sealed.items[group.indices[key]!]!;
        matches.push({
          source: source.name,
          batchId: item.batchId,
          itemId: item.itemId,
          item: item.position + 1,
          serial: item.serial,
          label: item.label,
          algorithm: item.algorithm,
          digits: item.digits,
          period: item.period,
          offset,
        });
      }
    }
  }
  matches.sort((a, b) => a.source.localeCompare(b.source) || a.batchId - b.batchId || a.item - b.item);
  return {
    matches,
    searched,
    ambiguous: matches.length > 1,
    window,
    time,
    expectedFalseMatches: (searched * (2 * window + 1)) / 10 ** (digits * codes.length),
  };
}

/**
 * A station's search (journal.find on a daemon started with --store, `otpbridge find --store`): with
 * `batchId`, that shared batch alone (a station's batch ids are the store's, as in batch.list);
 * without, every shared batch the passphrase opens and the local journal's batches (matches name
 * their `source`), and in `skipped` the shared batches sealed under another passphrase. `journal`
 * is asked for only when every batch is searched.
 * @throws as {@link findToken}; BATCH_NOT_FOUND, WRONG_PASSPHRASE (the `batchId` asked for),
 *   STORE_UNAVAILABLE.
 */
export async function findOnStation(journal: () => SeedSource, shared: SharedBatches, request: FindRequest): Promise<FindResult & { skipped: SkippedBatch[] }> {
  checkedRequest(request);
  const { batches, skipped } = await shared.forSearch(request.batchId);
  const sources = [...(request.batchId === undefined ? [journal()] : []), ...batches.map(sharedBatchSeedSource)];
  return { ...(await findToken(sources, request)), skipped };
}

/** The request checked, with the window and time filled in. */
function checkedRequest(request: FindRequest): { codes: readonly string[]; digits: number; window: number; time: number } {
  const { codes } = request;
  if (!Array.isArray(codes) || codes.length < 1 || codes.length > MAX_FIND_CODES) {
    throw otpbError("INVALID_INPUT", `codes must be a list of 1 to ${MAX_FIND_CODES} codes: the one the token shows, then the ones it shows next`);
  }
  codes.forEach((code, i) => adigits(code, `codes[${i}]`, 4, 10));
  const digits = codes[0]!.length;
  if (codes.some((code) => code.length !== digits)) throw otpbError("INVALID_INPUT", "every code must have as many digits as the first");
  if (request.batchId !== undefined) aint(request.batchId, "batchId", 1, Number.MAX_SAFE_INTEGER);
  const window = request.window ?? DEFAULT_FIND_WINDOW;
  aint(window, "window", 0, MAX_FIND_WINDOW);
  const time = request.time ?? Math.floor(Date.now() / 1000);
  aint(time, "time", 0, Number.MAX_SAFE_INTEGER);
  return { codes, digits, window, time };
}

interface Group {
  algorithm: TotpAlgorithm;
  period: number;
  /** Indices into the source's items. */
  indices: number[];
}

/** The items with `digits` digits, by algorithm and period. */
function groupsOf(items: readonly CommittedItemRef[], digits: number): Group[] {
  const groups = new Map<string, Group>();
  items.forEach((item, index) => {
    if (item.digits !== digits) return;
    const name = `${item.algorithm}/${item.period}`;
    let group = groups.get(name);
    if (group === undefined) {
      group = { algorithm: item.algorithm, period: item.period, indices: [] };
      groups.set(name, group);
    }
    group.indices.push(index);
  });
  return [...groups.values()];
}

/**
 * Loads the group's seeds into the core (decrypted together without their tags, each copied into its
 * key slot from a scratch array zeroed at once), then keeps the (key, offset) pairs that show codes[j]
 * at offset + j for every j, and reports only those whose seed, opened again with its tag checked,
 * gives the codes: a seed altered in the journal throws SEED_TAMPERED and never names a token.
 */
function searchGroup(sealed: SealedCommittedItems, group: Group, codes: readonly string[], window: number, time: number): WindowMatch[] {
  const set = ResidentKeySet.loadEach(group.algorithm, group.indices.length, (put) => sealed.openForSearch(group.indices, put));
  let found: WindowMatch[];
  const counter = totpCounter({ time, period: group.period });
  try {
    found = set.search(codes[0]!, counter, window);
    for (let j = 1; j < codes.length && found.length > 0; j++) {
      // The j-th next code, searched around the j-th next step: the same offset means the same clock.
      const next = new Set(set.search(codes[j]!, counter + j, window).map((m) => `${m.key}/${m.offset}`));
      found = found.filter((m) => next.has(`${m.key}/${m.offset}`));
    }
  } finally {
    set.release();
  }
  return found.filter(({ key, offset }) => {
    let confirmed = false;
    sealed.openSeed(group.indices[key]!, (seed) => {
      confirmed = codes.every((code, j) => hotp(group.algorithm, seed, counter + offset + j, code.length) === code);
    });
    return confirmed;
  });
}
