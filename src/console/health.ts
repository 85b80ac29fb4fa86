/** Health: the doctor's findings with their fixes, and the host clock as the daemon judges it before each write. */
import { useEffect, useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { ErrorBox, html } from "./ui.js";

interface Report {
  findings: Array<{ check: string; level: "ok" | "info" | "warn" | "error"; title: string; fix?: string }>;
  clock: { time: number; sync: string; offsetMs?: number; problems: string[] };
}

const LEVEL: Record<string, string> = { ok: "OK", info: "Note", warn: "Warning", error: "Problem" };

export function Health({ rpc }: { rpc: Rpc }) {
  const [report, setReport] = useState<Report>();
  const [error, setError] = useState<unknown>();
  const check = (): void => {
    setError(undefined);
    rpc.call<Report>("health.check").then(setReport, setError);
  };
  useEffect(check, [rpc]);
  return html`<section aria-labelledby="health-title">
    <h2 id="health-title">Health</h2>
    <button type="button" onClick=${check}>Check again</button>
    <${ErrorBox} error=${error} />
    ${
      report !== undefined
        ? html`
      <h3>Host clock</h3>
      <p data-testid="clock-state">${report.clock.problems.length === 0 ? "Trusted" : "Not trusted"}: the system says it is ${report.clock.sync}${
        report.clock.offsetMs !== undefined ? `, ${report.clock.offsetMs} ms from the NTP server` : ""
      }; host time ${new Date(report.clock.time).toISOString()}.</p>
      ${report.clock.problems.length > 0 ? html`<ul class="problems">${report.clock.problems.map((p) => html`<li>${p}</li>`)}</ul>` : null}
      <h3>Findings</h3>
      <ul class="findings">${report.findings.map(
        (f) => html`<li class=${`finding level-${f.level}`} data-check=${f.check}>
        <p><strong>${LEVEL[f.level]}:</strong> ${f.title}</p>
        ${f.fix !== undefined ? html`<pre class="fix-text"><code>${f.fix}</code></pre>` : null}
      </li>`,
      )}</ul>`
        : html`<p>Checking…</p>`
    }
  </section>`;
}
