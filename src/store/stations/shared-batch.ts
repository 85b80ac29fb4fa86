/**
 * One shared batch opened with its passphrase: claims under a lease, and fenced updates.
 *
 * The order a station follows for each tap (the local journal records each step first, docs/STATIONS.md):
 *
 *   claim (bound to the serial, committed) → beginWrite → burn → markBurned → verify → markVerified → commit
 *
 * Every update after the claim names the lease's fence; a station whose lease was swept or taken over
 * gets LEASE_LOST and changes nothing. `beginWrite` is the line after which the item may never go back
 * to pending: a token may hold some of its bytes.
 */
import { atext } from "../input.js";
import { otpbError } from "../../lib/errors.js";
import { committedSeed, DEFAULT_MANUFACTURER } from "../rows.js";
import type { SeedVault } from "../seed-vault.js";
import type { CommittedItemRef, CommittedSeed, SealedCommittedItems, SerialConflict } from "../types.js";
import { sharedItemRecord, type SharedItemRow } from "./rows.js";
import { PROGRESS_CHANNEL, logChange, logEvent, type Db, type StationStore } from "./store.js";
import type { ClaimRequest, Lease, SharedClaimResult, SharedItemRecord, SharedItemState } from "./types.js";

/** States in which a token may be mid-burn or waiting for its tap: a tap of that token resumes the item. */
const RESUMABLE: readonly SharedItemState[] = ["claimed", "burned", "verified", "needs-check"];
const UNIQUE_VIOLATION = "23505";

export class SharedBatch {
  readonly batchId: number;
  readonly #store: StationStore;
  readonly #uid: Uint8Array;
  readonly #vault: SeedVault;

  constructor(store: StationStore, batchId: number, uid: Uint8Array, vault: SeedVault) {
    this.#store = store;
    this.batchId = batchId;
    this.#uid = uid;
    this.#vault = vault;
  }

  /**
   * Binds an item to the tapped token under a fresh lease, committed before this returns, and hands out
   * its seed. Same rules as the local journal's claimNext, across stations:
   * - the token's item is claimed/burned/verified/needs-check: `resumed` (same item, same seed), unless
   *   another station's lease on it is still running (`leased-elsewhere`);
   * - committed or failed: reported, unless `reburn`;
   * - the serial is live in another shared batch: `serial-in-other-batch`, unless `reburn`;
   * - otherwise the lowest pending item no other claimer holds (SKIP LOCKED), or `exhausted`.
   * @throws OtpbridgeError BATCH_STATE, SEED_TAMPERED, STORE_UNAVAILABLE (nothing claimed: do not burn).
   */
  async claim(request: ClaimRequest): Promise<SharedClaimResult> {
    atext(request.serial, "token.serial", 1, 64);
    if (request.reader !== undefined) atext(request.reader, "reader", 1, 200);
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#claimOnce(request);
      } catch (error) {
        // Two stations bound the same serial at once (the unique index refused the second): look again.
        if ((error as { code?: string }).code !== UNIQUE_VIOLATION || attempt >= 2) throw error;
      }
    }
  }

  /** claimed → claimed with the write started: from here on the item never returns to pending. */
  beginWrite(lease: Lease): Promise<SharedItemRecord> {
    return this.#fenced(lease, ["claimed"], "write-started", "write_started_at = coalesce(write_started_at, now())");
  }

  /** claimed (write started) → burned. */
  markBurned(lease: Lease): Promise<SharedItemRecord> {
    return this.#fenced(lease, ["claimed"], "burned", "state = 'burned', burned_at = now()", "write_started_at IS NOT NULL");
  }

  /** burned → verified; `checked`: whether the token's code was compared (kept in the event log). */
  markVerified(lease: Lease, verification: { checked: boolean }): Promise<SharedItemRecord> {
    return this.#fenced(lease, ["burned"], "verified", "state = 'verified', verified_at = now()", undefined, {
      checked: verification.checked === true,
    });
  }

  /** verified → committed; the lease ends. */
  commit(lease: Lease): Promise<SharedItemRecord> {
    return this.#fenced(lease, ["verified"], "committed", "state = 'committed', committed_at = now(), session = NULL, lease_expires_at = NULL");
  }

  /** claimed/burned/verified → failed, with a reason for the operator (no secrets); the lease ends. */
  fail(lease: Lease, reason: string): Promise<SharedItemRecord> {
    atext(reason, "reason", 1, 500);
    return this.#fenced(
      lease,
      ["claimed", "burned", "verified"],
      "failed",
      "state = 'failed', fail_reason = $3, session = NULL, lease_expires_at = NULL",
      undefined,
      { reason },
      [reason],
    );
  }

  /**
   * Settles an item from a station's outbox after the server was away: `committed` or `failed`, as
   * the station recorded locally for the token `serial`. Applies under the lease's fence as usual;
   * without it (the lease ran out and the sweeper sent the item to needs-check), a `committed` is
   * still accepted for the same serial, because the station verified that this token holds this
   * item's seed. Anything else (another station holds the item now) is LEASE_LOST.
   * @throws OtpbridgeError LEASE_LOST, ITEM_NOT_FOUND, STORE_UNAVAILABLE.
   */
  async settle(lease: Lease, serial: string, outcome: "committed" | "failed", reason = "failed while the shared store was away"): Promise<SharedItemRecord> {
    const store = this.#store;
    return store.tx(`settle item ${lease.itemId}`, async (db) => {
      const { rows } = await db.query<SharedItemRow>(
        `UPDATE otpb_items SET state = $3, session = NULL, lease_expires_at = NULL, updated_at = now(),
                committed_at = CASE WHEN $3 = 'committed' THEN now() ELSE committed_at END,
                fail_reason = CASE WHEN $3 = 'failed' THEN $5 ELSE NULL END
         WHERE id = $1 AND batch_id = $6 AND serial = $4 AND write_started_at IS NOT NULL
           AND ((fence = $2 AND state IN ('claimed', 'burned', 'verified')) OR (state = 'needs-check' AND $3 = 'committed'))
         RETURNING *`,
        [lease.itemId, lease.fence, outcome, serial, reason, this.batchId],
      );
      const row = rows[0];
      if (row === undefined) throw await refusal(db, lease, ["claimed", "burned", "verified", "needs-check"], outcome);
      await logChange(db, this.batchId, lease.itemId, store.station, `item.settled`, { serial, fence: lease.fence, outcome }, row.state);
      return sharedItemRecord(row);
    });
  }

  /**
   * Decrypts the committed items for an export and zeroes every seed when `use` returns or throws.
   * @throws OtpbridgeError SEED_TAMPERED, STORE_UNAVAILABLE; whatever `use` throws.
   */
  async withCommittedSeeds<T>(use: (items: CommittedSeed[]) => T | Promise<T>): Promise<T> {
    const { rows } = await this.#store.query<SharedItemRow & { issuer: string | null }>(
      "read committed items",
      `SELECT i.*, b.issuer FROM otpb_items i JOIN otpb_batches b ON b.id = i.batch_id
       WHERE i.batch_id = $1 AND i.state = 'committed' ORDER BY i.position`,
      [this.batchId],
    );
    const items: CommittedSeed[] = [];
    try {
      for (const row of rows) {
        items.push(committedSeed(row, row.issuer, this.#openSeed(row)));
      }
      return await use(items);
    } finally {
      for (const item of items) item.seed.fill(0);
    }
  }

  /**
   * The committed items with their seeds still sealed, for a search (src/service/find.ts): openSeed
   * checks the tag under the same binding as every other open (batch uid and item), openForSearch
   * runs GCM's counter mode alone from each row's own nonce, so an altered row can come out of the
   * search as a candidate but never past openSeed (SEED_TAMPERED). Only ciphertext is read here.
   * @throws OtpbridgeError STORE_UNAVAILABLE.
   */
  async sealedCommitted(): Promise<SealedCommittedItems> {
    const { rows } = await this.#store.query<SearchRow>(
      "read committed items for a search",
      `SELECT id, batch_id, position, label, serial, algorithm, digits, period, seed_nonce, seed_sealed
       FROM otpb_items WHERE batch_id = $1 AND state = 'committed' ORDER BY position`,
      [this.batchId],
    );
    const items = rows.map(
      (r): CommittedItemRef => ({
        itemId: r.id,
        batchId: r.batch_id,
        position: r.position,
        label: r.label,
        serial: r.serial,
        algorithm: r.algorithm,
        digits: r.digits,
        period: r.period,
      }),
    );
    const rowAt = (index: number, call: string): SearchRow => {
      const row = rows[index];
      if (row === undefined) throw otpbError("INVALID_INPUT", `${call}: no committed item at index ${index}`);
      return row;
    };
    return {
      items,
      openSeed: (index, use) => {
        const seed = this.#openSeed(rowAt(index, "openSeed"));
        try {
          use(seed);
        } finally {
          seed.fill(0);
        }
      },
      openForSearch: (indices, use) => {
        const picked = indices.map((index) => rowAt(index, "openForSearch"));
        this.#vault.openForSearch(picked.length, (k) => ({ nonce: picked[k]!.seed_nonce, sealed: picked[k]!.seed_sealed }), use);
      },
    };
  }

  /** Zeroes the batch key. */
  close(): void {
    this.#vault.destroy();
  }

  async #claimOnce(request: ClaimRequest): Promise<SharedClaimResult> {
    const store = this.#store;
    let seed: Uint8Array | undefined;
    try {
      return await store.tx(`claim an item of batch ${this.batchId} for token ${request.serial}`, async (db) => {
        const batch = await db.query<{ state: string }>("SELECT state FROM otpb_batches WHERE id = $1", [this.batchId]);
        const state = batch.rows[0]?.state;
        if (state !== "running") {
          throw otpbError("BATCH_STATE", `batch ${this.batchId} is ${state ?? "gone"}; only a running batch takes taps`, {
            detail: { batchId: this.batchId, state: state ?? null },
          });
        }
        const own = await db.query<SharedItemRow & { live: boolean }>(
          `SELECT *, lease_expires_at > now() AS live FROM otpb_items
           WHERE batch_id = $1 AND serial = $2 AND state <> 'superseded' FOR UPDATE`,
          [this.batchId, request.serial],
        );
        const mine = own.rows[0];
        if (mine !== undefined) {
          const resumable = RESUMABLE.includes(mine.state);
          if (resumable && mine.live === true && mine.session !== store.session && mine.station !== store.station) {
            return { outcome: "leased-elsewhere" as const, item: sharedItemRecord(mine) };
          }
          if (!resumable && request.reburn !== true) {
            const outcome = mine.state === "committed" ? "already-committed" : "previously-failed";
            await logEvent(db, this.batchId, mine.id, store.station, `tap.${outcome}`, { serial: request.serial });
            return { outcome, item: sharedItemRecord(mine) };
          }
          const outcome = resumable ? ("resumed" as const) : ("reburn" as const);
          seed = this.#openSeed(mine);
          const item = await this.#bind(db, mine.id, request);
          await logChange(
            db,
            this.batchId,
            mine.id,
            store.station,
            `item.${outcome}`,
            {
              serial: request.serial,
              from: mine.state,
              fence: item.fence,
            },
            "claimed",
          );
          return { outcome, item, lease: leaseOf(item), seed, superseded: [] };
        }

        const conflicts = (
          await db.query<{ id: number; batch_id: number; state: SharedItemState }>(
            `SELECT id, batch_id, state FROM otpb_items WHERE serial = $1 AND batch_id <> $2
             AND state IN ('claimed', 'burned', 'verified', 'committed', 'needs-check') ORDER BY id FOR UPDATE`,
            [request.serial, this.batchId],
          )
        ).rows.map((r): SerialConflict => ({ batchId: r.batch_id, itemId: r.id, state: r.state as SerialConflict["state"] }));
        if (conflicts.length > 0 && request.reburn !== true) {
          await logEvent(db, this.batchId, null, store.station, "tap.serial-in-other-batch", { serial: request.serial, conflicts });
          return { outcome: "serial-in-other-batch" as const, conflicts };
        }
        const next = await db.query<SharedItemRow>(
          `SELECT * FROM otpb_items WHERE batch_id = $1 AND state = 'pending'
           ORDER BY position LIMIT 1 FOR UPDATE SKIP LOCKED`,
          [this.batchId],
        );
        const row = next.rows[0];
        if (row === undefined) return { outcome: "exhausted" as const };
        for (const c of conflicts) {
          await db.query(
            `UPDATE otpb_items SET state = 'superseded', fail_reason = $2, session = NULL, lease_expires_at = NULL,
                    fence = nextval('otpb_fence'), updated_at = now() WHERE id = $1`,
            [c.itemId, `token ${request.serial} re-burned by batch ${this.batchId}`],
          );
          await logEvent(db, c.batchId, c.itemId, store.station, "item.superseded", { serial: request.serial, from: c.state, byBatch: this.batchId });
        }
        seed = this.#openSeed(row);
        const item = await this.#bind(db, row.id, request);
        await logChange(
          db,
          this.batchId,
          row.id,
          store.station,
          "item.claimed",
          {
            serial: request.serial,
            position: row.position,
            fence: item.fence,
            superseded: conflicts,
          },
          "claimed",
        );
        return { outcome: "claimed" as const, item, lease: leaseOf(item), seed, superseded: conflicts };
      });
    } catch (error) {
      // Rolled back, or not known to be committed: nothing may be burned, so the seed stays here.
      seed?.fill(0);
      throw error;
    }
  }

  /** (Re)binds an item to the token as `claimed` under a new lease and fence. */
  async #bind(db: Db, itemId: number, request: ClaimRequest): Promise<SharedItemRecord> {
    const store = this.#store;
    const { rows } = await db.query<SharedItemRow>(
      `UPDATE otpb_items SET serial = $2, manufacturer = coalesce($3, manufacturer, $4), model = coalesce($5, model),
              state = 'claimed', fail_reason = NULL, station = $6, session = $7, reader = $8,
              fence = nextval('otpb_fence'), lease_expires_at = now() + $9 * interval '1 millisecond',
              attempts = attempts + 1, claimed_at = now(), burned_at = NULL, verified_at = NULL,
              committed_at = NULL, updated_at = now()
       WHERE id = $1 RETURNING *`,
      [
        itemId,
        request.serial,
        request.manufacturer ?? null,
        DEFAULT_MANUFACTURER,
        request.model ?? null,
        store.station,
        store.session,
        request.reader ?? null,
        store.leaseMs,
      ],
    );
    return sharedItemRecord(rows[0]!);
  }

  /**
   * One fenced update: applies only while the row still carries `lease.fence` and is in one of `from`.
   * Otherwise nothing changes and the error says why: the fence moved on (LEASE_LOST) or the state.
   */
  async #fenced(
    lease: Lease,
    from: readonly SharedItemState[],
    kind: string,
    set: string,
    condition?: string,
    detail: object = {},
    extra: unknown[] = [],
  ): Promise<SharedItemRecord> {
    const store = this.#store;
    // Every step the station takes renews its lease, unless the step ends it.
    const renew = set.includes("lease_expires_at") ? "" : `, lease_expires_at = now() + ${Number(store.leaseMs)} * interval '1 millisecond'`;
    // One statement (so one round trip, and atomic on its own): the fenced update, its event and
    // its NOTIFY, which only exist when the update matched.
    const n = 3 + extra.length;
    return store.run(`mark item ${lease.itemId} ${kind}`, async (db) => {
      const { rows } = await db.query<SharedItemRow>(
        `WITH u AS (
           UPDATE otpb_items SET ${set}, updated_at = now()${renew}
           WHERE id = $1 AND fence = $2 AND batch_id = ${Number(this.batchId)}
             AND state = ANY ($${n}::text[])${condition ? ` AND ${condition}` : ""}
           RETURNING *),
         e AS (
           INSERT INTO otpb_events (batch_id, item_id, station, kind, detail)
           SELECT batch_id, id, $${n + 1}, $${n + 2}, jsonb_build_object('serial', serial, 'fence', $2::bigint) || $${n + 3}::jsonb FROM u),
         notified AS (
           SELECT pg_notify('${PROGRESS_CHANNEL}', json_build_object('b', batch_id, 'i', id, 's', state, 'st', $${n + 1}::text)::text) FROM u)
         SELECT u.* FROM u CROSS JOIN notified`,
        [lease.itemId, lease.fence, ...extra, from, store.station, `item.${kind}`, JSON.stringify(detail)],
      );
      const row = rows[0];
      if (row === undefined) throw await refusal(db, lease, from, kind);
      return sharedItemRecord(row);
    });
  }

  #openSeed(row: Pick<SharedItemRow, "id" | "batch_id" | "seed_nonce" | "seed_sealed">): Uint8Array {
    return this.#vault.open({ nonce: row.seed_nonce, sealed: row.seed_sealed }, { journalId: this.#uid, batchId: row.batch_id, itemId: row.id });
  }
}

/** A committed item's row as a search reads it: where it is, its token, and its sealed seed. */
type SearchRow = Pick<SharedItemRow, "id" | "batch_id" | "position" | "label" | "algorithm" | "digits" | "period" | "seed_nonce" | "seed_sealed"> & {
  serial: string;
};

function leaseOf(item: SharedItemRecord): Lease {
  return { itemId: item.id, fence: item.fence as number };
}

/** Why a fenced update matched no row. */
async function refusal(db: Db, lease: Lease, from: readonly SharedItemState[], kind: string): Promise<Error> {
  const { rows } = await db.query<{ state: SharedItemState; fence: string | null; station: string | null }>(
    "SELECT state, fence, station FROM otpb_items WHERE id = $1",
    [lease.itemId],
  );
  const row = rows[0];
  if (row === undefined) return otpbError("ITEM_NOT_FOUND", `no item ${lease.itemId} in the shared store`, { detail: { itemId: lease.itemId } });
  if (row.fence === null || Number(row.fence) !== lease.fence) {
    return otpbError(
      "LEASE_LOST",
      `item ${lease.itemId}: fence ${lease.fence} is stale (the item is ${row.state}, held by ${row.station ?? "no station"}); not ${kind}`,
      {
        detail: { itemId: lease.itemId, fence: lease.fence, current: row.fence === null ? null : Number(row.fence), state: row.state },
      },
    );
  }
  return otpbError("ITEM_STATE", `item ${lease.itemId} is ${row.state}; it cannot be ${kind} (expects ${from.join(" or ")})`, {
    detail: { itemId: lease.itemId, state: row.state, to: kind },
  });
}
