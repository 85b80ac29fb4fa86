/**
 * Finding the token behind a code (src/service/find.ts): the search over seeds already loaded, and
 * the load on its own.
 *
 * Search groups (find-<alg>-<method>-<n>): n seeds, one 6-digit code, a window of ±2 steps (5
 * counters), so one call checks 5n seed-steps. Baseline: node:crypto createHmac over the same seeds
 * and counters, one code at a time, collecting the matches; against it ResidentKeySet.search, the
 * call find makes once the seeds are resident. Both must find the same matches (a code planted from
 * one seed, checked before timing). Target: 100,000 SHA-1 seeds searched in under 50 ms, at least
 * 40 times the node:crypto loop.
 *
 * Load groups (find-load-<method>-<n>): the committed SHA-1 seeds of a real journal file (built
 * once in a temporary directory, see bench/find-fixture.ts). Baseline: reading and decrypting them
 * with the export path (Journal.withCommittedSeeds: one GCM context a seed, every seed in a JS
 * array); against it what find does: read them sealed, decrypt them in one key stream (tags left to
 * the matches), copy each into its key slot and zero it, derive the HMAC states
 * (Journal.sealedCommitted, openForSearch, ResidentKeySet.loadEach), then release.
 */
import { createHmac, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type HashAlgorithm, ResidentKeySet, formatCode, hotp, totpCounter } from "../../src/crypto/index.js";
import { Journal } from "../../src/store/journal.js";
import { committedJournal } from "../find-fixture.js";
import type { BenchGroup } from "../harness.js";
import type { Suite } from "../main.js";

const COUNTER = totpCounter({ time: 1_700_000_000 });
const WINDOW = 2;
const KEY_BYTES = { SHA1: 20, SHA256: 32 } as const;

/** Keeps results observable so no engine can drop the work. */
// biome-ignore lint/correctness/noUnusedVariables: written by every case and never read, on purpose (see above)
let sink = 0;

/** Every (key, offset) whose code is `target`, by node:crypto, one HMAC per seed and counter. */
function nodeSearch(
  algorithm: HashAlgorithm,
  keys: readonly Uint8Array[],
  messages: readonly Buffer[],
  target: number,
): Array<{ key: number; offset: number }> {
  const name = algorithm.toLowerCase();
  const found: Array<{ key: number; offset: number }> = [];
  for (let key = 0; key < keys.length; key++) {
    for (let s = 0; s < messages.length; s++) {
      const mac = createHmac(name, keys[key]!).update(messages[s]!).digest();
      const offset = mac[mac.length - 1]! & 0x0f;
      if ((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000 === target) found.push({ key, offset: s - WINDOW });
    }
  }
  return found;
}

function searchGroup(algorithm: "SHA1" | "SHA256", n: number): BenchGroup {
  const keys = Array.from({ length: n }, () => new Uint8Array(randomBytes(KEY_BYTES[algorithm])));
  const messages = Array.from({ length: 2 * WINDOW + 1 }, (_, s) => {
    const message = Buffer.alloc(8);
    message.writeBigUInt64BE(BigInt(COUNTER + s - WINDOW));
    return message;
  });
  const code = hotp(algorithm, keys[n >> 1]!, COUNTER + 1);
  // Loaded once for the life of the bench process (bench keys are random, not secrets).
  const resident = ResidentKeySet.load(algorithm, keys);
  const name = (method: string) => `find-${algorithm.toLowerCase()}-${method}-${n}`;
  const viaNode = nodeSearch(algorithm, keys, messages, Number(code));
  const viaWasm = resident.search(code, COUNTER, WINDOW);
  if (JSON.stringify(viaNode) !== JSON.stringify(viaWasm) || !viaWasm.some((m) => m.key === n >> 1 && m.offset === 1)) {
    throw new Error(`bench ${name("*")}: the searches disagree`);
  }
  const ops = n * messages.length;
  return {
    title: `Find a 6-digit code among ${n.toLocaleString("en")} ${algorithm} seeds, ±${WINDOW} steps (${ops.toLocaleString("en")} seed-steps a search)`,
    unit: "seed-steps",
    baseline: name("node"),
    perCall: true,
    cases: [
      {
        name: name("node"),
        label: "node:crypto createHmac loop",
        ops,
        fn: () => {
          sink ^= nodeSearch(algorithm, keys, messages, Number(code)).length;
        },
      },
      {
        name: name("resident"),
        label: "WASM search, seeds resident",
        ops,
        fn: () => {
          sink ^= resident.search(code, COUNTER, WINDOW).length;
        },
      },
    ],
  };
}

function loadGroup(journal: Journal, batchId: number, n: number): BenchGroup {
  const name = (method: string) => `find-load-${method}-${n}`;
  const sealed = journal.sealedCommitted(batchId);
  if (sealed.items.length !== n) throw new Error(`bench ${name("*")}: the fixture holds ${sealed.items.length} seeds, not ${n}`);
  // Same seeds both ways: the first seed's code, found by a set loaded the find way.
  const probe = journal.withCommittedSeeds(batchId, (items) => formatCode(Number(hotp("SHA1", items[0]!.seed, COUNTER)), 6));
  const all = sealed.items.map((_, i) => i);
  const loaded = ResidentKeySet.loadEach("SHA1", n, (put) => sealed.openForSearch(all, put));
  const ok = loaded.search(probe, COUNTER, 0).some((m) => m.key === 0);
  loaded.release();
  if (!ok) throw new Error(`bench ${name("*")}: the loaded seeds do not give the journal's codes`);
  return {
    title: `Load ${n.toLocaleString("en")} committed SHA1 seeds from a journal file (read, decrypt AES-256-GCM, copy into the core)`,
    unit: "seeds",
    baseline: name("export-path"),
    perCall: true,
    cases: [
      {
        name: name("export-path"),
        label: "read + decrypt into JS (withCommittedSeeds)",
        ops: n,
        fn: () => {
          sink ^= journal.withCommittedSeeds(batchId, (items) => items.length);
        },
      },
      {
        name: name("find"),
        label: "read sealed, decrypt, copy in, zero (find)",
        ops: n,
        fn: () => {
          const rows = journal.sealedCommitted(batchId);
          const set = ResidentKeySet.loadEach("SHA1", rows.items.length, (put) => rows.openForSearch(all, put));
          sink ^= set.size;
          set.release();
        },
      },
    ],
  };
}

// --quick: 10,000 seeds only (the 100,000-seed node:crypto loop takes about a second a call).
export const suite: Suite = ({ quick }) => {
  const sizes = quick ? [10_000] : [10_000, 100_000];
  const groups: BenchGroup[] = [];
  for (const algorithm of ["SHA1", "SHA256"] as const) for (const n of sizes) groups.push(searchGroup(algorithm, n));
  const root = mkdtempSync(join(tmpdir(), "otpb-bench-find-"));
  process.once("exit", () => rmSync(root, { recursive: true, force: true }));
  const dataDir = join(root, "data");
  const ids = committedJournal(
    dataDir,
    sizes.map((count) => ({ count, algorithm: "SHA1" })),
  );
  // Open for the rest of the bench process; its key and seeds go with it.
  const journal = Journal.open({ dataDir, key: { kind: "keyFile" } });
  sizes.forEach((n, i) => groups.push(loadGroup(journal, ids[i]!, n)));
  return groups;
};
