/** Entry: connects with this page's CSRF value and renders the console. */
import { render } from "preact";
import { App } from "./app.js";
import { Rpc } from "./rpc.js";
import { html } from "./ui.js";

const root = document.getElementById("app")!;
const csrf = document.querySelector<HTMLMetaElement>('meta[name="otpbridge-csrf"]')?.content ?? "";
Rpc.connect(csrf).then(
  (rpc) => render(html`<${App} rpc=${rpc} />`, root),
  (error: Error) => render(html`<main class="login"><h1>otpbridge console</h1><p role="alert">${error.message}</p></main>`, root),
);
