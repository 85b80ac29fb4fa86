/**
 * The operator's check of a burned token (issue #6 "and, when the operator types the displayed
 * code, checked"): the code typed is compared with the codes the item's seed gives one step
 * before, at and one step after the host's time (RFC 6238 §5.2 allows one step of network delay;
 * here it covers the seconds between reading the display and typing). The token's code cannot be
 * read back over NFC (docs/PROTOCOL.md §2.11), so this is the only end-to-end check of the seed.
 */
import { totp } from "../crypto/index.js";
import { otpbError } from "../lib/errors.js";
import type { Journal } from "../store/journal.js";
import type { CommittedSeed } from "../store/types.js";

export interface CodeCheck {
  itemId: number;
  serial: string;
  match: boolean;
  /** Steps between the host's time and the code that matched (-1, 0 or 1); null when none did. */
  stepOffset: number | null;
}

/**
 * Checks `code` against committed item `itemId` of `batchId`; the seed is decrypted only for this,
 * and zeroed with the others by Journal#withCommittedSeeds.
 * @throws OtpbridgeError INVALID_INPUT (not 6 to 10 digits), BATCH_NOT_FOUND, ITEM_STATE (no
 *   committed item of that id in the batch), SEED_TAMPERED.
 * @example checkTypedCode(journal, 1, 42, "492039").match
 */
export function checkTypedCode(journal: Journal, batchId: number, itemId: number, code: string, nowSeconds = Date.now() / 1000): CodeCheck {
  assertTypedCode(code);
  return journal.withCommittedSeeds(batchId, (items) => matchTypedCode(items, batchId, itemId, code, nowSeconds));
}

/** @throws OtpbridgeError INVALID_INPUT unless `code` is the 6 to 10 digits a token shows. */
export function assertTypedCode(code: unknown): asserts code is string {
  if (typeof code !== "string" || !/^\d{6,10}$/.test(code))
    throw otpbError("INVALID_INPUT", "code must be the 6 to 10 digits the token shows", { detail: { param: "code" } });
}

/**
 * The check itself, on a batch's committed items (decrypted by whichever store holds the batch).
 * @throws OtpbridgeError ITEM_STATE (no committed item `itemId` among them).
 */
export function matchTypedCode(items: readonly CommittedSeed[], batchId: number, itemId: number, code: string, nowSeconds = Date.now() / 1000): CodeCheck {
  const item = items.find((i) => i.itemId === itemId);
  if (item === undefined) throw otpbError("ITEM_STATE", `batch ${batchId} has no committed item ${itemId}`, { detail: { batchId, itemId } });
  const stepOffset = [0, -1, 1].find(
    (step) => totp(item.algorithm, item.seed, { time: nowSeconds + step * item.period, period: item.period, digits: item.digits }) === code,
  );
  return { itemId, serial: item.serial, match: stepOffset !== undefined, stepOffset: stepOffset ?? null };
}
