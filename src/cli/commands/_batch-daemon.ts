/**
 * `otpbridge batch ...` through the daemon that serves the data directory (src/cli/daemon-link.ts):
 * the same work through its batch.* methods, printed as the CLI prints it when it works alone.
 */
import type { DaemonClient } from "../../client/daemon-client.js";
import type { ExportRequest } from "../../store/export/index.js";
import { writePrivateFileAtomic } from "../../store/private-files.js";
import type { SharedBatchStatus } from "../../store/stations/types.js";
import type { BatchRecord, ItemState } from "../../store/types.js";
import type { BatchItemEvent, BatchProgress } from "../../service/batch-progress.js";
import type { CodeCheck } from "../../service/batch-verify.js";
import type { SkippedAccount } from "../../input/migration.js";
import { processIo, type CommandIo } from "../io.js";
import { formatItem, formatLive, formatStations, formatSummary, printCodeCheck } from "./_batch-format.js";

/** What `batch create` sends: exactly one source, as the CLI read it. */
export type CreateSource = { csv: string } | { uris: string[] } | { generate: number; algorithm: string; period: number };

export async function createThrough(
  daemon: DaemonClient,
  source: CreateSource,
  name: string,
  issuer: string | undefined,
  json: boolean,
  io: CommandIo,
): Promise<number> {
  const created = await daemon.call<{ batch: BatchRecord; total: number; skipped?: Array<SkippedAccount & { line: number }> }>("batch.create", {
    name,
    ...source,
    ...(issuer !== undefined ? { issuer } : {}),
  });
  if (json) io.out(JSON.stringify(created));
  else io.out(`batch ${created.batch.id} "${created.batch.name}": ${created.total} items; run it with: otpbridge batch run ${created.batch.id}`);
  for (const s of created.skipped ?? []) {
    io.err(
      `skipped  line ${s.line}: ${s.issuer ? `${s.issuer}:` : ""}${s.name} (${s.reason === "hotp" ? "a counter-based HOTP account" : s.reason}; a TOTP token cannot hold it)`,
    );
  }
  return 0;
}

async function progressOf(daemon: DaemonClient, batchId: number): Promise<BatchProgress> {
  return (await daemon.call<{ progress: BatchProgress }>("batch.status", { batchId })).progress;
}

export async function listThrough(daemon: DaemonClient, json: boolean, io: CommandIo): Promise<number> {
  const { batches } = await daemon.call<{ batches: BatchRecord[] }>("batch.list");
  const rows: Array<BatchRecord & { counts: Record<ItemState, number> }> = [];
  for (const { total: _total, done: _done, ...b } of batches as Array<BatchRecord & { total: number; done: number }>) {
    rows.push({ ...b, counts: (await progressOf(daemon, b.id)).counts });
  }
  if (json) io.out(JSON.stringify(rows, null, 2));
  else for (const b of rows) io.out(`${String(b.id).padStart(4)}  ${b.state.padEnd(9)}  ${b.counts.committed} committed  ${b.name}`);
  return 0;
}

/** A station daemon's answer also has every station of the shared batch: printed as `batch status --store` does. */
export async function statusThrough(daemon: DaemonClient, batchId: number, json: boolean, io: CommandIo): Promise<number> {
  const { progress, stations } = await daemon.call<{ progress: BatchProgress; stations?: SharedBatchStatus }>("batch.status", { batchId });
  if (json) io.out(JSON.stringify(stations === undefined ? progress : { ...progress, stations }, null, 2));
  else io.out(stations === undefined ? formatSummary(progress) : `${formatSummary(progress)}\n${formatStations(stations)}`);
  return 0;
}

export async function checkThrough(daemon: DaemonClient, batchId: number, itemId: number, code: string, json: boolean, io: CommandIo): Promise<number> {
  return printCodeCheck(await daemon.call<CodeCheck>("batch.checkCode", { batchId, itemId, code }), itemId, json, io);
}

export async function exportThrough(daemon: DaemonClient, batchId: number, request: ExportRequest, path: string, io: CommandIo): Promise<number> {
  // The CLI asks only for password protection (--password-env); the API takes nothing else.
  const protection = "protection" in request && request.protection.kind === "password" ? request.protection : undefined;
  const { content, count } = await daemon.call<{ content: string; count: number }>("batch.export", {
    batchId,
    format: request.format,
    ...(protection !== undefined ? { password: protection.password, keyName: protection.keyName } : {}),
  });
  const bytes = Buffer.from(content, "utf8");
  try {
    writePrivateFileAtomic(path, bytes);
  } finally {
    bytes.fill(0);
  }
  io.out(`${count} committed items of batch ${batchId} written to ${path} (${request.format}, mode 0600)`);
  return 0;
}

/**
 * `batch run` through the daemon: starts (or resumes) the batch in the daemon's engine and shows
 * its events until nothing is left, Ctrl-C (the batch is paused) or the daemon going away
 * (DAEMON_GONE: the batch stays as the daemon's journal has it).
 */
export async function runThrough(daemon: DaemonClient, batchId: number, force: boolean, io: CommandIo): Promise<number> {
  const live = io === processIo && process.stderr.isTTY === true;
  const startedAt = Date.now();
  let onSigint = (): void => {};
  const unsubscribe: Array<() => void> = [];
  try {
    const finished = new Promise<"finished" | "interrupted" | Error>((done) => {
      unsubscribe.push(
        daemon.on("batch.item", (params) => {
          const event = params as BatchItemEvent;
          if (event.batchId !== batchId) return;
          if (live) process.stderr.write("\r\x1b[K");
          io.out(formatItem(event));
        }),
      );
      unsubscribe.push(
        daemon.on("batch.progress", (params) => {
          const progress = params as BatchProgress;
          if (progress.batchId !== batchId) return;
          if (live) process.stderr.write(`\r\x1b[K${formatLive(progress, process.stderr.columns ?? 100)}`);
          if (progress.finished && progress.inFlight === 0) done("finished");
        }),
      );
      unsubscribe.push(daemon.onGone((error) => done(error)));
      onSigint = () => done("interrupted");
      process.once("SIGINT", onSigint);
    });
    const before = await progressOf(daemon, batchId);
    // The header goes out before the batch starts: a token already on a reader is burned at once,
    // and its line must not come first.
    const waiting = !before.finished || before.inFlight > 0;
    if (waiting && !live) io.out(`batch ${batchId}: ${before.done}/${before.total} done; tap tokens on any reader (Ctrl-C pauses)`);
    const started = await daemon.call<{ warnings?: string[] }>(before.state === "paused" ? "batch.resume" : "batch.start", { batchId, force });
    for (const line of started.warnings ?? []) io.err(`warning (--force): ${line}`);
    const first = await progressOf(daemon, batchId);
    if (waiting && (!first.finished || first.inFlight > 0)) {
      const outcome = await finished;
      if (outcome instanceof Error) throw outcome;
      if (outcome === "interrupted") {
        io.err("stopping: burns under way finish, then the batch is paused");
        await daemon.call("batch.pause", { batchId });
      }
    }
    if (live) process.stderr.write("\r\x1b[K");
    io.out(formatSummary(await progressOf(daemon, batchId), Date.now() - startedAt));
    return 0;
  } finally {
    process.off("SIGINT", onSigint);
    for (const off of unsubscribe) off();
  }
}

/**
 * `batch reburn` through the daemon: arms the item in the daemon's engine (batch.reburnItem; the
 * batch is started or resumed first) and shows the batch's taps until one took that item, Ctrl-C
 * (the item stays armed in the daemon) or the daemon going away. Exit 0 once committed, 1 otherwise.
 */
export async function reburnThrough(daemon: DaemonClient, batchId: number, itemId: number, force: boolean, io: CommandIo): Promise<number> {
  let onSigint = (): void => {};
  const unsubscribe: Array<() => void> = [];
  try {
    const taken = new Promise<BatchItemEvent | "interrupted" | Error>((done) => {
      unsubscribe.push(
        daemon.on("batch.item", (params) => {
          const event = params as BatchItemEvent;
          if (event.batchId !== batchId) return;
          io.out(formatItem(event));
          if (event.itemId === itemId && ["committed", "failed", "interrupted"].includes(event.outcome)) done(event);
        }),
      );
      unsubscribe.push(daemon.onGone((error) => done(error)));
      onSigint = () => done("interrupted");
      process.once("SIGINT", onSigint);
    });
    const state = (await progressOf(daemon, batchId)).state;
    if (state === "created" || state === "paused") {
      const started = await daemon.call<{ warnings?: string[] }>(state === "paused" ? "batch.resume" : "batch.start", { batchId, force });
      for (const line of started.warnings ?? []) io.err(`warning (--force): ${line}`);
    } else if (state === "running" || state === "finished") {
      // Running in the journal but perhaps not driven (after a restart): the daemon takes it over.
      await daemon.call("batch.start", { batchId, force });
    }
    const armed = await daemon.call<{ serial: string | null }>("batch.reburnItem", { batchId, itemId });
    io.out(`item ${itemId} (token ${armed.serial ?? "none"}): tap its token again, or a blank token to take its place (Ctrl-C stops waiting)`);
    const outcome = await taken;
    if (outcome instanceof Error) throw outcome;
    if (outcome === "interrupted") {
      io.err(`stopped waiting: item ${itemId} stays armed in the daemon until a token takes it or the batch is cancelled`);
      return 1;
    }
    return outcome.outcome === "committed" ? 0 : 1;
  } finally {
    process.off("SIGINT", onSigint);
    for (const off of unsubscribe) off();
  }
}
