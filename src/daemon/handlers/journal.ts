/**
 * `journal.item` (what the journal says about a burn), `journal.checkCode` (the code a one-off burn's
 * token shows, checked against its seed), `journal.find` (which token shows a code:
 * serials and items, never seeds) and `journal.export` (seeds, export capability only).
 */
import { checkTypedCode } from "../../service/batch-verify.js";
import {
  DEFAULT_FIND_WINDOW,
  MAX_FIND_WINDOW,
  findOnStation,
  findToken,
  journalSeedSource,
  type FindRequest,
  type FindResult,
  type SkippedBatch,
} from "../../service/find.js";
import { formatOtpauthUris } from "../../store/export/otpauth-uris.js";
import type { MethodTable } from "../rpc.js";
import { int, objectParams, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";

/** @returns the `journal.*` methods. */
export function journalMethods(s: DaemonServices): MethodTable {
  return {
    "journal.item": {
      // Labels (user names) and serials of every burn, by item id: the journal's records, like
      // batch.status, for clients that manage batches; a read-only page cannot enumerate them.
      capability: "batch",
      handler: (raw) => {
        const item = s.journal.item(int(objectParams(raw), "itemId", 1, Number.MAX_SAFE_INTEGER));
        return { item };
      },
    },
    // batch.checkCode on this machine's journal, where token.burn records its one-off burns: the
    // same thing in a local daemon, and the one way to check such a burn on a station, whose
    // batch.checkCode reads the shared store.
    "journal.checkCode": {
      capability: "batch",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const batchId = int(params, "batchId", 1, Number.MAX_SAFE_INTEGER);
        const check = checkTypedCode(s.journal, batchId, int(params, "itemId", 1, Number.MAX_SAFE_INTEGER), text(params, "code", 10));
        s.log.info("journal code checked", { batchId, itemId: check.itemId, match: check.match, client: client.id });
        return check;
      },
    },
    "journal.find": {
      capability: "read",
      handler: async (raw, client) => {
        const params = objectParams(raw);
        // findToken checks the codes (a list of 1 to 3 digit strings of one length).
        const request: FindRequest = {
          codes: params.codes as string[],
          window: int(params, "window", 0, MAX_FIND_WINDOW, DEFAULT_FIND_WINDOW),
          time: int(params, "time", 0, Number.MAX_SAFE_INTEGER, Math.floor(Date.now() / 1000)),
          ...(params.batchId === undefined ? {} : { batchId: int(params, "batchId", 1, Number.MAX_SAFE_INTEGER) }),
        };
        const journal = () => journalSeedSource(s.journal);
        // A station: batch ids are the shared store's, and the search spans its batches and the journal.
        const result: FindResult & { skipped?: SkippedBatch[] } =
          s.sharedBatches === undefined ? await findToken([journal()], request) : await findOnStation(journal, s.sharedBatches, request);
        // Who looked a token up, and how many matched; never the codes, which are credentials too.
        s.log.info("journal find", {
          client: client.id,
          matches: result.matches.length,
          searched: result.searched,
          ...(result.skipped !== undefined ? { skipped: result.skipped.map((b) => b.batchId) } : {}),
        });
        return result;
      },
    },
    "journal.export": {
      capability: "export",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const batchId = int(params, "batchId", 1, Number.MAX_SAFE_INTEGER);
        // itemId: one burn's seed (the console's enrolment QR after a generated single burn).
        const itemId = params.itemId === undefined ? undefined : int(params, "itemId", 1, Number.MAX_SAFE_INTEGER);
        // The one place a seed leaves the daemon: committed items only, as otpauth URIs.
        const uris = s.journal.withCommittedSeeds(batchId, (items) =>
          formatOtpauthUris(itemId === undefined ? items : items.filter((i) => i.itemId === itemId)),
        );
        s.log.info("journal exported", { batchId, ...(itemId !== undefined ? { itemId } : {}), client: client.id });
        return { format: "otpauth", uris: uris.split("\n").filter((line) => line !== "") };
      },
    },
  };
}
