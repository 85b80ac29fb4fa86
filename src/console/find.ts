/**
 * Find: which token shows this code? The operator types the code read off an unknown token and
 * gets the batch item and serial it belongs to (journal.find: serials and items, never seeds).
 * When several seeds show the code, the page asks for the code the token shows next and calls
 * again with both (then three), around the time of the first call, so one token is left.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { ErrorBox, html } from "./ui.js";

interface Batch {
  id: number;
  name: string;
}

interface Match {
  batchId: number;
  itemId: number;
  item: number;
  serial: string;
  label: string | null;
  digits: number;
  period: number;
  offset: number;
}

interface Answer {
  matches: Match[];
  searched: number;
  ambiguous: boolean;
  window: number;
  time: number;
}

/** journal.find takes 1 to 3 codes (docs/API.md). */
const MAX_CODES = 3;

const CODE_LABELS = ["Code the token shows", "Next code the token shows (once it has changed)", "The code after that"];

/** How far the token's clock is off, in steps and roughly in seconds. */
function offsetText(m: Match): string {
  if (m.offset === 0) return "0 steps: the token's clock is on time";
  const steps = `${m.offset > 0 ? "+" : "−"}${Math.abs(m.offset)} ${Math.abs(m.offset) === 1 ? "step" : "steps"}`;
  return `${steps}: the token's clock is about ${Math.abs(m.offset) * m.period} s ${m.offset > 0 ? "ahead" : "behind"}`;
}

function Matches({ answer, batchName }: { answer: Answer; batchName: (id: number) => string }) {
  return html`<ul class="lanes matches" aria-label="Tokens that show the code">${answer.matches.map(
    (m) => html`<li class="lane state-done" data-serial=${m.serial}>
    <h4>Serial ${m.serial}</h4>
    <dl>
      <dt>Batch</dt><dd>${batchName(m.batchId)}</dd>
      <dt>Item</dt><dd data-testid="find-item">${m.item}</dd>
      <dt>Serial</dt><dd data-testid="find-serial">${m.serial}</dd>
      <dt>Label</dt><dd>${m.label ?? "—"}</dd>
      <dt>Clock offset</dt><dd>${offsetText(m)}</dd>
    </dl>
  </li>`,
  )}</ul>`;
}

function Summary({ answer, codes }: { answer: Answer; codes: number }) {
  const searched = `${answer.searched} ${answer.searched === 1 ? "seed" : "seeds"} searched within ±${answer.window} ${answer.window === 1 ? "step" : "steps"}`;
  const shown = codes === 1 ? "this code" : `these ${codes} codes`;
  let text: string;
  if (answer.matches.length === 0) text = `No match: no token in the journal shows ${shown} (${searched}).`;
  else if (!answer.ambiguous) text = `Found: item ${answer.matches[0]!.item}, serial ${answer.matches[0]!.serial} (${searched}).`;
  else if (codes < MAX_CODES) text = `${answer.matches.length} tokens show ${shown}: type the code the token shows next to tell them apart.`;
  else text = `${answer.matches.length} tokens show ${shown}: their codes cannot tell them apart; read the serial printed on the token.`;
  return html`<p role="status" data-testid="find-summary" class=${answer.matches.length === 0 ? "bad" : answer.ambiguous ? undefined : "ok"}>${text}</p>`;
}

export function Find({ rpc }: { rpc: Rpc }) {
  const [batches, setBatches] = useState<Batch[]>([]);
  const [batchId, setBatchId] = useState("");
  const [steps, setSteps] = useState("2");
  const [codes, setCodes] = useState<string[]>([]);
  const [code, setCode] = useState("");
  const [answer, setAnswer] = useState<Answer>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    rpc.call<{ batches: Batch[] }>("batch.list").then((r) => setBatches(r.batches), setError);
  }, [rpc]);

  // Another code follows only while several tokens are left and the API takes one more.
  const next = answer?.ambiguous === true && codes.length < MAX_CODES;
  const startOver = (): void => {
    setCodes([]);
    setAnswer(undefined);
    setCode("");
    setError(undefined);
    input.current?.focus();
  };
  const find = async (e: Event): Promise<void> => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    const asked = next ? [...codes, code.trim()] : [code.trim()];
    try {
      const r = await rpc.call<Answer>("journal.find", {
        codes: asked,
        window: Number(steps),
        ...(batchId !== "" ? { batchId: Number(batchId) } : {}),
        // The next codes are searched around the time the first was read, not the time they are typed.
        ...(next ? { time: answer!.time } : {}),
      });
      setCodes(asked);
      setAnswer(r);
      setCode("");
    } catch (err) {
      setError(err);
      // A failed next code keeps the tokens left, so the operator can type it again.
      if (!next) {
        setCodes([]);
        setAnswer(undefined);
      }
    } finally {
      setBusy(false);
      input.current?.focus();
    }
  };
  const batchName = (id: number): string => {
    const b = batches.find((x) => x.id === id);
    return b === undefined ? `#${id}` : `#${id} ${b.name}`;
  };
  const codeLabel = CODE_LABELS[next ? codes.length : 0]!;
  return html`<section aria-labelledby="find-title">
    <h2 id="find-title">Find a token</h2>
    <p class="note">Type the code an unknown token shows: the journal says which batch item and serial it belongs to. No seed leaves the daemon.</p>
    <form onSubmit=${find}>
      <div class="row">
        <label for="find-batch">Batch</label>
        <select id="find-batch" value=${batchId} onChange=${(e: Event) => {
          setBatchId((e.target as HTMLSelectElement).value);
          startOver();
        }}>
          <option value="">Every batch</option>
          ${batches.map((b) => html`<option value=${String(b.id)}>#${b.id} ${b.name}</option>`)}
        </select>
        <span class="field"><label for="find-window">Window (± steps)</label>
        <input id="find-window" type="number" min="0" max="10" value=${steps} aria-describedby="find-window-note"
          onInput=${(e: Event) => {
            setSteps((e.target as HTMLInputElement).value);
            startOver();
          }} /></span>
      </div>
      <p id="find-window-note" class="note">How far the token's clock may be off, in time steps either side of now (0 to 10; 2 covers a minute at 30 s).</p>
      ${next ? html`<ol class="codes" aria-label="Codes typed so far">${codes.map((c) => html`<li class="code-typed">${c}</li>`)}</ol>` : null}
      <label for="find-code">${codeLabel}</label>
      <div class="row">
        <input id="find-code" ref=${input} class="find-code" inputmode="numeric" autocomplete="off" maxlength="10" size="10" value=${code}
          onInput=${(e: Event) => setCode((e.target as HTMLInputElement).value)} />
        <button type="submit" class="primary" disabled=${busy || code.trim() === ""}>${next ? "Find with this code too" : "Find"}</button>
        ${answer !== undefined ? html`<button type="button" onClick=${startOver}>Start over</button>` : null}
      </div>
    </form>
    <${ErrorBox} error=${error} />
    ${
      answer !== undefined
        ? html`<div class="result" aria-labelledby="find-result-title">
      <h3 id="find-result-title">${codes.length === 1 ? "Result" : `Result with ${codes.length} codes`}</h3>
      <${Summary} answer=${answer} codes=${codes.length} />
      ${answer.matches.length > 0 ? html`<${Matches} answer=${answer} batchName=${batchName} />` : null}
    </div>`
        : null
    }
  </section>`;
}
