/**
 * The one burn of a single-profile token, the same for `otpbridge burn`, the API's `token.burn` and
 * every batch tap: identify → (host clock) → claim in the journal → burn while holding still → read
 * the clock back → verify → commit. What differs between them is only which item the token claims
 * (a one-off burn makes a one-item batch; a batch tap takes the batch's next item) and how a link to
 * the token is opened (the daemon core's session, or the device manager's reader).
 *
 * What the journal keeps (the same rule for every front end, docs/ARCHITECTURE.md "What the journal
 * keeps"):
 * - the item, with its seed sealed, is bound to the token's serial in a committed transaction
 *   BEFORE any byte that writes goes to the token (so a crash never leaves a token holding a seed the
 *   journal lacks);
 * - after the seed write the item is `burned`; after the clock read back within `tolerance` seconds
 *   of the host it is `verified`, then `committed`;
 * - a link failure (card pulled, reader gone, pcscd gone) or a journal write failing after the claim
 *   leaves the item in flight: the next claim by the same token resumes it with the same seed;
 * - a refusal by the token or a clock read back off by more than `tolerance` fails the item;
 * - a seed the caller supplied is kept like a generated one unless the caller asks
 *   (`keepSeed: false`): then the sealed seed is erased once the item is committed, and the record
 *   (serial, model, settings, states) stays.
 * A retry after the token slipped out neither claims nor burns twice: the claim and the burn that
 * went through are kept across attempts.
 */
import { PERIODS, SingleProfileSession, type BurnResult, type DisplaySeconds, type SingleProfileSettings } from "../drivers/single-profile.js";
import { describeDeviceDrift } from "../doctor/index.js";
import { SINGLE_PROFILE_LIMITS } from "../input/capabilities.js";
import { detailOf, otpbError, reasonOf, type Reason } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import type { BatchInput, BatchRecord, ClaimedItem, ClaimOptions, ClaimResult, ItemRecord, TokenRef } from "../store/types.js";
import type { ApduTransport } from "../transports/types.js";

/** Largest |token clock − host clock| after a burn that verification accepts, in seconds. */
export const CLOCK_TOLERANCE_SECONDS = 2;

/** A store's answer: at once (the local SQLite journal) or later (the stations' shared store on PostgreSQL). */
export type Awaitable<T> = T | Promise<T>;

/** The journal writes a burn makes (src/store/journal.ts's Journal has them; another store can too). */
export interface BurnRecords {
  /**
   * A store shared by several stations must know that a write starts before its first byte, so that
   * its sweeper never hands the item to another token (docs/STATIONS.md); the local journal needs no
   * such step (its claim already says the same).
   */
  beginWrite?(itemId: number): Awaitable<unknown>;
  markBurned(itemId: number): Awaitable<ItemRecord>;
  markVerified(itemId: number, verification: { checked: boolean }): Awaitable<ItemRecord>;
  commit(itemId: number): Awaitable<ItemRecord>;
  fail(itemId: number, reason: string): Awaitable<ItemRecord>;
  /** Absent in a store that keeps every seed for its export (the stations' shared batches). */
  forgetSeed?(itemId: number): Awaitable<ItemRecord>;
}

export interface BurnPlan {
  records: BurnRecords;
  log: Logger;
  display: DisplaySeconds;
  tolerance: number;
  /** The item this token takes (committed before anything is written to the token). */
  claim: (token: TokenRef) => Awaitable<ClaimResult>;
  /**
   * Runs `attempt` on a fresh link to the token, and again when the token slips out of the field
   * and the same serial comes back (hold-still, src/drivers/hold-still.ts).
   */
  run: (attempt: (transport: ApduTransport) => Promise<BurnOutcome>) => Promise<BurnOutcome>;
  /** The serial the token must answer with (a retry always checks it against the first answer). */
  expectSerial?: string;
  /**
   * Called once the token is identified, before the claim: the host clock check; for a one-off
   * burn on a station, the shared store's word that the token is in none of its batches.
   */
  beforeClaim?: (token: TokenRef) => Promise<void>;
  /** Erase the sealed seed once committed (a caller-supplied seed the caller keeps itself). */
  forgetSeed?: boolean;
}

/** The token, identified. */
interface Identified {
  serial: string;
  model: string;
}

export type BurnOutcome =
  | (Identified & {
      outcome: "committed";
      item: ItemRecord;
      /** The claim resumed an item in flight or re-burned one. */
      resumed: boolean;
      burn: BurnResult;
      /** The token's clock read back after the burn. */
      clock: { driftSeconds: number; message: string };
    })
  | (Identified & { outcome: "not-taken"; claim: Exclude<ClaimResult, ClaimedItem> });

/**
 * What the journal kept of a burn that failed after its claim (the error's `detail.journal`): the
 * item left in flight (`claimed`, `burned`, `verified`: the same token resumes it) or `failed`.
 */
export interface BurnFailure {
  batchId: number;
  itemId: number;
  position: number;
  state: ItemRecord["state"];
}

/** Failures of the link or of the journal after the claim: the item stays in flight and resumes. */
const INTERRUPTING: ReadonlySet<Reason> = new Set<Reason>([
  "CARD_REMOVED",
  "READER_GONE",
  "PCSC_UNAVAILABLE",
  "DEVICE_BUSY",
  "TRANSPORT_CLOSED",
  "JOURNAL_FULL",
  "JOURNAL_IO",
  // The stations' server went away, or another station took the item over: the token is resumed where it is tapped next.
  "STORE_UNAVAILABLE",
  "LEASE_LOST",
]);

/**
 * Burns one token (see the module comment).
 * @throws OtpbridgeError from identification, `beforeClaim` and the claim (nothing was written to
 *   the token or the journal); after the claim, the burn's error with `detail.journal` =
 *   {@link BurnFailure} (what the journal kept).
 */
export async function burnToken(plan: BurnPlan): Promise<BurnOutcome> {
  let claimed: ClaimedItem | undefined;
  /** The claimed item as the journal has it now. */
  let latest: ItemRecord | undefined;
  let burned: BurnResult | undefined;
  try {
    return await plan.run(async (transport) => {
      const expectSerial = claimed?.item.serial ?? plan.expectSerial;
      // Another token in the reader (swapped during a wait, or before the first try) is refused: CARD_REMOVED {swapped}.
      const session = await SingleProfileSession.open(transport, { logger: plan.log, ...(expectSerial !== undefined ? { expectSerial } : {}) });
      const { serial, model } = session.info;
      const token = { serial, model: model.name };
      if (claimed === undefined) {
        const ref = { serial, manufacturer: "Token2", model: model.name };
        await plan.beforeClaim?.(ref);
        // The claim is committed before anything that writes is sent.
        const claim = await plan.claim(ref);
        if (!("seed" in claim)) return { ...token, outcome: "not-taken", claim };
        claimed = claim;
        latest = claim.item;
      }
      const item = claimed.item;
      const period = item.period as (typeof PERIODS)[number];
      if (!(SINGLE_PROFILE_LIMITS.digits as readonly number[]).includes(item.digits) || !PERIODS.includes(period)) {
        // Batch input is checked at creation; an item made otherwise is refused here, unburned.
        throw otpbError(
          "NOT_BURNABLE",
          `item ${item.id} asks for ${item.digits} digits every ${item.period} s; single-profile tokens show 6 digits every 30 or 60 s`,
        );
      }
      if (burned === undefined) {
        await plan.records.beginWrite?.(item.id);
        burned = await session.burn({ seed: claimed.seed, algorithm: item.algorithm, period, display: plan.display });
        latest = await plan.records.markBurned(item.id);
      }
      // The token runs on its own clock from here: read it back (§2.4) before calling the item good.
      const after = await session.readInfo();
      if (Math.abs(after.driftSeconds) > plan.tolerance) {
        throw otpbError("VERIFY_MISMATCH", `the token's clock reads ${after.driftSeconds} s from the host's after the burn (more than ${plan.tolerance} s)`, {
          detail: { driftSeconds: after.driftSeconds },
        });
      }
      // The token's code cannot be read back (§2.11): the operator compares the codes shown.
      latest = await plan.records.markVerified(item.id, { checked: false });
      latest = await plan.records.commit(item.id);
      if (plan.forgetSeed === true) {
        if (plan.records.forgetSeed === undefined) throw otpbError("INTERNAL", "this store keeps every seed; it cannot forget one");
        latest = await plan.records.forgetSeed(item.id);
      }
      return {
        ...token,
        outcome: "committed",
        item: latest,
        resumed: claimed.outcome !== "claimed",
        burn: burned,
        clock: describeDeviceDrift(after.clock, Date.now()),
      };
    });
  } catch (error) {
    if (latest === undefined) throw error;
    const kept = await settle(plan, latest, error);
    const journal: BurnFailure = { batchId: kept.batchId, itemId: kept.id, position: kept.position, state: kept.state };
    if (reasonOf(error) !== "INTERNAL") {
      // An error with a reason has a detail (OtpbridgeError or an input check's): the record goes there.
      Object.assign(detailOf(error), { journal });
      throw error;
    }
    throw otpbError("INTERNAL", error instanceof Error ? error.message : "the burn failed", { cause: error, detail: { journal } });
  } finally {
    claimed?.seed.fill(0);
  }
}

/** The item as the journal keeps it after a burn that failed past its claim (the module comment's rule). */
async function settle(plan: BurnPlan, item: ItemRecord, error: unknown): Promise<ItemRecord> {
  const reason = reasonOf(error);
  if (INTERRUPTING.has(reason)) {
    plan.log.warn("burn interrupted; the same token resumes it", { itemId: item.id, reason });
    return item;
  }
  try {
    const failed = await plan.records.fail(item.id, error instanceof Error ? error.message.slice(0, 400) : "the burn failed");
    plan.log.warn("burn failed", { itemId: item.id, reason });
    return failed;
  } catch (failError) {
    // The item stays in flight: the next tap of this token resumes it with the same seed.
    plan.log.error("burn: could not record the failure", { itemId: item.id, error: failError });
    return item;
  }
}

/** The journal's record of a failed burn, when `error` carries one. */
export function burnFailureOf(error: unknown): BurnFailure | undefined {
  return detailOf(error).journal as BurnFailure | undefined;
}

/** The journal a one-off burn needs: it makes a one-item batch for the token (Journal has it). */
export interface OneOffRecords extends BurnRecords {
  createBatch(input: BatchInput): BatchRecord;
  setBatchState(batchId: number, action: "start"): BatchRecord;
  claimNext(batchId: number, token: TokenRef, options?: ClaimOptions): ClaimResult;
}

export interface OneOffBurn extends Omit<BurnPlan, "records" | "claim" | "tolerance"> {
  records: OneOffRecords;
  algorithm: SingleProfileSettings["algorithm"];
  period: SingleProfileSettings["period"];
  /** The caller's seed (the caller zeroes it); absent: the journal draws one. */
  seed?: Uint8Array;
  label?: string;
}

/** What `otpbridge burn` and `token.burn` return. */
export interface OneOffResult extends BurnResult {
  clock: { driftSeconds: number; message: string };
  journal: { batchId: number; itemId: number; state: string };
}

/**
 * `otpbridge burn` and the API's `token.burn`: one token, through the journal as a batch item (a
 * one-item batch named `token.burn SERIAL`, claimed with reburn: a one-off burn replaces whatever an
 * earlier burn of this serial left in the journal).
 * @throws OtpbridgeError as {@link burnToken}; ITEM_STATE if the journal hands out no item.
 */
export async function burnOneToken(request: OneOffBurn): Promise<OneOffResult> {
  const { records, algorithm, period, seed, label } = request;
  const done = await burnToken({
    ...request,
    tolerance: CLOCK_TOLERANCE_SECONDS,
    claim: (token) => {
      const batch = records.createBatch({
        name: `token.burn ${token.serial}`,
        defaults: { algorithm, period, digits: 6 },
        items: [{ ...(seed !== undefined ? { seed } : {}), ...(label !== undefined ? { label } : {}) }],
      });
      records.setBatchState(batch.id, "start");
      return records.claimNext(batch.id, token, { reburn: true });
    },
  });
  if (done.outcome !== "committed") throw otpbError("ITEM_STATE", `the journal did not hand out an item (${done.claim.outcome})`);
  return { ...done.burn, clock: done.clock, journal: { batchId: done.item.batchId, itemId: done.item.id, state: done.item.state } };
}
