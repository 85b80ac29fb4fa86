/**
 * Batch throughput (issue #6): tokens per minute for 1, 2, 4 and 8 readers through the real PC/SC
 * stack (BatchEngine → DeviceManager → PcscManager → pcscd → vpcd → emulated tokens in this
 * process), with the scaling ratio against 1 reader. Each reader has an operator who taps the next
 * token as soon as the previous one is lifted, and lifts a token as soon as its item is committed;
 * pcscd's polling (a card is seen 100-420 ms after it arrives, docs/TESTING.md) is part of every tap,
 * as it is for a person at a real reader.
 *
 * Takes the machine-wide PC/SC test lock (the same directory lock as test/fixtures/pcscd.ts), so it
 * never disturbs a test suite using the readers. Needs pcscd with the readers of
 * test/fixtures/reader.conf (scripts/services.sh).
 * Usage: npm run bench:batch [-- --quick]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { BatchEngine, type BatchItemEvent } from "../src/service/batch-engine.js";
import { DeviceManager } from "../src/drivers/device-manager.js";
import { vpcdSlots } from "../src/simulation/simulation.js";
import { SingleProfileToken } from "../src/emulator/single-profile-token.js";
import { Journal } from "../src/store/journal.js";
import { PcscManager, type PcscEvent } from "../src/transports/pcsc.js";
import { insertCard } from "../src/transports/vpcd-bridge.js";
import { lockPcscd } from "./pcscd-lock.js";

const quick = process.argv.includes("--quick");
const PER_READER = quick ? 6 : 20;
const READER_COUNTS = [1, 2, 4, 8];
function pcscEvent(pcsc: PcscManager, match: (e: PcscEvent) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no PC/SC event within 5 s")), 5_000);
    const off = pcsc.on((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Runs one batch of `PER_READER × readers` tokens; returns tokens per minute. */
async function measure(pcsc: PcscManager, slots: Array<{ name: string; port: number }>, serialBase: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "otpb-bench-batch-"));
  const names = new Set(slots.map((s) => s.name));
  const manager = new DeviceManager({
    pcsc,
    families: slots.map((s) => ({ reader: s.name, match: "exact", family: "single-profile" })),
    readerFilter: (n) => names.has(n),
  });
  const journal = Journal.open({ dataDir: join(dir, "data"), key: { kind: "keyFile" } });
  const engine = new BatchEngine({ journal, devices: manager });
  const committed = new Map<string, () => void>();
  const failures: string[] = [];
  engine.onItem((e: BatchItemEvent) => {
    if (e.outcome !== "committed") failures.push(`${e.serial}: ${e.outcome} ${e.message ?? ""}`);
    committed.get(e.serial)?.();
  });
  try {
    const batch = journal.createBatch({ name: "bench", count: PER_READER * slots.length });
    engine.run(batch.id);
    const t0 = performance.now();
    await Promise.all(
      slots.map(async (slot, r) => {
        for (let i = 0; i < PER_READER; i++) {
          const serial = `86596221${String(serialBase + r * 1000 + i).padStart(6, "0")}`;
          const done = new Promise<void>((resolve) => committed.set(serial, resolve));
          const seen = pcscEvent(pcsc, (e) => e.type === "card-inserted" && e.reader === slot.name);
          const card = await insertCard(new SingleProfileToken({ serial }), { port: slot.port });
          await seen;
          await done;
          const gone = pcscEvent(pcsc, (e) => e.type === "card-removed" && e.reader === slot.name);
          await card.remove();
          await gone;
        }
      }),
    );
    const minutes = (performance.now() - t0) / 60_000;
    if (failures.length > 0 || journal.status(batch.id).counts.committed !== PER_READER * slots.length) {
      throw new Error(`not every item was committed: ${failures.join("; ")}`);
    }
    return (PER_READER * slots.length) / minutes;
  } finally {
    await engine.close();
    manager.close();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function mainBench(): Promise<void> {
  const slots = vpcdSlots();
  if (slots.length < 8) throw new Error(`8 vpcd readers needed, ${slots.length} declared: run scripts/services.sh's ensure_pcscd (test/fixtures/reader.conf)`);
  const release = await lockPcscd();
  const pcsc = await PcscManager.start({ retryMaxMs: 300 });
  try {
    const deadline = Date.now() + 5_000;
    while (!slots.every((s) => pcsc.readers().some((r) => r.name === s.name)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    console.log(
      `batch throughput through pcscd and vpcd, ${PER_READER} tokens per reader${quick ? " (--quick)" : ""}; load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
    const rates: number[] = [];
    for (const [k, n] of READER_COUNTS.entries()) {
      const rate = await measure(pcsc, slots.slice(0, n), 100_000 + k * 10_000);
      rates.push(rate);
      console.log(
        `${String(n).padStart(2)} reader${n > 1 ? "s" : " "}  ${rate.toFixed(1).padStart(7)} tokens/min  ${(rate / rates[0]!).toFixed(2)}x of 1 reader (ideal ${n}x)`,
      );
    }
  } finally {
    await pcsc.close();
    release();
  }
}

await mainBench();
