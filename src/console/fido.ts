/**
 * FIDO keys (the OTP applet of Token2 PIN+ / T2F2 keys): the entries with their codes, a touch
 * prompt while the code of an entry that needs one is read, add (the seed is sealed for the key in
 * the daemon) and delete.
 */
import { useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { deviceName, ErrorBox, html, useDevices, withSession } from "./ui.js";

interface Entry {
  type: string;
  algorithm: string;
  period: number;
  digits: number;
  buttonRequired: boolean;
  app: string;
  account: string;
  code: string | null;
}

export function FidoKeys({ rpc }: { rpc: Rpc }) {
  const devices = useDevices(rpc).filter((d) => d.family === "otp-applet" && d.state === "ready");
  const [deviceId, setDeviceId] = useState("");
  const device = devices.find((d) => d.id === deviceId) ?? devices[0];
  const [entries, setEntries] = useState<Entry[]>();
  const [touch, setTouch] = useState<string>();
  const [app, setApp] = useState("");
  const [account, setAccount] = useState("");
  const [seed, setSeed] = useState("");
  const [needsTouch, setNeedsTouch] = useState(false);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const run = async (work: (session: string) => Promise<string>): Promise<void> => {
    if (device === undefined) return;
    setError(undefined);
    setStatus("");
    setBusy(true);
    try {
      await withSession(rpc, device.id, async (session) => {
        setStatus(await work(session));
        setEntries((await rpc.call("otpApplet.list", { session })).entries);
      });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setTouch(undefined);
    }
  };
  const list = (): Promise<void> => run(async () => "entries read");
  const code = (entry: Entry): Promise<void> =>
    run(async (session) => {
      if (entry.buttonRequired) setTouch(`Touch the key now to show the code of ${entry.app}:${entry.account}`);
      const r = await rpc.call("otpApplet.code", { session, app: entry.app, account: entry.account });
      return `${entry.app}:${entry.account} shows ${r.code}`;
    });
  const add = (e: Event): Promise<void> => {
    e.preventDefault();
    return run(async (session) => {
      await rpc.call("otpApplet.add", { session, app, account, seed: seed.trim(), buttonRequired: needsTouch });
      setSeed("");
      return `added ${app}:${account}`;
    });
  };
  const remove = (entry: Entry): Promise<void> =>
    run(async (session) => {
      await rpc.call("otpApplet.delete", { session, app: entry.app, account: entry.account });
      return `deleted ${entry.app}:${entry.account}`;
    });

  return html`<section aria-labelledby="fido-title">
    <h2 id="fido-title">FIDO keys (OTP applet)</h2>
    ${
      devices.length === 0
        ? html`<p>No FIDO key with an OTP applet is ready. Plug one in and check Readers.</p>`
        : html`<div class="row">
      <label for="fido-device">Key</label>
      <select id="fido-device" value=${device?.id} onChange=${(e: Event) => setDeviceId((e.target as HTMLSelectElement).value)}>
        ${devices.map((d) => html`<option value=${d.id}>${deviceName(d)}</option>`)}</select>
      <button type="button" class="primary" onClick=${list} disabled=${busy}>Read entries</button>
    </div>`
    }
    ${touch !== undefined ? html`<p class="hold" role="alert" data-testid="touch-prompt">${touch}</p>` : null}
    <p role="status">${status}</p>
    <${ErrorBox} error=${error} />
    ${
      entries !== undefined
        ? html`
      ${
        entries.length === 0
          ? html`<p>The key holds no entry.</p>`
          : html`<div class="table-wrap" tabindex="0" role="region" aria-label="Entries">
        <table><thead><tr><th scope="col">App</th><th scope="col">Account</th><th scope="col">Type</th><th scope="col">Code</th><th scope="col"><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>${entries.map(
          (x) => html`<tr data-entry=${`${x.app}:${x.account}`}><td>${x.app}</td><td>${x.account}</td>
          <td>${x.type} ${x.algorithm} ${x.digits} digits${x.type === "TOTP" ? `, ${x.period} s` : ""}${x.buttonRequired ? ", touch" : ""}</td>
          <td class="code-cell">${x.code ?? (x.buttonRequired ? "touch needed" : "")}</td>
          <td><div class="row">
            ${x.code === null ? html`<button type="button" onClick=${() => code(x)} disabled=${busy} aria-label=${`Show code of ${x.app}:${x.account}`}>Code</button>` : null}
            <button type="button" onClick=${() => remove(x)} disabled=${busy} aria-label=${`Delete ${x.app}:${x.account}`}>Delete</button>
          </div></td></tr>`,
        )}</tbody></table></div>`
      }
      <form onSubmit=${add} aria-labelledby="fido-add-title">
        <h3 id="fido-add-title">Add an entry</h3>
        <label for="fido-app">Issuer (app)</label>
        <input id="fido-app" maxlength="64" value=${app} onInput=${(e: Event) => setApp((e.target as HTMLInputElement).value)} />
        <label for="fido-account">Account</label>
        <input id="fido-account" required maxlength="64" value=${account} onInput=${(e: Event) => setAccount((e.target as HTMLInputElement).value)} />
        <label for="fido-seed">Seed (base32, otpauth URI or export)</label>
        <input id="fido-seed" type="password" required autocomplete="off" value=${seed} onInput=${(e: Event) => setSeed((e.target as HTMLInputElement).value)} />
        <label class="inline"><input type="checkbox" checked=${needsTouch} onChange=${(e: Event) => setNeedsTouch((e.target as HTMLInputElement).checked)} /> Needs a touch for each code</label>
        <button type="submit" class="primary" disabled=${busy}>Add</button>
      </form>`
        : null
    }
  </section>`;
}
