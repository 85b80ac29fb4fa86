/**
 * The enrolment view of a burned seed: its otpauth URI as a QR code for the user's service or app,
 * and the secret as text with a copy button (a screen reader cannot read a QR code). The seed comes
 * from journal.export, the API's one method that returns seeds (the export capability).
 */
import QRCode from "qrcode";
import { useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { ErrorBox, html } from "./ui.js";

export function Enrol({ rpc, batchId, itemId }: { rpc: Rpc; batchId: number; itemId: number }) {
  const [shown, setShown] = useState<{ svg: string; secret: string }>();
  const [copied, setCopied] = useState("");
  const [error, setError] = useState<unknown>();
  const show = async (): Promise<void> => {
    setError(undefined);
    try {
      const { uris } = await rpc.call<{ uris: string[] }>("journal.export", { batchId, itemId });
      const uri = uris[0];
      if (uri === undefined) throw new Error("the journal has no committed seed for this burn");
      const secret = new URL(uri).searchParams.get("secret") ?? "";
      setShown({ svg: await QRCode.toString(uri, { type: "svg", margin: 2, errorCorrectionLevel: "M" }), secret: secret.replace(/(.{4})(?=.)/g, "$1 ") });
    } catch (e) {
      setError(e);
    }
  };
  const copy = async (): Promise<void> => {
    try {
      await navigator.clipboard.writeText(shown!.secret.replace(/ /g, ""));
      setCopied("Secret copied.");
    } catch {
      setCopied("The browser refused the clipboard: select the text and copy it.");
    }
  };
  if (shown === undefined) {
    return html`<div class="enrol"><button type="button" onClick=${show}>Show the seed for enrolment (QR and text)</button><${ErrorBox} error=${error} /></div>`;
  }
  return html`<div class="enrol" data-testid="enrol">
    <div class="qr" role="img" aria-label="QR code of the otpauth URI (the secret is also given as text)" dangerouslySetInnerHTML=${{ __html: shown.svg }}></div>
    <p><label for="enrol-secret">Secret (base32)</label></p>
    <div class="row">
      <input id="enrol-secret" readonly size="40" class="secret" value=${shown.secret} />
      <button type="button" onClick=${copy}>Copy</button>
      <button type="button" onClick=${() => setShown(undefined)}>Hide</button>
    </div>
    <p role="status">${copied}</p>
  </div>`;
}
