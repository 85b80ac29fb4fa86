/**
 * Molto2: a grid of all 50 or 100 profiles (title, algorithm, digits, step, seed present); write,
 * title, config, delete, sync one or all, screen lock; key change and factory reset, which wait
 * for ▲ at the token (the molto2.button event; the operator confirms with "I pressed ▲"). The
 * warning that the public factory key is in use stays until the key is changed.
 */
import { useCallback, useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { deviceName, ErrorBox, html, useDevices, useEvent, withSession } from "./ui.js";

interface Profile {
  profile: number;
  title: string;
  seedPresent: boolean;
  algorithm: string | null;
  digits: number;
  period: number;
}

interface Prompt {
  session: string;
  message: string;
}

export function Molto2({ rpc }: { rpc: Rpc }) {
  const devices = useDevices(rpc).filter((d) => d.family === "molto2" && d.state === "ready");
  const [deviceId, setDeviceId] = useState("");
  const device = devices.find((d) => d.id === deviceId) ?? devices[0];
  const [key, setKey] = useState("");
  const [profiles, setProfiles] = useState<Profile[]>();
  const [factoryKey, setFactoryKey] = useState<string>();
  const [selected, setSelected] = useState(0);
  const [title, setTitle] = useState("");
  const [seed, setSeed] = useState("");
  const [algorithm, setAlgorithm] = useState("SHA1");
  const [digits, setDigits] = useState("6");
  const [period, setPeriod] = useState("30");
  const [overwrite, setOverwrite] = useState(false);
  const [writeConfig, setWriteConfig] = useState(false);
  const [newKey, setNewKey] = useState("");
  const [prompt, setPrompt] = useState<Prompt>();
  const [status, setStatus] = useState("");
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  useEvent(
    rpc,
    "molto2.button",
    useCallback((p: Prompt) => setPrompt(p), []),
  );

  /**
   * One call on the Molto2 with the customer key typed (the factory key when empty), then the
   * profiles read again with `nextKey` (the key in force after the call: a key change or a factory
   * reset changes it, and a wrong key costs one of the token's tries).
   */
  const run = async (method: string, params: Record<string, unknown>, done: (r: any) => string, nextKey = key): Promise<void> => {
    if (device === undefined) return;
    setError(undefined);
    setStatus("");
    setBusy(true);
    try {
      const call = (m: string, p: Record<string, unknown>, k: string) =>
        withSession(rpc, device.id, (session) => rpc.call(m, { session, ...(k !== "" ? { customerKey: k } : {}), ...p }));
      const r = await call(method, params, key);
      setPrompt(undefined);
      const listed = method === "molto2.list" ? r : await call("molto2.list", {}, nextKey);
      setProfiles(listed.profiles);
      // Only a call that authenticates learns that the factory key is in force; the warning then
      // stays until the key is changed.
      const warning = [...(r.warnings ?? []), ...(listed.warnings ?? [])].find((w: { code: string }) => w.code === "default-key");
      if (method === "molto2.changeKey") setFactoryKey(undefined);
      else if (warning !== undefined) setFactoryKey(warning.message);
      else if (method === "molto2.factoryReset") setFactoryKey("the factory reset restored the public factory customer key: change it");
      setStatus(done(r));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
      setPrompt(undefined);
    }
  };
  const list = (): Promise<void> => run("molto2.list", {}, (r) => `${r.profiles.length} profiles read from ${r.serial}`);
  const write = (e: Event): Promise<void> => {
    e.preventDefault();
    const params: Record<string, unknown> = { profile: selected, overwrite };
    if (title !== "") params.title = title;
    if (seed.trim() !== "") params.seed = seed.trim();
    // A seed always goes with its config (a URI brings its own); a title alone leaves the config as it is.
    if ((seed.trim() !== "" || writeConfig) && !/^otpauth/i.test(seed.trim()))
      params.config = { algorithm, digits: Number(digits), period: Number(period), display: 1 };
    return run("molto2.write", params, (r) => {
      setSeed("");
      return `profile ${r.profile}: wrote ${r.written.join(", ")}`;
    });
  };
  const changeKey = async (e: Event): Promise<void> => {
    e.preventDefault();
    const next = newKey;
    await run(
      "molto2.changeKey",
      { newCustomerKey: next },
      () => {
        setKey(next);
        setNewKey("");
        return "customer key changed: keep it safe, every later change needs it";
      },
      next,
    );
  };
  const pick = (p: Profile): void => {
    setSelected(p.profile);
    setTitle(p.title);
  };

  return html`<section aria-labelledby="molto2-title">
    <h2 id="molto2-title">Molto2</h2>
    ${
      devices.length === 0
        ? html`<p>No Molto2 is ready. Plug one in (USB) and check Readers.</p>`
        : html`<div class="row">
      <label for="molto2-device">Token</label>
      <select id="molto2-device" value=${device?.id} onChange=${(e: Event) => setDeviceId((e.target as HTMLSelectElement).value)}>
        ${devices.map((d) => html`<option value=${d.id}>${deviceName(d)}</option>`)}</select>
      <label for="molto2-key">Customer key (hex; empty: factory key)</label>
      <input id="molto2-key" type="password" autocomplete="off" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} />
      <button type="button" class="primary" onClick=${list} disabled=${busy}>Read profiles</button>
    </div>`
    }
    ${factoryKey !== undefined ? html`<div class="warning" role="note" data-testid="factory-key"><strong>Factory key in use.</strong> ${factoryKey}</div>` : null}
    ${
      prompt !== undefined
        ? html`<div class="hold prompt-bar" role="alert" data-testid="button-prompt">
      <p>${prompt.message[0]!.toUpperCase() + prompt.message.slice(1)}, then confirm here.</p>
      <button type="button" ref=${(b: HTMLButtonElement | null) => b?.focus()} onClick=${() => rpc.call("molto2.buttonPressed", { session: prompt.session }).catch(setError)}>I pressed ▲</button>
    </div>`
        : null
    }
    <p role="status">${status}</p>
    <${ErrorBox} error=${error} />
    ${
      profiles !== undefined
        ? html`<div class="table-wrap tall" tabindex="0" role="region" aria-label="Profiles">
      <table><thead><tr><th scope="col">#</th><th scope="col">Title</th><th scope="col">Algorithm</th><th scope="col">Digits</th><th scope="col">Step</th><th scope="col">Seed</th><th scope="col"><span class="sr-only">Select</span></th></tr></thead>
      <tbody>${profiles.map(
        (p) => html`<tr aria-current=${p.profile === selected ? "true" : undefined} data-profile=${p.profile}>
        <td>${p.profile}</td><td>${p.title}</td><td>${p.seedPresent ? (p.algorithm ?? "") : ""}</td><td>${p.seedPresent ? p.digits : ""}</td>
        <td>${p.seedPresent ? `${p.period} s` : ""}</td><td>${p.seedPresent ? "yes" : "no"}</td>
        <td><button type="button" onClick=${() => pick(p)} aria-label=${`Edit profile ${p.profile}`}>Edit</button></td></tr>`,
      )}</tbody></table>
    </div>
    <form onSubmit=${write} aria-labelledby="profile-title">
      <h3 id="profile-title">Profile ${selected}</h3>
      <label for="m2-profile">Profile number</label>
      <input id="m2-profile" type="number" min="0" max=${profiles.length - 1} value=${selected} onInput=${(e: Event) => setSelected(Number((e.target as HTMLInputElement).value))} />
      <label for="m2-title">Title (up to 12 bytes)</label>
      <input id="m2-title" maxlength="12" value=${title} onInput=${(e: Event) => setTitle((e.target as HTMLInputElement).value)} />
      <label for="m2-seed">Seed (base32, otpauth URI or export; empty: keep)</label>
      <input id="m2-seed" type="password" autocomplete="off" value=${seed} onInput=${(e: Event) => setSeed((e.target as HTMLInputElement).value)} />
      <div class="row">
        <label for="m2-alg">Algorithm</label><select id="m2-alg" value=${algorithm} onChange=${(e: Event) => setAlgorithm((e.target as HTMLSelectElement).value)}><option>SHA1</option><option>SHA256</option></select>
        <label for="m2-digits">Digits</label><select id="m2-digits" value=${digits} onChange=${(e: Event) => setDigits((e.target as HTMLSelectElement).value)}>${["4", "6", "8", "10"].map((n) => html`<option>${n}</option>`)}</select>
        <label for="m2-period">Step</label><select id="m2-period" value=${period} onChange=${(e: Event) => setPeriod((e.target as HTMLSelectElement).value)}><option value="30">30 s</option><option value="60">60 s</option></select>
      </div>
      <label class="inline"><input type="checkbox" checked=${writeConfig} onChange=${(e: Event) => setWriteConfig((e.target as HTMLInputElement).checked)} /> Write the config without a seed (sets the profile's clock)</label>
      <label class="inline"><input type="checkbox" checked=${overwrite} onChange=${(e: Event) => setOverwrite((e.target as HTMLInputElement).checked)} /> Overwrite a seed already there</label>
      <div class="row">
        <button type="submit" class="primary" disabled=${busy}>Write</button>
        <button type="button" onClick=${() => run("molto2.delete", { profile: selected }, (r) => `profile ${r.profile} deleted`)} disabled=${busy}>Delete</button>
        <button type="button" onClick=${() => run("molto2.syncTime", { profile: selected }, (r) => `profile ${r.profiles.join(", ")} synced`)} disabled=${busy}>Sync this profile</button>
      </div>
    </form>
    <h3>Whole token</h3>
    <div class="row">
      <button type="button" onClick=${() => run("molto2.syncTime", {}, (r) => `${r.profiles.length} profiles synced to the host clock`)} disabled=${busy}>Sync all</button>
      <button type="button" onClick=${() => run("molto2.screenLock", { locked: true }, () => "screen locked")} disabled=${busy}>Lock screen</button>
      <button type="button" onClick=${() => run("molto2.screenLock", { locked: false }, () => "screen unlocked")} disabled=${busy}>Unlock screen</button>
    </div>
    <form class="row" onSubmit=${changeKey}>
      <label for="m2-newkey">New customer key (hex)</label>
      <input id="m2-newkey" type="password" autocomplete="new-password" required value=${newKey} onInput=${(e: Event) => setNewKey((e.target as HTMLInputElement).value)} />
      <button type="submit" disabled=${busy}>Change key</button>
      <button type="button" disabled=${busy} onClick=${() =>
        confirm("Factory reset deletes every profile. Go on?") &&
        run(
          "molto2.factoryReset",
          {},
          () => {
            setKey("");
            return "factory reset: every profile deleted, the factory key is back";
          },
          "",
        )}>Factory reset</button>
    </form>`
        : null
    }
  </section>`;
}
