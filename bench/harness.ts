import Benchmark from "benchmark";

/** One way of doing a job; `ops` is how many units (codes, frames, bytes) one call of `fn` does. */
export interface BenchCase {
  /** Stable name, used in the JSON output, e.g. `totp-sha1-copyin-10000`. */
  name: string;
  label: string;
  ops: number;
  fn: () => void;
}

/** Cases doing the same job, measured in the same run, compared against one baseline case. */
export interface BenchGroup {
  title: string;
  /** What one op is, for the printed table: "codes", "frames", "bytes". */
  unit: string;
  /** The `name` of the case whose rate is the denominator of every ratio (node:crypto). */
  baseline: string;
  cases: BenchCase[];
  /** Also print the median time of one call (a whole search, a whole load), for targets set per call. */
  perCall?: boolean;
}

export interface BenchResult {
  name: string;
  /** Units per second (codes/s, frames/s, bytes/s), median over the rounds. */
  hz: number;
  /** Median over the rounds of `hz` divided by the baseline's `hz` in the same round. */
  ratio: number;
  rme: number;
  samples: number;
}

export interface RunOptions {
  quick: boolean;
}

/** Rounds per group: each round times every case once, in turn (full runs: 5, --quick: 3). */
const ROUNDS = { full: 5, quick: 3 };

/**
 * Runs every case of a group with benchmark.js and prints a table with ratios to the baseline.
 *
 * This 2-core VM's speed drifts by tens of percent from one second to the next, so a case and its
 * baseline timed at different moments give a ratio that is mostly drift. The cases are therefore
 * timed in several short rounds, in turn; each round's ratio uses the baseline of that same round,
 * and the reported rate and ratio are the medians over the rounds.
 */
export function runGroup(group: BenchGroup, options: RunOptions): BenchResult[] {
  // Warm every case before any is timed: a baseline measured cold (its first calls in the process,
  // before V8 optimises them) makes every ratio against it look better than it is.
  for (const c of group.cases) for (let i = 0; i < 3; i++) c.fn();
  const rounds = options.quick ? ROUNDS.quick : ROUNDS.full;
  const perRound = Array.from({ length: rounds }, () => timeRound(group, options));
  const results = group.cases.map((c) => {
    const rounds = perRound.map((round) => round.get(c.name)!);
    const ratios = perRound.map((round) => round.get(c.name)!.hz / round.get(group.baseline)!.hz);
    return {
      name: c.name,
      hz: median(rounds.map((r) => r.hz)),
      ratio: median(ratios),
      rme: median(rounds.map((r) => r.rme)),
      samples: rounds.reduce((n, r) => n + r.samples, 0),
    };
  });
  console.log(`\n${group.title}`);
  for (const [i, r] of results.entries()) {
    const c = group.cases[i]!;
    console.log(
      `  ${c.label.padEnd(44)} ${formatRate(r.hz).padStart(10)} ${group.unit}/s  ` +
        `${r.ratio.toFixed(2).padStart(7)}x  ±${r.rme.toFixed(1)}%` +
        (group.perCall ? `  ${((1000 * c.ops) / r.hz).toFixed(2).padStart(8)} ms a call` : ""),
    );
  }
  return results;
}

/** One round: every case timed once, in turn; rates in units per second. */
function timeRound(group: BenchGroup, options: RunOptions): Map<string, { hz: number; rme: number; samples: number }> {
  const suite = new Benchmark.Suite(group.title);
  const budget = options.quick ? { maxTime: 0.03, minSamples: 2 } : { maxTime: 0.5, minSamples: 10 };
  // Each case starts on a collected heap, so none pays for another's garbage: node:crypto's Hmac
  // objects are freed by pauses of 50-100 ms (their native contexts), which otherwise land in
  // whichever case runs next. A case still pays for the garbage it makes itself while it runs.
  for (const c of group.cases) suite.add(c.name, c.fn, { ...budget, onStart: collectGarbage });
  suite.run({ async: false });
  const measured = new Map<string, { hz: number; rme: number; samples: number }>();
  suite.forEach((b: Benchmark) => {
    const c = group.cases.find((x) => x.name === b.name)!;
    measured.set(c.name, { hz: b.hz * c.ops, rme: b.stats.rme, samples: b.stats.sample.length });
  });
  if (!measured.has(group.baseline)) throw new Error(`bench: group "${group.title}" has no baseline case ${group.baseline}`);
  return measured;
}

/** A full collection, untimed (node --expose-gc, as `npm run bench` starts it). */
function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error("bench: run with node --expose-gc (npm run bench does)");
  gc();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function formatRate(hz: number): string {
  if (hz >= 1e9) return `${(hz / 1e9).toFixed(2)} G`;
  if (hz >= 1e6) return `${(hz / 1e6).toFixed(2)} M`;
  if (hz >= 1e3) return `${(hz / 1e3).toFixed(1)} k`;
  return hz.toFixed(1);
}
