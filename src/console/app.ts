/** The console's shell: a header, one navigation, one screen at a time (the URL's #hash names it). */
import { useEffect, useState } from "preact/hooks";
import { Batches } from "./batches.js";
import { Burn } from "./burn.js";
import { FidoKeys } from "./fido.js";
import { Find } from "./find.js";
import { Health } from "./health.js";
import { Molto2 } from "./molto2.js";
import { Readers } from "./readers.js";
import type { Rpc } from "./rpc.js";
import { html } from "./ui.js";

const SCREENS = [
  { id: "readers", title: "Readers", view: Readers },
  { id: "burn", title: "Burn one token", view: Burn },
  { id: "batches", title: "Batches", view: Batches },
  { id: "find", title: "Find", view: Find },
  { id: "molto2", title: "Molto2", view: Molto2 },
  { id: "fido", title: "FIDO keys", view: FidoKeys },
  { id: "health", title: "Health", view: Health },
] as const;

type ScreenId = (typeof SCREENS)[number]["id"];

const fromHash = (): ScreenId => SCREENS.find((s) => `#${s.id}` === location.hash)?.id ?? "readers";

export function App({ rpc }: { rpc: Rpc }) {
  const [screen, setScreen] = useState<ScreenId>(fromHash());
  const [closed, setClosed] = useState(false);
  useEffect(() => {
    const onHash = (): void => setScreen(fromHash());
    addEventListener("hashchange", onHash);
    const off = rpc.on("close", () => setClosed(true));
    return () => {
      removeEventListener("hashchange", onHash);
      off();
    };
  }, [rpc]);
  const current = SCREENS.find((s) => s.id === screen)!;
  useEffect(() => {
    document.title = `${current.title} · otpbridge console`;
  }, [current]);
  return html`<header class="top">
      <p class="brand">otpbridge <span>console</span></p>
      <nav aria-label="Screens"><ul>
        ${SCREENS.map((s) => html`<li><a href=${`#${s.id}`} aria-current=${s.id === screen ? "page" : undefined}>${s.title}</a></li>`)}
      </ul></nav>
      <p class="server">daemon ${rpc.hello?.server.version}</p>
    </header>
    ${
      closed
        ? html`<div class="error" role="alert"><p><strong>The connection to the daemon closed.</strong></p>
      <p class="fix">Fix: check that otpbridge daemon still runs, then reload this page (or log in again with otpbridge console).</p></div>`
        : null
    }
    <main id="main"><${current.view} rpc=${rpc} /></main>`;
}
