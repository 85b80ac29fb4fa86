/**
 * Text of `otpbridge batch run` and `status`: one line per tap, the live progress line of a
 * terminal (done/total, rate, ETA, each reader's state), the final summary, and a shared batch's
 * stations. Never a seed; the
 * codes shown are the one-time codes the token should display, for the operator to compare.
 */
import type { BatchItemEvent, BatchProgress, ReaderStatus } from "../../service/batch-progress.js";
import type { CodeCheck } from "../../service/batch-verify.js";
import type { SharedBatchStatus } from "../../store/stations/types.js";

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}m${String(s % 60).padStart(2, "0")}s`;
}

/** One line per tap. */
export function formatItem(e: BatchItemEvent): string {
  const who = `${e.reader}  ${e.serial}${e.model !== undefined ? ` ${e.model}` : ""}`;
  switch (e.outcome) {
    case "committed":
      return `done     ${who}  item ${e.position! + 1}${e.label ? ` ${e.label}` : ""}${e.resumed ? " (resumed)" : ""}  code ${e.codes!.current} (next ${e.codes!.next}), clock ${e.driftSeconds! >= 0 ? "+" : ""}${e.driftSeconds} s  remove the token`;
    case "interrupted":
      return `cut      ${who}  ${e.message}`;
    case "failed":
      return `FAILED   ${who}  ${e.message}`;
    default:
      return `${e.outcome === "error" ? "error  " : "skipped"}  ${who}  ${e.message ?? e.outcome}`;
  }
}

function readerCell(r: ReaderStatus): string {
  const short = r.reader.length > 14 ? `…${r.reader.slice(-13)}` : r.reader;
  return `${short}:${r.state}`;
}

/** The live line: bar, done/total, rate, ETA, readers; cut to `width` columns. */
export function formatLive(p: BatchProgress, width: number): string {
  const cells = 20;
  const filled = p.total === 0 ? 0 : Math.round((p.done / p.total) * cells);
  const rate = p.ratePerMinute === null ? "-/min" : `${p.ratePerMinute}/min`;
  const eta = p.etaSeconds === null ? "ETA -" : `ETA ${duration(p.etaSeconds)}`;
  const line = `[${"#".repeat(filled)}${".".repeat(cells - filled)}] ${p.done}/${p.total} ${rate} ${eta}${p.state === "paused" ? " PAUSED" : ""}  ${p.readers.map(readerCell).join(" ")}`;
  return line.length > width - 1 ? line.slice(0, width - 1) : line;
}

/** The summary after a run (with its duration) or for `batch status`. */
export function formatSummary(p: BatchProgress, elapsedMs?: number): string {
  const c = p.counts;
  const inFlight = c.claimed + c.burned + c.verified;
  const lines = [
    `batch ${p.batchId} "${p.name}" (${p.state}${p.finished && p.state !== "finished" ? ", finished" : ""}): ${p.done} of ${p.total} committed`,
    `  pending ${c.pending}, in flight ${inFlight} (tap the same token again to resume), failed ${c.failed}, superseded ${c.superseded}`,
  ];
  if (elapsedMs !== undefined) {
    lines.push(`  this run: ${duration(elapsedMs / 1000)}${p.ratePerMinute !== null ? `, ${p.ratePerMinute} tokens/min` : ""}`);
  }
  return lines.join("\n");
}

/** Counts, then every station with its heartbeat and readers. */
export function formatStations(s: SharedBatchStatus): string {
  const c = s.counts;
  const lines = [
    `shared batch ${s.batch.id} "${s.batch.name}" (${s.batch.state}${s.done ? ", finished" : ""}): ${c.committed} of ${s.total} committed`,
    `  pending ${c.pending}, in flight ${c.claimed + c.burned + c.verified}, needs a tap of its token ${c["needs-check"]}, failed ${c.failed}`,
  ];
  for (const st of s.stations) {
    const readers = st.readers.map((r) => `${r.name}:${r.activity}${r.serial ? ` ${r.serial}` : ""}`).join(", ");
    lines.push(
      `  station ${st.id} (${st.host}) ${st.alive ? "alive" : "SILENT"}: ${st.committed} committed, ${st.leased} in hand${readers ? `; ${readers}` : ""}`,
    );
  }
  return lines.join("\n");
}

/** `batch check`'s line, alone or through the daemon; exit status 0 when the code matches, 3 when not. */
export function printCodeCheck(result: CodeCheck, itemId: number, json: boolean | undefined, io: { out(line: string): void }): number {
  if (json) io.out(JSON.stringify(result));
  else
    io.out(
      result.match
        ? `item ${itemId} (token ${result.serial}): the code matches`
        : `item ${itemId} (token ${result.serial}): the code does NOT match; burn the token again (--reburn)`,
    );
  return result.match ? 0 : 3;
}
