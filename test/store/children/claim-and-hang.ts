/**
 * Child process for the crash test: opens the journal in argv[2], claims the next item of batch
 * argv[3] for serial argv[4], reports the item id and a SHA-256 of the seed (never the seed) to the
 * parent, then waits to be killed without closing anything.
 */
import { createHash } from "node:crypto";
import { Journal } from "../../../src/store/journal.js";

const [dataDir, batchId, serial] = process.argv.slice(2) as [string, string, string];
const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
const result = journal.claimNext(Number(batchId), { serial });
if (result.outcome !== "claimed") throw new Error(`unexpected outcome ${result.outcome}`);
const seedHash = createHash("sha256").update(result.seed).digest("hex");
result.seed.fill(0);
process.send?.({ itemId: result.item.id, seedHash });
setInterval(() => {}, 1000);
