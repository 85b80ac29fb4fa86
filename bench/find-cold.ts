/**
 * `npm run bench:find`: a whole cold `otpbridge find` over 100,000 committed seeds (target: under
 * 1 s), as a user runs it: a new process that loads the CLI, opens the journal (integrity check
 * included), reads, decrypts and loads every seed, searches ±2 steps and prints the match. Beside
 * it, measured in turn in the same run: `otpbridge find --help`, the process and the CLI's imports
 * alone, so the figure can be split into start-up and work.
 *
 * The journal is built once in a temporary directory (bench/find-fixture.ts); the code searched for
 * is a real code of one of its seeds, so each run finds exactly one token.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { totp } from "../src/crypto/index.js";
import { Journal } from "../src/store/journal.js";
import { committedJournal } from "./find-fixture.js";

const { values } = parseArgs({ options: { seeds: { type: "string", default: "100000" }, runs: { type: "string", default: "7" } } });
const seeds = Number(values.seeds);
const runs = Number(values.runs);
const BIN = join(import.meta.dirname, "../../bin/otpbridge.js");
const TIME = 1_700_000_000;

const root = mkdtempSync(join(tmpdir(), "otpb-bench-find-cold-"));
try {
  const dataDir = join(root, "data");
  const built = performance.now();
  const [batchId] = committedJournal(dataDir, [{ count: seeds, algorithm: "SHA1" }]);
  const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
  const code = journal.withCommittedSeeds(batchId!, (items) => totp("SHA1", items[seeds >> 1]!.seed, { time: TIME }));
  journal.close();
  console.log(
    `otpbridge cold find, node ${process.version}: journal of ${seeds.toLocaleString("en")} committed seeds built in ${((performance.now() - built) / 1000).toFixed(1)} s`,
  );

  const commands: Array<[string, string[]]> = [
    ["otpbridge find --help (start-up)", ["find", "--help"]],
    [`otpbridge find CODE (${seeds.toLocaleString("en")} seeds, ±2)`, ["find", code, "--at", String(TIME), "--data-dir", dataDir]],
  ];
  const times = commands.map(() => [] as number[]);
  // One warm-up of each (file cache), then the two in turn, so drift touches both alike.
  for (let run = -1; run < runs; run++) {
    commands.forEach(([, args], i) => {
      const start = performance.now();
      const out = execFileSync(process.execPath, [BIN, ...args], { encoding: "utf8" });
      const ms = performance.now() - start;
      if (i === 1 && !out.includes(`T${String(seeds >> 1).padStart(7, "0")}`)) throw new Error(`bench: find printed ${JSON.stringify(out)}`);
      if (run >= 0) times[i]!.push(ms);
    });
  }
  for (const [i, [label]] of commands.entries()) {
    const sorted = [...times[i]!].sort((a, b) => a - b);
    const median = sorted[sorted.length >> 1]!;
    console.log(
      `  ${label.padEnd(44)} median ${median.toFixed(0).padStart(6)} ms  (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}, ${runs} runs)`,
    );
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
