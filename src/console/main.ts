/** Entry: connects with this page's CSRF value and renders the console. */
import { render } from "preact";
import { App } from "./app.js";
import { Rpc } from "./rpc.js";
import { html } from "./ui.js";

const root = document.getElementById("app")!;
const csrf = document.querySelector<HTMLMetaElement>('meta[name="otpbridge-csrf"]')?.content ?? "";
// The "Connecting…" placeholder goes: render() adds to what the container holds.
const show = (view: unknown): void => {
  root.replaceChildren();
  render(view as Parameters<typeof render>[0], root);
};
Rpc.connect(csrf).then(
  (rpc) => show(html`<${App} rpc=${rpc} />`),
  (error: Error) => show(html`<main class="login"><h1>otpbridge console</h1><p role="alert">${error.message}</p></main>`),
);
