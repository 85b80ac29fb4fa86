/**
 * The Batches screen in station mode (`otpbridge daemon --store URL --station NAME`, docs/STATIONS.md):
 * a note that the batches are the shared store's, and for the batch shown a Stations panel, one card
 * per station (alive or silent, committed, items in hand, its readers) and the shared counts. It is
 * loaded from `batch.status` (its `stations`) and kept live by `batch.stations` events; a batch this
 * station does not work on sends no event, so it is read again every few seconds instead.
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Rpc } from "./rpc.js";
import { ErrorBox, html, READER_ACTIVITY, useEvent } from "./ui.js";

/** What `batch.list` says of the store in station mode (docs/API.md batch.list). */
export interface SharedStore {
  /** This daemon's station name. */
  station: string;
  /** The shared batch this station works on, or null. */
  driven: number | null;
}

interface StationView {
  id: string;
  host: string;
  alive: boolean;
  heartbeatAt: number;
  committed: number;
  leased: number;
  readers: Array<{ name: string; activity: string; serial?: string }>;
}

/** The `batch.stations` event's params, and `batch.status`'s `stations` in station mode. */
interface SharedStatus {
  batch: { id: number; name: string; state: string };
  counts: Record<string, number>;
  total: number;
  done: boolean;
  stations: StationView[];
}

/** A batch no event speaks for is read again this often. */
const REREAD_MS = 5_000;

/** "4 s", "3 min", "2 h": how long ago, for people. */
function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** A clock that moves every second while the panel is open, for the heartbeats' ages. */
function useNow(): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1_000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

/** Says plainly, above the batch list, that these batches are shared and which station this is. */
export function SharedStoreNote({ store, drivenName }: { store: SharedStore; drivenName: string | undefined }) {
  return html`<p class="shared-note" data-testid="shared-store">
    <strong>Shared batches.</strong> This daemon is station <strong>${store.station}</strong> of a shared store (PostgreSQL): the
    batches below belong to every station on it, and a batch started here goes on at the others.
    ${store.driven !== null ? ` This station works on batch ${store.driven}${drivenName !== undefined ? ` (${drivenName})` : ""}.` : " This station works on no batch yet: open one and start it here."}
  </p>`;
}

function Counts({ status }: { status: SharedStatus }) {
  const n = (state: string): number => status.counts[state] ?? 0;
  const inHand = n("claimed") + n("burned") + n("verified");
  return html`<dl class="shared-counts" data-testid="shared-counts">
    <dt>Committed</dt><dd data-count="committed">${n("committed")} of ${status.total}</dd>
    <dt>Waiting for a token</dt><dd data-count="pending">${n("pending")}</dd>
    <dt>In hand at a station</dt><dd data-count="in-hand">${inHand}</dd>
    <dt>Failed</dt><dd data-count="failed">${n("failed")}</dd>
    <dt>Needs a tap</dt><dd data-count="needs-check">${n("needs-check")}
      <span class="note">: a station stopped after it may have written to the token; tap that token on any station to finish it with the same seed.</span></dd>
    ${n("superseded") > 0 ? html`<dt>Superseded</dt><dd data-count="superseded">${n("superseded")} (re-burned by another batch)</dd>` : null}
  </dl>`;
}

/**
 * A station's readers: those with a token or a state worth a look by name, the idle ones (no
 * token) as one line, so a station with many readers stays one short card.
 */
function StationReaders({ station }: { station: StationView }) {
  if (station.readers.length === 0) return html`<p class="note">No reader reported yet.</p>`;
  const busy = station.readers.filter((r) => r.activity !== "empty" || r.serial !== undefined);
  const idle = station.readers.filter((r) => !busy.includes(r));
  return html`<ul class="station-readers" aria-label=${`Readers of ${station.id}`}>
    ${busy.map(
      (r) =>
        html`<li data-reader=${r.name}><span class="reader-name">${r.name}</span>${": "}<span class="activity">${READER_ACTIVITY[r.activity] ?? r.activity}</span>${r.serial !== undefined ? ` · token ${r.serial}` : ""}</li>`,
    )}
    ${
      idle.length > 0
        ? html`<li class="idle" data-testid="idle-readers">${idle.length === 1 ? `${idle[0]!.name}: ` : `${idle.length} readers `}waiting for a token</li>`
        : null
    }
  </ul>`;
}

function StationCard({ station, self, now }: { station: StationView; self: boolean; now: number }) {
  const heartbeat = age(now - station.heartbeatAt);
  return html`<li class=${`lane station ${station.alive ? "station-alive" : "station-silent"}${self ? " station-self" : ""}`} data-station=${station.id}>
    <h5>${station.id}${self ? html` <span class="badge">this station</span>` : null}</h5>
    <dl>
      <dt>Host</dt><dd>${station.host}</dd>
      <dt>Heartbeat</dt><dd data-testid="station-alive"><span class="state">${station.alive ? "alive" : "silent"}</span>${` (${station.alive ? "heartbeat" : "last heartbeat"} ${heartbeat} ago)`}</dd>
      <dt>Committed</dt><dd data-testid="station-committed">${station.committed}</dd>
      <dt>In hand</dt><dd data-testid="station-leased">${station.leased}</dd>
    </dl>
    <${StationReaders} station=${station} />
  </li>`;
}

/** Every station of shared batch `batchId`, live; `self` is this daemon's station name. */
export function StationsPanel({ rpc, batchId, self }: { rpc: Rpc; batchId: number; self: string }) {
  const [status, setStatus] = useState<SharedStatus>();
  const [error, setError] = useState<unknown>();
  const lastEvent = useRef(0);
  const now = useNow();
  useEffect(() => {
    let live = true;
    setStatus(undefined);
    const read = (): void => {
      rpc.call<{ stations?: SharedStatus }>("batch.status", { batchId }).then(
        (r) => {
          if (!live) return;
          setError(undefined);
          if (r.stations !== undefined) setStatus(r.stations);
        },
        (e) => live && setError(e),
      );
    };
    read();
    const timer = setInterval(() => {
      if (Date.now() - lastEvent.current > REREAD_MS) read();
    }, REREAD_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [rpc, batchId]);
  useEvent(
    rpc,
    "batch.stations",
    useCallback(
      (p: SharedStatus) => {
        if (p.batch.id !== batchId) return;
        lastEvent.current = Date.now();
        setStatus(p);
      },
      [batchId],
    ),
  );
  return html`<div class="stations" aria-labelledby="stations-title">
    <h4 id="stations-title">Stations</h4>
    <${ErrorBox} error=${error} />
    ${
      status === undefined
        ? html`<p>Reading the stations…</p>`
        : html`<${Counts} status=${status} />
      ${
        status.stations.length === 0
          ? html`<p>No station has worked on this batch yet.</p>`
          : html`<ul class="lanes station-list" aria-label="Stations of this batch">${status.stations.map(
              (s) => html`<${StationCard} station=${s} self=${s.id === self} now=${now} />`,
            )}</ul>`
      }`
    }
  </div>`;
}
