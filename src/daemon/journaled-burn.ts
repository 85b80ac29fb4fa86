/**
 * One `token.burn` through the journal, across the hold-still attempts of its core call: the seed is
 * claimed for the token's serial (a committed transaction) before any byte that writes goes to the
 * token, and the claim, the burn and the journal's marks happen once however many times the token
 * slips out of the field. A retry opens a session that must answer with the same serial, burns
 * again only if the burn did not go through (every burn step is safe to repeat, `safeToRepeat`),
 * and otherwise only reads the clock back.
 */
import { SingleProfileSession, type BurnResult, type DisplaySeconds, type SingleProfileSettings } from "../drivers/single-profile.js";
import { describeDeviceDrift } from "../doctor/index.js";
import { otpbError, OtpbridgeError } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import type { Journal } from "../store/journal.js";
import type { ClaimedItem } from "../store/types.js";
import type { ApduTransport } from "../transports/types.js";

export interface BurnRequest {
  algorithm: SingleProfileSettings["algorithm"];
  period: SingleProfileSettings["period"];
  display: DisplaySeconds;
  /** The client's seed (the caller zeroes it); absent: the journal draws one. */
  seed?: Uint8Array;
  label?: string;
}

/** What the burn produced, before the journal's commit. */
interface Attempted extends BurnResult {
  clock: { driftSeconds: number; message: string };
}

export interface JournaledBurnResult extends Attempted {
  journal: { batchId: number; itemId: number; state: string };
}

/** See the module comment. Use once: `run(() => core.call(..., (link) => burn.attempt(transport)))`. */
export class JournaledBurn {
  readonly #journal: Journal;
  readonly #log: Logger;
  readonly #request: BurnRequest;
  #claim: ClaimedItem | undefined;
  #batchId = 0;
  #burned: BurnResult | undefined;

  constructor(services: { journal: Journal; log: Logger }, request: BurnRequest) {
    this.#journal = services.journal;
    this.#log = services.log;
    this.#request = request;
  }

  /**
   * One attempt on a fresh link to the token.
   * @throws OtpbridgeError as SingleProfileSession.open/burn/readInfo (CARD_REMOVED {swapped} for
   *   another token on a retry), ITEM_STATE, JOURNAL_FULL / JOURNAL_IO.
   */
  async attempt(transport: ApduTransport): Promise<Attempted> {
    const expectSerial = this.#claim?.item.serial ?? undefined;
    const session = await SingleProfileSession.open(transport, { logger: this.#log, ...(expectSerial ? { expectSerial } : {}) });
    const claim = (this.#claim ??= this.#claimFor(session));
    const { algorithm, period, display } = this.#request;
    if (this.#burned === undefined) {
      this.#burned = await session.burn({ seed: claim.seed, algorithm, period, display });
      this.#journal.markBurned(claim.item.id);
    }
    // The token runs on its own clock from here: its drift is what the operator is told (issue #7).
    const after = await session.readInfo();
    return { ...this.#burned, clock: describeDeviceDrift(after.clock, Date.now()) };
  }

  /**
   * Runs the attempts (`call`), then commits the item; on failure, fails it and says so in the
   * error's `detail.journal`. The claimed seed is zeroed either way.
   */
  async run(call: () => Promise<Attempted>): Promise<JournaledBurnResult> {
    try {
      const result = await call();
      const item = this.#claim!.item;
      // The token's code cannot be read back (§2.11): the operator compares the codes shown.
      this.#journal.markVerified(item.id, { checked: false });
      const done = this.#journal.commit(item.id);
      return { ...result, journal: { batchId: this.#batchId, itemId: item.id, state: done.state } };
    } catch (error) {
      const claim = this.#claim;
      if (claim !== undefined) {
        const failed = this.#journal.fail(claim.item.id, error instanceof Error ? error.message.slice(0, 400) : "burn failed");
        if (error instanceof OtpbridgeError) Object.assign(error.detail, { journal: { batchId: this.#batchId, itemId: claim.item.id, state: failed.state } });
      }
      throw error;
    } finally {
      this.#claim?.seed.fill(0);
    }
  }

  #claimFor(session: SingleProfileSession): ClaimedItem {
    const { serial, model } = session.info();
    const { algorithm, period, seed, label } = this.#request;
    const batch = this.#journal.createBatch({
      name: `token.burn ${serial}`, defaults: { algorithm, period, digits: 6 },
      items: [{ ...(seed !== undefined ? { seed } : {}), ...(label !== undefined ? { label } : {}) }],
    });
    this.#batchId = batch.id;
    this.#journal.setBatchState(batch.id, "start");
    // A one-off burn replaces whatever an earlier burn of this serial left in the journal.
    const claim = this.#journal.claimNext(batch.id, { serial, manufacturer: "Token2", model: model.name }, { reburn: true });
    if (!("seed" in claim)) throw otpbError("ITEM_STATE", `the journal did not hand out an item (${claim.outcome})`);
    return claim;
  }
}
