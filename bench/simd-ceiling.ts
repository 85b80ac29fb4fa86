/**
 * How close resident SHA-1 HOTP codes run to what this machine's WebAssembly SIMD can do at all.
 *
 * Measures, in one process: the clock (a dependent chain of scalar ops, 1 cycle each), the latency
 * and the throughput of 128-bit integer SIMD operations as V8 compiles them (a probe module built
 * here with the AssemblyScript compiler), then the core's resident SHA-1 rate (10,000 keys, one
 * counter). The ceiling is that throughput divided by the vector operations a code needs
 * (VECTOR_OPS_PER_4_CODES, counted from assembly/hash/sha1.ts and hotp4.ts): no ordering of those
 * operations runs faster, only fewer operations could. Divided by the node:crypto rate that
 * `npm run bench` prints, it is the highest ratio this machine allows. node:crypto is not timed
 * here: the compiler's heap would slow its collections and flatter every ratio.
 *
 * npm run bench:ceiling
 */
import asc from "assemblyscript/asc";
import { randomBytes } from "node:crypto";
import { ResidentKeySet } from "../src/crypto/index.js";

/**
 * Vector ALU operations (add, xor, and, andnot, or, shift, compare, lane extract) for 4 codes of one
 * group, two HMAC-SHA-1 compressions and the truncation:
 * - a round: rotl5 and rotl30 (two shifts and an or each, no lane rotate in WebAssembly), three adds,
 *   and f: Ch 3 (bitselect), Parity 2, Maj 4: 20 * 12 + 40 * 11 + 20 * 13 = 940 for 80 rounds;
 * - inner block: K is already in the shared schedule; + 5 adds of the feed-forward = 945;
 * - outer block: 940 + 80 adds of K + 5 feed-forward + the schedule: W16..W30 with the constant words'
 *   terms skipped (15 rotates, 18 XORs = 63) and W31..W79 (49 * 6 = 294) = 1382;
 * - truncation in the lanes (bins4: 46) and 4 lane extracts = 50.
 * A change to those rounds or that truncation changes this count.
 */
const VECTOR_OPS_PER_4_CODES = 945 + 1382 + 50;

const PROBE = `
export function scalarChain(n: i32, s: i32): i32 {
  let x = s;
  for (let i = 0; i < n; i++) {
    x = (x ^ 0x1234) + i; x = (x ^ 0x1234) + i; x = (x ^ 0x1234) + i; x = (x ^ 0x1234) + i;
    x = (x ^ 0x1234) + i; x = (x ^ 0x1234) + i; x = (x ^ 0x1234) + i; x = (x ^ 0x1234) + i;
  }
  return x;
}
export function vectorChain(n: i32, s: i32): i32 {
  let x = i32x4.splat(s);
  const y = i32x4.splat(n);
  for (let i = 0; i < n; i++) {
    x = i32x4.add(x, y); x = v128.xor(x, y); x = i32x4.add(x, y); x = v128.xor(x, y);
    x = i32x4.add(x, y); x = v128.xor(x, y); x = i32x4.add(x, y); x = v128.xor(x, y);
  }
  return i32x4.extract_lane(x, 0);
}
${independentChains(12, 4)}
`;

/** A loop of `rounds` dependent operations on each of `chains` independent vectors. */
function independentChains(chains: number, rounds: number): string {
  const v = Array.from({ length: chains }, (_, i) => `v${i}`);
  const body = Array.from({ length: rounds }, (_, r) => `    ${v.map((x) => `${x} = ${r % 2 === 0 ? "i32x4.add" : "v128.xor"}(${x}, y);`).join(" ")}`).join(
    "\n",
  );
  return `export function vectorThroughput(n: i32, s: i32): i32 {
  ${v.map((x, i) => `let ${x} = i32x4.splat(s + ${i});`).join(" ")}
  const y = i32x4.splat(n);
  for (let i = 0; i < n; i++) {
${body}
  }
  let r = v0;
  ${v
    .slice(1)
    .map((x) => `r = v128.xor(r, ${x});`)
    .join(" ")}
  return i32x4.extract_lane(r, 0);
}`;
}
const THROUGHPUT_OPS_PER_ITERATION = 12 * 4;
const SCALAR_CHAIN_OPS_PER_ITERATION = 16;
const VECTOR_CHAIN_OPS_PER_ITERATION = 8;

type Probe = Record<"scalarChain" | "vectorChain" | "vectorThroughput", (n: number, s: number) => number>;

async function compileProbe(): Promise<Probe> {
  const { binary, error, stderr } = await asc.compileString(PROBE, { enable: ["simd"], optimizeLevel: 3, runtime: "stub" });
  if (error || !binary) throw new Error(`simd-ceiling: probe did not compile: ${error?.message}\n${stderr.toString()}`);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(binary), { env: { abort: () => undefined } });
  return instance.exports as unknown as Probe;
}

/** The median of `runs` timings of `fn` after a warm-up call, in ns. */
function medianNs(fn: () => void, runs: number): number {
  fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    times.push(Number(process.hrtime.bigint() - start));
  }
  return times.sort((a, b) => a - b)[runs >> 1]!;
}

const ITERATIONS = 20_000_000;
const KEYS = 10_000;

const probe = await compileProbe();
const nsPerCycle = medianNs(() => probe.scalarChain(ITERATIONS, 3), 7) / (ITERATIONS * SCALAR_CHAIN_OPS_PER_ITERATION);
const latencyCycles = medianNs(() => probe.vectorChain(ITERATIONS, 3), 7) / (ITERATIONS * VECTOR_CHAIN_OPS_PER_ITERATION) / nsPerCycle;
const opsPerCycle = (ITERATIONS * THROUGHPUT_OPS_PER_ITERATION) / (medianNs(() => probe.vectorThroughput(ITERATIONS, 3), 7) / nsPerCycle);
const ceiling = ((opsPerCycle / nsPerCycle) * 1e9) / (VECTOR_OPS_PER_4_CODES / 4);

const keys = Array.from({ length: KEYS }, () => randomBytes(20));
const set = ResidentKeySet.load("SHA1", keys);
const out = new Uint32Array(KEYS);
const counter = 56_666_666;
const resident = KEYS / (medianNs(() => set.codesInto(out, counter), 300) / 1e9);
set.release();
const M = (hz: number) => `${(hz / 1e6).toFixed(2)} M codes/s`;
console.log(`clock ${(1 / nsPerCycle).toFixed(2)} GHz (scalar op chain)`);
console.log(`128-bit SIMD: latency ${latencyCycles.toFixed(2)} cycles, throughput ${opsPerCycle.toFixed(2)} ops/cycle`);
console.log(`resident SHA-1 HOTP: ${(VECTOR_OPS_PER_4_CODES / 4).toFixed(1)} vector ops a code -> ceiling ${M(ceiling)}`);
console.log(`  measured ${M(resident)} (${((100 * resident) / ceiling).toFixed(0)}% of the ceiling)`);
