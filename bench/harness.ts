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
}

export interface BenchResult {
  name: string;
  /** Units per second (codes/s, frames/s, bytes/s). */
  hz: number;
  /** `hz` divided by the baseline's `hz` in the same group and run. */
  ratio: number;
  rme: number;
  samples: number;
}

export interface RunOptions {
  quick: boolean;
}

/** Runs every case of a group with benchmark.js and prints a table with ratios to the baseline. */
export function runGroup(group: BenchGroup, options: RunOptions): BenchResult[] {
  const suite = new Benchmark.Suite(group.title);
  for (const c of group.cases) {
    suite.add(c.name, c.fn, options.quick ? { maxTime: 0.25, minSamples: 5 } : { maxTime: 2, minSamples: 20 });
  }
  suite.run({ async: false });
  const measured = new Map<string, { hz: number; rme: number; samples: number }>();
  suite.forEach((b: Benchmark) => {
    const c = group.cases.find((x) => x.name === b.name)!;
    measured.set(c.name, { hz: b.hz * c.ops, rme: b.stats.rme, samples: b.stats.sample.length });
  });
  const base = measured.get(group.baseline);
  if (!base) throw new Error(`bench: group "${group.title}" has no baseline case ${group.baseline}`);
  const results = group.cases.map((c) => {
    const m = measured.get(c.name)!;
    return { name: c.name, hz: m.hz, ratio: m.hz / base.hz, rme: m.rme, samples: m.samples };
  });
  console.log(`\n${group.title}`);
  for (const [i, r] of results.entries()) {
    const c = group.cases[i]!;
    console.log(
      `  ${c.label.padEnd(44)} ${formatRate(r.hz).padStart(10)} ${group.unit}/s  ` +
        `${r.ratio.toFixed(2).padStart(7)}x  ±${r.rme.toFixed(1)}%`,
    );
  }
  return results;
}

function formatRate(hz: number): string {
  if (hz >= 1e9) return `${(hz / 1e9).toFixed(2)} G`;
  if (hz >= 1e6) return `${(hz / 1e6).toFixed(2)} M`;
  if (hz >= 1e3) return `${(hz / 1e3).toFixed(1)} k`;
  return hz.toFixed(1);
}
