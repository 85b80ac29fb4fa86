/**
 * Stations' throughput (issue #14): tokens per minute for 1, 2 and 3 stations of four readers each
 * working through one shared batch on one PostgreSQL server (a throw-away cluster, or `--store URL`),
 * with the ratio against one station measured in the same run; the target is 3 stations at least
 * 2.8 times one.
 *
 * Each station is what `batch run --store` runs: a BatchEngine on a SharedJournal over a Station
 * (claim, write announced, burn, steps, heartbeats, sweeper, live status by LISTEN), its readers
 * in-memory with emulated tokens. Each reader has an operator who lifts a token once its item is
 * committed and taps the next one OPERATOR_MS later, which stands for the person and for pcscd
 * noticing the card (100-420 ms, docs/TESTING.md): the question is whether the shared store and the
 * stations keep up as stations are added, not how fast one emulated token burns. All stations run
 * in this one process, on this machine's cores.
 * The test side now has enough vpcd readers for 3 stations of 4 (test/fixtures/reader.conf; the
 * stations crash test uses them), so a vpcd variant could be built; it is not, because those readers
 * are the test scripts' (installed by scripts/services.sh, shared under the lock of
 * test/fixtures/pcscd.ts), and one pcscd polling 12 readers for every station would put its
 * card-detection delay, not the shared store, in the ratios this bench is for.
 * Usage: npm run bench:stations [-- --quick] [-- --store postgres://...]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { BatchEngine, type BatchItemEvent } from "../src/service/batch-engine.js";
import { DeviceManager } from "../src/drivers/device-manager.js";
import { MemoryReaders } from "../src/simulation/simulation.js";
import { SingleProfileToken } from "../src/emulator/single-profile-token.js";
import { Outbox, SharedJournal, Station, StationStore } from "../src/store/stations/index.js";
import { withServer } from "./pg-server.js";

const quick = process.argv.includes("--quick");
const PER_READER = quick ? 6 : 15;
const READERS_PER_STATION = 4;
const OPERATOR_MS = 300;
const PASSPHRASE = "bench passphrase";
const SCRYPT = { N: 2 ** 14, r: 8, p: 1 };

interface BenchStation {
  engine: BatchEngine;
  readers: MemoryReaders;
  committed: Map<string, () => void>;
  failures: string[];
  close(): Promise<void>;
}

async function station(url: string, name: string, batchId: number, dir: string): Promise<BenchStation> {
  const store = await StationStore.connect({ url, station: name });
  const batch = await store.openBatch(batchId, PASSPHRASE);
  const outbox = Outbox.open(join(dir, name));
  const st = new Station({ store, batch, outbox });
  st.start();
  const journal = await SharedJournal.open(st);
  const readers = new MemoryReaders();
  for (let r = 0; r < READERS_PER_STATION; r++) readers.addReader(`${name} R${r + 1}`);
  const manager = new DeviceManager({ pcsc: readers });
  const engine = new BatchEngine({ journal, devices: manager });
  const committed = new Map<string, () => void>();
  const failures: string[] = [];
  engine.onItem((e: BatchItemEvent) => {
    if (e.outcome !== "committed") failures.push(`${e.serial}: ${e.outcome} ${e.message ?? ""}`);
    else committed.get(e.serial)?.();
  });
  engine.run(batchId);
  return {
    engine,
    readers,
    committed,
    failures,
    close: async () => {
      await engine.close();
      manager.close();
      st.close();
      await journal.close();
      batch.close();
      outbox.close();
      await store.close();
    },
  };
}

/** One shared batch burned by `count` stations; returns tokens per minute. */
async function measure(url: string, count: number, serialBase: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "otpb-bench-stations-"));
  const owner = await StationStore.connect({ url, station: "bench-owner" });
  const total = count * READERS_PER_STATION * PER_READER;
  const record = await owner.createBatch({ name: `bench ${count}`, count: total }, PASSPHRASE, SCRYPT);
  await owner.setBatchState(record.id, "start");
  const stations = await Promise.all(Array.from({ length: count }, (_, s) => station(url, `bench-${serialBase}-${s + 1}`, record.id, dir)));
  try {
    const t0 = performance.now();
    await Promise.all(
      stations.flatMap((st, s) =>
        Array.from({ length: READERS_PER_STATION }, async (_, r) => {
          const reader = `bench-${serialBase}-${s + 1} R${r + 1}`;
          for (let i = 0; i < PER_READER; i++) {
            const serial = `86596221${String(serialBase + s * 1000 + r * 100 + i).padStart(6, "0")}`;
            const done = new Promise<void>((resolve) => st.committed.set(serial, resolve));
            st.readers.insert(reader, new SingleProfileToken({ serial }));
            await done;
            st.readers.remove(reader);
            await sleep(OPERATOR_MS);
          }
        }),
      ),
    );
    const minutes = (performance.now() - t0) / 60_000;
    const failures = stations.flatMap((s) => s.failures);
    const committed = (await owner.status(record.id)).counts.committed;
    if (failures.length > 0 || committed !== total) throw new Error(`not every item was committed (${committed}/${total}): ${failures.join("; ")}`);
    return total / minutes;
  } finally {
    for (const s of stations) await s.close();
    await owner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(url: string): Promise<void> {
  console.log(
    `shared-batch throughput, ${READERS_PER_STATION} in-memory readers per station, ${PER_READER} tokens per reader, ${OPERATOR_MS} ms from lift to next tap${quick ? " (--quick)" : ""}; load ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  const rates: number[] = [];
  for (const count of [1, 2, 3]) {
    const rate = await measure(url, count, count * 10_000);
    rates.push(rate);
    console.log(
      `${count} station${count > 1 ? "s" : " "}  ${rate.toFixed(1).padStart(7)} tokens/min  ${(rate / rates[0]!).toFixed(2)}x one station (ideal ${count}x)`,
    );
  }
  console.log(`3 stations / 1 station: ${(rates[2]! / rates[0]!).toFixed(2)}x (target 2.8x)`);
}

await withServer(main);
