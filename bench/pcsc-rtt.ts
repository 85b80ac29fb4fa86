/**
 * APDU round trip through the real PC/SC stack (pcsclite -> pcscd -> vpcd -> TCP -> a virtual
 * card), with and without the quickack route for 127.0.0.2 (scripts/services.sh: vpcd 3.3 sends the
 * length and the APDU as two segments without TCP_NODELAY, so on a plain loopback route every
 * APDU waits for a delayed ACK). Not part of the crypto suites of bench/main.ts: it needs pcscd.
 *
 *   npm run build:ts && node dist/bench/pcsc-rtt.js [--count 1000] [--reader "Virtual PCD 00 00"] [--port 35963] [--json file]
 *
 * pcscd must run with the vpcd readers (scripts/services.sh: ensure_pcscd, ensure_quickack_route).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { PcscManager } from "../src/transports/pcsc.js";
import type { VirtualCard } from "../src/transports/types.js";
import { insertCard } from "../src/transports/vpcd-bridge.js";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    reader: { type: "string", default: "Virtual PCD 00 00" },
    port: { type: "string", default: "35963" },
    json: { type: "string" },
  },
});
const count = Number(values.count);
const reader = values.reader!;
const port = Number(values.port);
/** The slow path costs about 44 ms an APDU: fewer samples say as much. */
const slowCount = Math.min(count, 100);
const WARMUP = 20;

/** Answers every command with 9000: the bench measures the link, not a card. */
const card: VirtualCard = { atr: Uint8Array.of(0x3b, 0x80, 0x80, 0x01, 0x01), transmit: () => Uint8Array.of(0x90, 0x00) };
const APDU = Uint8Array.of(0x80, 0x20, 0x00, 0x00, 0x04);

function quickackRoute(): boolean {
  try {
    return execFileSync("ip", ["route", "show", "table", "local", "127.0.0.2"], { encoding: "utf8" }).includes("quickack");
  } catch {
    return false;
  }
}

function waitFor(manager: PcscManager, test: () => boolean, what: string, ms = 5_000): Promise<void> {
  if (test()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out waiting for ${what}`));
    }, ms);
    const off = manager.on(() => {
      if (!test()) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

async function measure(manager: PcscManager, host: string, n: number): Promise<{ host: string; n: number; medianUs: number; p90Us: number; meanUs: number }> {
  const present = (): boolean => manager.readers().some((r) => r.name === reader && r.cardPresent);
  const slot = await insertCard(card, { host, port });
  await waitFor(manager, present, `the card in ${reader}`);
  const samples = await manager.withCard(reader, async (t) => {
    for (let i = 0; i < WARMUP; i++) await t.transmit(APDU);
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await t.transmit(APDU);
      out.push((performance.now() - t0) * 1000);
    }
    return out;
  });
  await slot.remove();
  await waitFor(manager, () => !present(), `the card to leave ${reader}`);
  samples.sort((a, b) => a - b);
  const at = (q: number): number => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
  const meanUs = samples.reduce((a, b) => a + b, 0) / samples.length;
  return { host, n, medianUs: at(0.5), p90Us: at(0.9), meanUs };
}

const manager = await PcscManager.start();
try {
  await waitFor(manager, () => manager.readers().some((r) => r.name === reader), `reader ${reader} (is pcscd running?)`);
  const route = quickackRoute();
  console.log(`PC/SC APDU round trip, ${reader} (vpcd port ${port}), node ${process.version}`);
  console.log(`quickack route for 127.0.0.2: ${route ? "present" : "ABSENT (both runs take the slow path)"}`);
  const results = [await measure(manager, "127.0.0.2", count), await measure(manager, "127.0.0.1", slowCount)];
  for (const r of results) {
    const label = r.host === "127.0.0.2" ? `127.0.0.2${route ? " (quickack)" : ""}` : "127.0.0.1 (default route)";
    console.log(
      `${label.padEnd(26)} n=${String(r.n).padEnd(5)} median ${r.medianUs.toFixed(0).padStart(6)} µs   p90 ${r.p90Us.toFixed(0).padStart(6)} µs   mean ${r.meanUs.toFixed(0).padStart(6)} µs`,
    );
  }
  if (values.json) writeFileSync(values.json, `${JSON.stringify({ node: process.version, reader, quickackRoute: route, results }, null, 2)}\n`);
} finally {
  await manager.close();
}
