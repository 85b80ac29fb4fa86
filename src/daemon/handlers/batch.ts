/**
 * `batch.*` (issue #6): create a batch from items, a CSV text, otpauth URIs or "generate N"; run
 * it through the daemon's batch engine (start, pause, resume, cancel); read its status; export
 * its committed items (the `export` capability: the one batch method that returns seeds); check
 * the code the operator reads off a burned token (batch.checkCode); re-burn one item (batch.reburnItem). The
 * engine sends `batch.item` and `batch.progress` to clients with the `batch` capability.
 */
import { ALGORITHMS, PERIODS } from "../../drivers/single-profile.js";
import { EXPORT_TARGETS } from "../../input/capabilities.js";
import { otpbError } from "../../lib/errors.js";
import type { ExportRequest } from "../../store/export/index.js";
import type { BatchRecord, BatchState } from "../../store/types.js";
import type { BatchEngine } from "../../service/batch-engine.js";
import type { BatchShelf } from "../batch-shelf.js";
import { generatedBatch, parseBatchCsv, parseBatchUris, wipeBatchInput, type ParsedBatch } from "../../service/batch-input.js";
import type { MethodTable } from "../rpc.js";
import { flag, int, objectParams, oneOf, optionalOneOf, optionalSeed, optionalText, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";

const MAX_ITEMS = 10_000;
/** CSV or URI text of 10,000 rows fits the 64 KiB message limit only for short rows; larger batches use the CLI. */
const MAX_TEXT = 1_000_000;

function batchId(params: Record<string, unknown>): number {
  return int(params, "batchId", 1, Number.MAX_SAFE_INTEGER);
}

/**
 * `items`: [{label?, seed? (base32, otpauth URI, or hex with seedEncoding), seedEncoding?, algorithm?,
 * period?, digits?}]. Seeds decoded so far are zeroed on error.
 */
function listedItems(raw: unknown, name: string): ParsedBatch {
  if (!Array.isArray(raw) || raw.length < 1 || raw.length > MAX_ITEMS) {
    throw otpbError("INVALID_INPUT", `items must be an array of 1 to ${MAX_ITEMS} objects`, { detail: { param: "items" } });
  }
  // Checked through the same path as a CSV: one row per item.
  const batch: ParsedBatch = { name, items: [] };
  try {
    raw.forEach((entry, i) => {
      const p = objectParams(entry);
      const explicit = {
        algorithm: optionalOneOf(p, "algorithm", ALGORITHMS),
        period: optionalOneOf(p, "period", PERIODS),
        digits: optionalOneOf(p, "digits", [6] as const),
      };
      const label = optionalText(p, "label", 256);
      // A seed given as an otpauth URI brings its own parameters (and its account name as the label).
      const given = optionalSeed(p, "single-profile", explicit);
      const seed = given?.secret;
      const itemLabel = label ?? given?.label?.slice(0, 256);
      const parameters = given ?? explicit;
      batch.items.push({
        ...(seed !== undefined ? { seed } : {}),
        ...(itemLabel ? { label: itemLabel } : {}),
        ...(parameters.algorithm !== undefined ? { algorithm: parameters.algorithm as (typeof ALGORITHMS)[number] } : {}),
        ...(parameters.period !== undefined ? { period: parameters.period } : {}),
        ...(parameters.digits !== undefined ? { digits: parameters.digits } : {}),
      });
      if (seed !== undefined && (seed.length < 10 || seed.length > 63)) {
        throw otpbError("NOT_BURNABLE", `items[${i}]: the seed is ${seed.length} bytes; a batch seed is 10 to 63`, { detail: { item: i } });
      }
    });
  } catch (error) {
    wipeBatchInput(batch);
    throw error;
  }
  return batch;
}

/** Exactly one of items, csv, uris, generate. */
function batchInput(params: Record<string, unknown>): ParsedBatch {
  const name = text(params, "name", 200);
  const sources = ["items", "csv", "uris", "generate"].filter((k) => params[k] !== undefined);
  if (sources.length !== 1) throw otpbError("INVALID_INPUT", "give exactly one of items, csv, uris and generate");
  let batch: ParsedBatch;
  switch (sources[0]) {
    case "items":
      batch = listedItems(params.items, name);
      break;
    case "csv":
      batch = parseBatchCsv(text(params, "csv", MAX_TEXT), name);
      break;
    case "uris": {
      const uris = params.uris;
      if (!Array.isArray(uris) || uris.length > MAX_ITEMS || !uris.every((u) => typeof u === "string" && u.length <= 2048)) {
        throw otpbError("INVALID_INPUT", `uris must be an array of at most ${MAX_ITEMS} otpauth URI strings`, { detail: { param: "uris" } });
      }
      batch = parseBatchUris(uris as string[], name);
      break;
    }
    default:
      batch = generatedBatch(int(params, "generate", 1, MAX_ITEMS), name, {
        algorithm: oneOf(params, "algorithm", ALGORITHMS, "SHA1"),
        period: oneOf(params, "period", PERIODS, 30),
      });
  }
  const issuer = optionalText(params, "issuer", 200);
  if (issuer !== undefined) batch.issuer = issuer;
  return batch;
}

function exportRequest(params: Record<string, unknown>): ExportRequest {
  const format = oneOf(params, "format", EXPORT_TARGETS);
  if (format !== "pskc" && format !== "privacyidea-pskc") return { format };
  // PSKC secrets are encrypted under a password the importer is given separately (RFC 6030 §6.2).
  const password = text(params, "password", 1024);
  return { format, protection: { kind: "password", password, keyName: optionalText(params, "keyName", 200) ?? "otpbridge" } };
}

/**
 * @returns the `batch.*` methods on the batches of `shelf` (the local journal, or a station's shared
 * store: src/daemon/batch-shelf.ts), run by `engine`.
 */
export function batchMethods(s: DaemonServices, engine: BatchEngine, shelf: BatchShelf): MethodTable {
  return {
    "batch.create": {
      capability: "batch",
      handler: async (raw, client) => {
        const input = batchInput(objectParams(raw));
        try {
          const batch = await shelf.create(input);
          s.log.info("batch created", { batchId: batch.id, items: input.items.length, client: client.id });
          // Accounts of a Google Authenticator export that a TOTP token cannot hold are named, not dropped silently.
          return { batch, total: input.items.length, ...(input.skipped !== undefined ? { skipped: input.skipped } : {}) };
        } finally {
          wipeBatchInput(input);
        }
      },
    },
    "batch.list": {
      capability: "batch",
      handler: () => shelf.list(),
    },
    // start: created → running; resume: paused → running. Either takes over a batch that is running
    // already but not driven (after a restart), so a client can always say "go on".
    "batch.start": { capability: "batch", handler: (raw) => runFrom(s, engine, shelf, raw, ["created", "running"]) },
    "batch.resume": { capability: "batch", handler: (raw) => runFrom(s, engine, shelf, raw, ["paused", "running"]) },
    "batch.pause": { capability: "batch", handler: (raw) => ({ batch: engine.pause(batchId(objectParams(raw))) }) },
    "batch.cancel": { capability: "batch", handler: (raw) => ({ batch: engine.cancel(batchId(objectParams(raw))) }) },
    "batch.status": {
      capability: "batch",
      handler: (raw) => shelf.status(batchId(objectParams(raw))),
    },
    // One item again (its token lost or broken, or its code wrong): the next token tapped takes its seed.
    "batch.reburnItem": {
      capability: "batch",
      handler: (raw, client) => {
        const params = objectParams(raw);
        const id = batchId(params);
        const itemId = int(params, "itemId", 1, Number.MAX_SAFE_INTEGER);
        if (!shelf.reburnsOneItem) {
          throw otpbError("BATCH_STATE", "re-burning one chosen item is not available for a shared batch; run the station with --reburn", {
            detail: { batchId: id, itemId },
          });
        }
        const item = s.journal.item(itemId);
        if (item.batchId !== id) throw otpbError("ITEM_NOT_FOUND", `item ${itemId} is not in batch ${id}`, { detail: { batchId: id, itemId } });
        if (item.state !== "committed" && item.state !== "failed") {
          throw otpbError("ITEM_STATE", `item ${itemId} is ${item.state}; only a committed or failed item can be re-burned`, {
            detail: { itemId, state: item.state },
          });
        }
        engine.reburnItem(id, itemId);
        s.log.info("batch item armed for re-burn", { batchId: id, itemId, serial: item.serial, client: client.id });
        return { batchId: id, itemId, serial: item.serial, state: item.state };
      },
    },
    "batch.checkCode": {
      capability: "batch",
      handler: async (raw, client) => {
        const params = objectParams(raw);
        const check = await shelf.checkCode(batchId(params), int(params, "itemId", 1, Number.MAX_SAFE_INTEGER), text(params, "code", 10));
        s.log.info("batch code checked", { batchId: batchId(params), itemId: check.itemId, match: check.match, client: client.id });
        return check;
      },
    },
    "batch.export": {
      capability: "export",
      handler: async (raw, client) => {
        const params = objectParams(raw);
        const id = batchId(params);
        const request = exportRequest(params);
        const { text: content, count } = await shelf.render(id, request);
        s.log.info("batch exported", { batchId: id, format: request.format, items: count, client: client.id });
        return { format: request.format, count, content };
      },
    },
  };
}

/**
 * Runs the batch after the host-clock check (refused before any tap unless `force`; then every
 * tap is checked again, since a batch can run for hours).
 */
async function runFrom(
  s: DaemonServices,
  engine: BatchEngine,
  shelf: BatchShelf,
  raw: unknown,
  from: readonly BatchState[],
): Promise<{ batch: BatchRecord; warnings?: string[] }> {
  const params = objectParams(raw);
  const id = batchId(params);
  const force = flag(params, "force", false);
  const state = await shelf.batchState(id);
  if (!from.includes(state)) {
    throw otpbError("BATCH_STATE", `batch ${id} is ${state}; this call needs it ${from.join(" or ")}`, { detail: { batchId: id, state } });
  }
  const clock = await s.hostClock.check(force);
  await shelf.prepareRun(id);
  const batch = engine.run(id, { forceClock: force });
  return clock.overridden.length > 0 ? { batch, warnings: clock.overridden } : { batch };
}
