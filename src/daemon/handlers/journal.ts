/** `journal.item` (what the journal says about a burn; batch capability) and `journal.export` (seeds, export capability only). */
import { formatOtpauthUris } from "../../store/export/otpauth-uris.js";
import type { MethodTable } from "../rpc.js";
import { int, objectParams } from "./_params.js";
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
    "journal.export": {
      capability: "export",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const batchId = int(params, "batchId", 1, Number.MAX_SAFE_INTEGER);
        // itemId: one burn's seed (the console's enrolment QR after a generated single burn).
        const itemId = params.itemId === undefined ? undefined : int(params, "itemId", 1, Number.MAX_SAFE_INTEGER);
        // The one place a seed leaves the daemon: committed items only, as otpauth URIs.
        const uris = s.journal.withCommittedSeeds(batchId, (items) => formatOtpauthUris(itemId === undefined ? items : items.filter((i) => i.itemId === itemId)));
        s.log.info("journal exported", { batchId, ...(itemId !== undefined ? { itemId } : {}), client: client.id });
        return { format: "otpauth", uris: uris.split("\n").filter((line) => line !== "") };
      },
    },
  };
}
