/** Small pieces every screen uses: htm bound to preact, the error box, event and device hooks. */
import { h } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { RpcError, type Rpc } from "./rpc.js";

export const html = htm.bind(h);

/** A device as devices.list and devices.changed give it (docs/API.md). */
export interface Device {
  id: string;
  link: "pcsc" | "hid";
  reader?: string;
  path?: string;
  family: "single-profile" | "molto2" | "otp-applet" | null;
  model: string | null;
  serial: string | null;
  state: string;
  message?: string;
  session: string | null;
}

/** Runs `listener` for each `method` event while the component is mounted. */
export function useEvent(rpc: Rpc, method: string, listener: (params: any) => void): void {
  useEffect(() => rpc.on(method, listener), [rpc, method, listener]);
}

/** The live device list: devices.list once, then every devices.changed. */
export function useDevices(rpc: Rpc): Device[] {
  const [devices, setDevices] = useState<Device[]>([]);
  useEffect(() => {
    let live = true;
    rpc.call<{ devices: Device[] }>("devices.list").then(
      (r) => live && setDevices(r.devices),
      () => {},
    );
    const off = rpc.on("devices.changed", (p: { devices: Device[] }) => setDevices(p.devices));
    return () => {
      live = false;
      off();
    };
  }, [rpc]);
  return devices;
}

/** What a batch reader's lane says to do, by its state (docs/API.md batch.progress; a station's reader activity too). */
export const READER_ACTIVITY: Record<string, string> = {
  empty: "waiting for a token",
  waiting: "token seen, not taken yet",
  burning: "burning",
  done: "done: remove it",
  remove: "not burned: remove it",
  failed: "failed",
  interrupted: "interrupted: tap the same token again",
  unsupported: "not a single-profile token",
  error: "error",
};

/** A device's name for people: the reader, or the HID path. */
export const deviceName = (d: Device): string => d.reader ?? d.path ?? d.id;

/** An error as the CLI shows it: the message, then the reason's fix. */
export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const e = error instanceof RpcError ? error : undefined;
  const message = error instanceof Error ? error.message : String(error);
  return html`<div class="error" role="alert">
    <p><strong>${message}</strong>${e !== undefined ? html` <span class="reason">(${e.reason})</span>` : null}</p>
    ${e !== undefined && e.fix !== "" ? html`<p class="fix">Fix: ${e.fix}</p>` : null}
  </div>`;
}

/** Holds a device for the time of `work`: acquire, run, release (even when `work` fails). */
export async function withSession<T>(rpc: Rpc, id: string, work: (session: string) => Promise<T>): Promise<T> {
  const { session } = await rpc.call<{ session: string }>("device.acquire", { id, previous: null });
  try {
    return await work(session);
  } finally {
    await rpc.call("device.release", { session }).catch(() => {});
  }
}

/** Saves text as a download (exports): a Blob URL, so nothing leaves the page. */
export function download(name: string, text: string, type = "text/plain"): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
