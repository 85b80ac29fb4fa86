/**
 * Batches: create one from a CSV (previewed and linted row by row with batch.lint before anything
 * is written) or "generate N"; run it with a lane per reader, a progress bar with rate and ETA,
 * pause, resume, cancel; check the code of a burned item; re-burn one item (its token lost, broken or
 * showing a wrong code: the next token tapped takes its seed); export it in every format. The journal is
 * the CLI's, so a batch started there shows here and the other way round.
 */
import { useCallback, useEffect, useState } from "preact/hooks";
import fixes from "virtual:reason-fixes";
import type { Rpc } from "./rpc.js";
import { SharedStoreNote, StationsPanel, type SharedStore } from "./stations.js";
import { download, ErrorBox, html, READER_ACTIVITY, useEvent } from "./ui.js";

interface Batch {
  id: number;
  name: string;
  state: string;
  total: number;
  done: number;
}

interface LintResult {
  rows: Array<{ line: number; label: string | null; algorithm: string; digits: number; period: number; secret: string | null }>;
  problems: Array<{ line: number; reason: string; message: string }>;
}

interface Progress {
  batchId: number;
  state: string;
  total: number;
  done: number;
  counts: Record<string, number>;
  finished: boolean;
  ratePerMinute: number | null;
  etaSeconds: number | null;
  readers: Array<{ reader: string; state: string; serial: string | null; model?: string | null; itemId?: number; outcome?: string; message?: string }>;
  /** The item armed by batch.reburnItem. */
  reburnItemId?: number;
}

interface ItemEvent {
  batchId: number;
  reader: string;
  serial: string;
  outcome: string;
  itemId?: number;
  label?: string;
  reason?: string;
  message?: string;
  codes?: { current: string };
}

const EXPORTS: Array<{ format: string; title: string; file: string }> = [
  { format: "entra-csv", title: "Microsoft Entra ID (CSV)", file: "entra.csv" },
  { format: "graph-json", title: "Microsoft Graph (JSON)", file: "graph.json" },
  { format: "duo", title: "Duo (CSV)", file: "duo.csv" },
  { format: "pingid", title: "PingID (CSV)", file: "pingid.csv" },
  { format: "privacyidea-csv", title: "privacyIDEA (CSV)", file: "privacyidea.csv" },
  { format: "privacyidea-pskc", title: "privacyIDEA (PSKC, password)", file: "privacyidea.pskc.xml" },
  { format: "pskc", title: "PSKC, RFC 6030 (password)", file: "tokens.pskc.xml" },
  { format: "otpauth", title: "otpauth URIs", file: "otpauth.txt" },
];

function CreateBatch({ rpc, onCreated }: { rpc: Rpc; onCreated: (id: number) => void }) {
  const [name, setName] = useState("");
  const [mode, setMode] = useState<"csv" | "generate">("csv");
  const [csv, setCsv] = useState<string>();
  const [lint, setLint] = useState<LintResult>();
  const [count, setCount] = useState("10");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const readCsv = async (file: File | undefined): Promise<void> => {
    setError(undefined);
    setLint(undefined);
    if (file === undefined) return;
    const text = await file.text();
    setCsv(text);
    if (name === "") setName(file.name.replace(/\.csv$/i, ""));
    try {
      setLint(await rpc.call<LintResult>("batch.lint", { csv: text }));
    } catch (e) {
      setError(e);
    }
  };
  const create = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const params = mode === "csv" ? { name, csv } : { name, generate: Number(count) };
      const created = await rpc.call("batch.create", params);
      setCsv(undefined);
      setLint(undefined);
      onCreated(created.batch.id);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const blocked = mode === "csv" && (lint === undefined || lint.problems.length > 0);
  const problemAt = (line: number) => lint?.problems.find((p) => p.line === line);
  return html`<form class="create" onSubmit=${create} aria-labelledby="create-title">
    <h3 id="create-title">New batch</h3>
    <label for="batch-name">Name</label>
    <input id="batch-name" required maxlength="200" value=${name} onInput=${(e: Event) => setName((e.target as HTMLInputElement).value)} />
    <fieldset><legend>Items</legend>
      <label class="inline"><input type="radio" name="batch-mode" checked=${mode === "csv"} onChange=${() => setMode("csv")} /> From a CSV file</label>
      <label class="inline"><input type="radio" name="batch-mode" checked=${mode === "generate"} onChange=${() => setMode("generate")} /> Generate seeds</label>
      ${
        mode === "csv"
          ? html`<label for="batch-csv">CSV file (columns upn, secret, algorithm, digits, period)</label>
          <input id="batch-csv" type="file" accept=".csv,text/csv" onChange=${(e: Event) => void readCsv((e.target as HTMLInputElement).files?.[0])} />`
          : html`<label for="batch-count">How many</label>
          <input id="batch-count" type="number" min="1" max="10000" value=${count} onInput=${(e: Event) => setCount((e.target as HTMLInputElement).value)} />`
      }
    </fieldset>
    ${
      mode === "csv" && lint !== undefined
        ? html`<div class="preview">
      <p role="status" data-testid="lint-summary">${
        lint.problems.length === 0
          ? `${lint.rows.length} items, no problem: nothing is written until you create the batch.`
          : `${lint.problems.length} ${lint.problems.length === 1 ? "line has a problem" : "lines have problems"}: fix the file and choose it again.`
      }</p>
      ${lint.problems.length > 0 ? html`<ul class="problems" aria-label="Problems">${lint.problems.map((p) => html`<li>${p.message} <span class="reason">(${p.reason})</span></li>`)}</ul>` : null}
      <div class="table-wrap" tabindex="0" role="region" aria-label="Preview of the CSV">
        <table><caption class="sr-only">Rows of the CSV as the batch would take them</caption>
          <thead><tr><th scope="col">Line</th><th scope="col">UPN / label</th><th scope="col">Algorithm</th><th scope="col">Period</th><th scope="col">Secret</th><th scope="col">Problem</th></tr></thead>
          <tbody>${lint.rows.map(
            (r) => html`<tr class=${problemAt(r.line) !== undefined ? "bad-line" : undefined}>
            <td>${r.line}</td><td>${r.label ?? ""}</td><td>${r.algorithm}</td><td>${r.period || ""}</td><td>${r.secret ?? ""}</td>
            <td>${problemAt(r.line)?.message.replace(/^line \d+: /, "") ?? ""}</td></tr>`,
          )}</tbody>
        </table>
      </div>
    </div>`
        : null
    }
    <button type="submit" class="primary" disabled=${busy || blocked || name === ""}>Create batch</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

function Lanes({ progress }: { progress: Progress }) {
  if (progress.readers.length === 0) return html`<p>No reader takes taps for this batch yet.</p>`;
  return html`<ul class="lanes" aria-label="Readers">${progress.readers.map(
    (r) => html`<li class=${`lane state-${r.state}`} data-reader=${r.reader}>
    <h4>${r.reader}</h4>
    <p><span class="state">${READER_ACTIVITY[r.state] ?? r.state}</span></p>
    ${r.serial !== null ? html`<p>${r.model ?? ""} ${r.serial}${r.itemId !== undefined ? ` · item ${r.itemId}` : ""}</p>` : null}
    ${r.message !== undefined ? html`<p>${r.message}</p>` : null}
  </li>`,
  )}</ul>`;
}

function CheckItem({ rpc, batchId, itemId }: { rpc: Rpc; batchId: number; itemId: number }) {
  const [code, setCode] = useState("");
  const [answer, setAnswer] = useState<string>();
  const [error, setError] = useState<unknown>();
  const check = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await rpc.call("batch.checkCode", { batchId, itemId, code: code.trim() });
      setAnswer(r.match ? `match (step ${r.stepOffset})` : "no match");
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="row" onSubmit=${check}>
    <label for=${`code-${itemId}`}>Code on item ${itemId}'s token</label>
    <input id=${`code-${itemId}`} inputmode="numeric" size="8" value=${code} onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)} />
    <button type="submit">Check</button>
    ${answer !== undefined ? html`<span role="status">${answer}</span>` : null}
    <${ErrorBox} error=${error} />
  </form>`;
}

function Exports({ rpc, batch }: { rpc: Rpc; batch: Batch }) {
  const [format, setFormat] = useState("entra-csv");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>();
  const needsPassword = format.endsWith("pskc");
  const go = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    try {
      const r = await rpc.call("batch.export", { batchId: batch.id, format, ...(needsPassword ? { password } : {}) });
      const spec = EXPORTS.find((x) => x.format === format)!;
      download(`${batch.name.replace(/[^\w.-]+/g, "_")}-${spec.file}`, r.content, spec.file.endsWith(".xml") ? "application/xml" : "text/plain");
    } catch (err) {
      setError(err);
    }
  };
  return html`<form class="exports" onSubmit=${go} aria-labelledby="export-title">
    <h4 id="export-title">Export the committed items</h4>
    <div class="row">
      <label for="export-format">Format</label>
      <select id="export-format" value=${format} onChange=${(e: Event) => setFormat((e.target as HTMLSelectElement).value)}>
        ${EXPORTS.map((x) => html`<option value=${x.format}>${x.title}</option>`)}
      </select>
      ${
        needsPassword
          ? html`<label for="export-password">PSKC password</label>
        <input id="export-password" type="password" autocomplete="new-password" required value=${password} onInput=${(e: Event) => setPassword((e.target as HTMLInputElement).value)} />`
          : null
      }
      <button type="submit">Download</button>
    </div>
    <p class="note">The file holds the seeds: keep it safe, and give the PSKC password to the importer separately.</p>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** `shared`: station mode, where the batch is the shared store's and its stations are shown. */
function BatchRun({ rpc, batch, shared, onChange }: { rpc: Rpc; batch: Batch; shared: SharedStore | undefined; onChange: () => void }) {
  const [progress, setProgress] = useState<Progress>();
  const [items, setItems] = useState<ItemEvent[]>([]);
  const [error, setError] = useState<unknown>();
  useEffect(() => {
    setProgress(undefined);
    setItems([]);
    rpc.call("batch.status", { batchId: batch.id }).then((r) => setProgress(r.progress), setError);
  }, [rpc, batch.id]);
  useEvent(
    rpc,
    "batch.progress",
    useCallback(
      (p: Progress) => {
        if (p.batchId === batch.id) setProgress(p);
      },
      [batch.id],
    ),
  );
  useEvent(
    rpc,
    "batch.item",
    useCallback(
      (p: ItemEvent) => {
        if (p.batchId === batch.id) setItems((list) => [p, ...list].slice(0, 200));
      },
      [batch.id],
    ),
  );
  const act = (method: string) => async (): Promise<void> => {
    setError(undefined);
    try {
      await rpc.call(method, { batchId: batch.id });
      onChange();
      setProgress((await rpc.call("batch.status", { batchId: batch.id })).progress);
    } catch (err) {
      setError(err);
    }
  };
  const reburn = (itemId: number) => async (): Promise<void> => {
    setError(undefined);
    try {
      await rpc.call("batch.reburnItem", { batchId: batch.id, itemId });
      setProgress((await rpc.call("batch.status", { batchId: batch.id })).progress);
    } catch (err) {
      setError(err);
    }
  };
  // The newest tap of each item carries its button: an older row may name a token the item has left.
  const newest = new Set<ItemEvent>();
  const seen = new Set<number>();
  for (const i of items) {
    if (i.itemId === undefined || seen.has(i.itemId)) continue;
    seen.add(i.itemId);
    newest.add(i);
  }
  const state = progress?.state ?? batch.state;
  const total = progress?.total ?? batch.total;
  const done = progress?.done ?? batch.done;
  // A station joins a shared batch running at other stations with batch.start; pause and cancel act
  // for every station, on any shared batch.
  const joined = shared === undefined || shared.driven === batch.id;
  const joinable = !joined && state === "running";
  return html`<div class="run" aria-labelledby="run-title">
    <h3 id="run-title">${batch.name} <span class="state">(${state})</span></h3>
    <div class="row">
      ${state === "created" ? html`<button type="button" class="primary" onClick=${act("batch.start")}>Start</button>` : null}
      ${joinable ? html`<button type="button" class="primary" onClick=${act("batch.start")}>Work on it at this station</button>` : null}
      ${state === "running" ? html`<button type="button" onClick=${act("batch.pause")}>${shared !== undefined ? "Pause at every station" : "Pause"}</button>` : null}
      ${state === "paused" ? html`<button type="button" class="primary" onClick=${act("batch.resume")}>Resume</button>` : null}
      ${["created", "running", "paused"].includes(state) ? html`<button type="button" onClick=${act("batch.cancel")}>${shared !== undefined ? "Cancel at every station" : "Cancel"}</button>` : null}
    </div>
    <${ErrorBox} error=${error} />
    <p><label for="batch-progress">Progress</label> <progress id="batch-progress" max=${total} value=${done}></progress>
      <span data-testid="batch-count">${done} of ${total}</span>
      ${progress?.ratePerMinute != null ? html` · ${progress.ratePerMinute.toFixed(1)} per minute` : null}
      ${progress?.etaSeconds != null && !progress.finished ? html` · about ${Math.ceil(progress.etaSeconds)} s to go` : null}</p>
    ${
      progress?.reburnItemId !== undefined
        ? html`<p role="status" class="armed" data-testid="reburn-armed">Re-burning item ${progress.reburnItemId}: tap its token again, or a blank token to take
      its place (the lost token then holds a seed the journal no longer lists: destroy it).</p>`
        : null
    }
    ${shared !== undefined ? html`<${StationsPanel} rpc=${rpc} batchId=${batch.id} self=${shared.station} />` : null}
    ${shared !== undefined && progress !== undefined && !joinable ? html`<h4>Readers at this station</h4>` : null}
    ${progress !== undefined && !joinable ? html`<${Lanes} progress=${progress} />` : null}
    ${
      progress?.finished || state === "finished" || state === "cancelled"
        ? html`<div class="summary" data-testid="batch-summary">
      <h4>Summary</h4>
      <p>${
        Object.entries(progress?.counts ?? {})
          .filter(([, n]) => n > 0)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ") || `${done} committed`
      }</p>
    </div>`
        : null
    }
    ${
      items.length > 0
        ? html`<h4>Taps</h4>
      ${shared !== undefined ? html`<p class="note" data-testid="no-reburn">Re-burning one chosen item is not offered for a shared batch: run a station with --reburn.</p>` : null}
      <div class="table-wrap" tabindex="0" role="region" aria-label="Taps of this batch">
      <table><thead><tr><th scope="col">Item</th><th scope="col">Label</th><th scope="col">Reader</th><th scope="col">Serial</th><th scope="col">Outcome</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
      <tbody>${items.map(
        (i) => html`<tr><td>${i.itemId ?? ""}</td><td>${i.label ?? ""}</td><td>${i.reader}</td><td>${i.serial}</td>
        <td>${i.outcome}${i.message !== undefined ? `: ${i.message}` : ""}${
          i.reason !== undefined && fixes[i.reason] !== undefined ? html`<br /><span class="fix">Fix: ${fixes[i.reason]}</span>` : null
        }</td><td>${
          shared === undefined && newest.has(i) && (i.outcome === "committed" || i.outcome === "failed") && (state === "running" || state === "finished")
            ? html`<button type="button" onClick=${reburn(i.itemId!)}>Re-burn item ${i.itemId}</button>`
            : null
        }</td></tr>`,
      )}</tbody></table></div>`
        : null
    }
    ${
      done > 0
        ? html`<${CheckItem} rpc=${rpc} batchId=${batch.id} itemId=${items.find((i) => i.outcome === "committed")?.itemId ?? 1} />
      <${Exports} rpc=${rpc} batch=${batch} />`
        : null
    }
  </div>`;
}

export function Batches({ rpc }: { rpc: Rpc }) {
  const [batches, setBatches] = useState<Batch[]>([]);
  const [selected, setSelected] = useState<number>();
  const [shared, setShared] = useState<SharedStore>();
  const [error, setError] = useState<unknown>();
  const refresh = useCallback(() => {
    rpc.call<{ batches: Batch[]; store?: "local" | "shared"; station?: string; driven?: number | null }>("batch.list").then((r) => {
      setBatches(r.batches);
      setShared(r.store === "shared" ? { station: r.station ?? "", driven: r.driven ?? null } : undefined);
    }, setError);
  }, [rpc]);
  useEffect(refresh, [refresh]);
  useEvent(
    rpc,
    "batch.progress",
    useCallback((p: Progress) => {
      setBatches((list) => list.map((b) => (b.id === p.batchId ? { ...b, state: p.state, done: p.done } : b)));
    }, []),
  );
  const batch = batches.find((b) => b.id === selected);
  return html`<section aria-labelledby="batches-title">
    <h2 id="batches-title">Batches</h2>
    ${shared !== undefined ? html`<${SharedStoreNote} store=${shared} drivenName=${batches.find((b) => b.id === shared.driven)?.name} />` : null}
    <${ErrorBox} error=${error} />
    <div class="table-wrap" tabindex="0" role="region" aria-label=${shared !== undefined ? "Batches in the shared store" : "Batches in the journal"}>
    <table><thead><tr><th scope="col">#</th><th scope="col">Name</th><th scope="col">State</th><th scope="col">Done</th><th scope="col"><span class="sr-only">Open</span></th></tr></thead>
      <tbody>${batches.map(
        (
          b,
        ) => html`<tr aria-current=${b.id === selected ? "true" : undefined}><td>${b.id}</td><td>${b.name}</td><td>${b.state}</td><td>${b.done} of ${b.total}</td>
        <td><button type="button" onClick=${() => setSelected(b.id)} aria-label=${`Open batch ${b.name}`}>Open</button></td></tr>`,
      )}</tbody></table>
    </div>
    ${batch !== undefined ? html`<${BatchRun} rpc=${rpc} batch=${batch} shared=${shared} onChange=${refresh} />` : null}
    <${CreateBatch} rpc=${rpc} onCreated=${(id: number) => {
      refresh();
      setSelected(id);
    }} />
  </section>`;
}
