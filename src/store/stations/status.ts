/** The live view of a shared batch: counts per state, and every station with its readers. */
import type { Db } from "./store.js";
import { SHARED_ITEM_STATES, type SharedBatchRecord, type SharedBatchStatus, type SharedItemState, type StationReader, type StationRecord } from "./types.js";

/** A station whose heartbeat is older than three lease periods is shown as not alive. */
const ALIVE_LEASES = 3;

export async function batchStatus(db: Db, batch: SharedBatchRecord, leaseMs: number): Promise<SharedBatchStatus> {
  const counts = Object.fromEntries(SHARED_ITEM_STATES.map((s) => [s, 0])) as Record<SharedItemState, number>;
  const byState = await db.query<{ state: SharedItemState; n: number }>("SELECT state, count(*)::int AS n FROM otpb_items WHERE batch_id = $1 GROUP BY state", [
    batch.id,
  ]);
  for (const { state, n } of byState.rows) counts[state] = n;
  const total = byState.rows.reduce((sum, r) => sum + r.n, 0);
  const open = counts.pending + counts.claimed + counts.burned + counts.verified + counts["needs-check"];

  const stations = await db.query<{
    id: string;
    host: string;
    batch_id: number | null;
    readers: StationReader[];
    started_at: Date;
    heartbeat_at: Date;
    alive: boolean;
    committed: number;
    leased: number;
  }>(
    `SELECT s.id, s.host, s.batch_id, s.readers, s.started_at, s.heartbeat_at,
            s.heartbeat_at > now() - $2 * interval '1 millisecond' AS alive,
            count(i.id) FILTER (WHERE i.state = 'committed')::int AS committed,
            count(i.id) FILTER (WHERE i.session = s.session AND i.lease_expires_at IS NOT NULL)::int AS leased
     FROM otpb_stations s LEFT JOIN otpb_items i ON i.batch_id = $1 AND i.station = s.id
     WHERE s.batch_id = $1 OR i.id IS NOT NULL
     GROUP BY s.id ORDER BY s.id`,
    [batch.id, leaseMs * ALIVE_LEASES],
  );
  const records: StationRecord[] = stations.rows.map((r) => ({
    id: r.id,
    host: r.host,
    batchId: r.batch_id,
    readers: r.readers,
    startedAt: r.started_at.getTime(),
    heartbeatAt: r.heartbeat_at.getTime(),
    alive: r.alive,
    committed: r.committed,
    leased: r.leased,
  }));
  return { batch, counts, total, done: open === 0, stations: records };
}
