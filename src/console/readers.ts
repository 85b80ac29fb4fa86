/** Readers: every reader and key as a lane, live from devices.changed, grouped by family. */
import { useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { deviceName, ErrorBox, html, useDevices, withSession, type Device } from "./ui.js";

const GROUPS: Array<{ title: string; test: (d: Device) => boolean }> = [
  { title: "Single-profile token readers", test: (d) => d.family === "single-profile" || d.family === null },
  { title: "Molto2", test: (d) => d.family === "molto2" },
  { title: "FIDO keys (OTP applet)", test: (d) => d.family === "otp-applet" },
];

function Lane({ rpc, device }: { rpc: Rpc; device: Device }) {
  const [drift, setDrift] = useState<string>();
  const [error, setError] = useState<unknown>();
  const readClock = async (): Promise<void> => {
    setError(undefined);
    try {
      const info = await withSession(rpc, device.id, (session) => rpc.call("token.info", { session }));
      setDrift(info.driftSeconds === undefined ? "not shown by this family" : `${info.driftSeconds > 0 ? "+" : ""}${info.driftSeconds} s`);
    } catch (e) {
      setError(e);
    }
  };
  return html`<li class=${`lane state-${device.state}`}>
    <h4>${deviceName(device)}</h4>
    <dl>
      <dt>Family</dt><dd>${device.family ?? "unknown"}</dd>
      <dt>Model</dt><dd>${device.model ?? "—"}</dd>
      <dt>Serial</dt><dd>${device.serial ?? "—"}</dd>
      <dt>State</dt><dd><span class="state">${device.state}</span>${device.message !== undefined ? html` ${device.message}` : null}</dd>
      ${device.family === "single-profile" ? html`<dt>Clock drift</dt><dd>${drift ?? "not read"}</dd>` : null}
    </dl>
    ${
      device.family === "single-profile" && device.state === "ready"
        ? html`<button type="button" onClick=${readClock} disabled=${device.session !== null}>Read clock drift</button>`
        : null
    }
    <${ErrorBox} error=${error} />
  </li>`;
}

export function Readers({ rpc }: { rpc: Rpc }) {
  const devices = useDevices(rpc);
  return html`<section aria-labelledby="readers-title">
    <h2 id="readers-title">Readers</h2>
    ${devices.length === 0 ? html`<p>No reader is attached. <code>otpbridge doctor</code> says why.</p>` : null}
    ${GROUPS.map((group) => {
      const lanes = devices.filter(group.test);
      return lanes.length === 0
        ? null
        : html`<div class="group">
        <h3 class="group-title">${group.title}</h3>
        <ul class="lanes">${lanes.map((d) => html`<${Lane} key=${d.id} rpc=${rpc} device=${d} />`)}</ul>
      </div>`;
    })}
  </section>`;
}
