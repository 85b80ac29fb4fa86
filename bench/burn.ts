/**
 * Host time per single-profile burn and per APDU round trip: in memory (driver + emulator, no
 * I/O) beside the real PC/SC path (pcsclite -> pcscd -> vpcd -> TCP -> the emulator in this
 * process), with the quickack route of docs/TESTING.md when it is there. Target (docs/BENCHMARKS.md): under
 * 10 ms of host time per single-profile burn through pcscd and vpcd.
 *
 * "Host CPU" is user + system time of this process (driver, binding and the emulated card) plus,
 * through pcscd, pcscd's own (from /proc, in clock ticks: meaningful over many burns only).
 * Usage: npm run bench:burn [-- --quick]
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { SingleProfileSession, type BurnOptions } from "../src/drivers/single-profile.js";
import { vpcdSlots } from "../src/simulation/simulation.js";
import { SingleProfileToken } from "../src/emulator/single-profile-token.js";
import { getInfoApdu } from "../src/protocol/single-profile.js";
import { MemoryTransport } from "../src/transports/memory.js";
import { PcscManager } from "../src/transports/pcsc.js";
import type { ApduTransport } from "../src/transports/types.js";
import { insertCard } from "../src/transports/vpcd-bridge.js";

const quick = process.argv.includes("--quick");
const BURNS = quick ? 40 : 200;
const APDUS = quick ? 200 : 1000;
const TICK_MS = 1000 / 100; // USER_HZ on Linux

interface Figures {
  burnMedianMs: number;
  burnCpuMs: number;
  burnCpuWithPcscdMs?: number;
  apduMedianMs: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function pcscdTicks(): number | undefined {
  try {
    const pid = execFileSync("pgrep", ["-xo", "pcscd"], { encoding: "utf8" }).trim();
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14, 15 of stat)
  } catch {
    return undefined;
  }
}

const options = (i: number): BurnOptions => ({ seed: new Uint8Array(20).fill(i & 0xff), algorithm: "SHA1", period: 30, display: 30 });

/** Burns `count` times through sessions from `connect`; returns per-burn wall times and CPU. */
async function burns(count: number, connect: () => Promise<ApduTransport>): Promise<{ walls: number[]; cpu: number; ticks: number | undefined }> {
  const walls: number[] = [];
  const ticks0 = pcscdTicks();
  const cpu0 = cpuMs();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const transport = await connect();
    try {
      await (await SingleProfileSession.open(transport)).burn(options(i));
    } finally {
      await transport.close();
    }
    walls.push(performance.now() - t0);
  }
  const ticks1 = pcscdTicks();
  return { walls, cpu: cpuMs() - cpu0, ticks: ticks0 !== undefined && ticks1 !== undefined ? ticks1 - ticks0 : undefined };
}

async function roundTrips(transport: ApduTransport, count: number): Promise<number[]> {
  const apdu = getInfoApdu();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await transport.transmit(apdu);
    times.push(performance.now() - t0);
  }
  return times;
}

async function inMemory(): Promise<Figures> {
  const token = new SingleProfileToken({ serial: "86596220000001" });
  await burns(10, async () => new MemoryTransport(token)); // warm-up (JIT, WASM)
  const { walls, cpu } = await burns(BURNS, async () => new MemoryTransport(token));
  const apdus = await roundTrips(new MemoryTransport(token), APDUS);
  return { burnMedianMs: median(walls), burnCpuMs: cpu / BURNS, apduMedianMs: median(apdus) };
}

async function throughPcscd(): Promise<{ figures?: Figures; note: string }> {
  const pcsc = await PcscManager.start();
  try {
    if (pcsc.status.state !== "ready") return { note: "pcscd is not running (scripts/services.sh ensure_pcscd)" };
    const slots = vpcdSlots();
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline && !slots.every((s) => pcsc.readers().some((r) => r.name === s.name))) await new Promise((r) => setTimeout(r, 20));
    // The last free vpcd reader: the first ones are what people and tests use.
    const slot = slots.reverse().find((s) => pcsc.readers().some((r) => r.name === s.name && !r.cardPresent));
    if (slot === undefined) return { note: "no free vpcd reader" };
    const card = await insertCard(new SingleProfileToken({ serial: "86596220000001" }), { port: slot.port });
    try {
      while (!pcsc.readers().some((r) => r.name === slot.name && r.cardPresent)) await new Promise((r) => setTimeout(r, 20));
      const connect = (): Promise<ApduTransport> => pcsc.connect(slot.name);
      await burns(5, connect);
      const { walls, cpu, ticks } = await burns(BURNS, connect);
      const session = await connect();
      const apdus = await roundTrips(session, APDUS).finally(() => session.close());
      const figures: Figures = { burnMedianMs: median(walls), burnCpuMs: cpu / BURNS, apduMedianMs: median(apdus) };
      if (ticks !== undefined) figures.burnCpuWithPcscdMs = (cpu + ticks * TICK_MS) / BURNS;
      return { figures, note: `reader ${slot.name}` };
    } finally {
      await card.remove();
    }
  } finally {
    await pcsc.close();
  }
}

function quickack(): string {
  try {
    const route = execFileSync("ip", ["route", "show", "table", "local", "127.0.0.2"], { encoding: "utf8" });
    return route.includes("quickack") ? "quickack route on 127.0.0.2" : "NO quickack route: each vpcd APDU waits ~44 ms for a delayed ACK";
  } catch {
    return "route unknown (no ip command)";
  }
}

const fmt = (x: number | undefined): string => (x === undefined ? "-" : `${x.toFixed(3)} ms`);

const memory = await inMemory();
const pcscd = await throughPcscd();
console.log(`single-profile burn (GET INFO, GET CHALLENGE, AUTH FINISH, WRITE CONFIG, WRITE SEED; a session opened and closed per burn)`);
console.log(`${BURNS} burns, ${APDUS} APDUs each way; pcscd+vpcd: ${pcscd.note}; ${quickack()}`);
const rows: Array<[string, number | undefined, number | undefined]> = [
  ["burn, wall time (median)", memory.burnMedianMs, pcscd.figures?.burnMedianMs],
  ["burn, host CPU of this process (mean)", memory.burnCpuMs, pcscd.figures?.burnCpuMs],
  ["burn, host CPU incl. pcscd (mean)", memory.burnCpuMs, pcscd.figures?.burnCpuWithPcscdMs],
  ["APDU round trip, GET INFO (median)", memory.apduMedianMs, pcscd.figures?.apduMedianMs],
];
console.log(`${"".padEnd(40)}${"in-memory".padStart(14)}${"pcscd+vpcd".padStart(14)}`);
for (const [label, a, b] of rows) console.log(`${label.padEnd(40)}${fmt(a).padStart(14)}${fmt(b).padStart(14)}`);
const host = pcscd.figures?.burnCpuWithPcscdMs ?? pcscd.figures?.burnCpuMs;
if (host !== undefined)
  console.log(`target: under 10 ms of host time per burn through pcscd and vpcd: ${host < 10 ? "met" : "NOT met"} (${host.toFixed(3)} ms)`);
