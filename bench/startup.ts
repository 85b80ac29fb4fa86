/**
 * Start-up of the command line, timed as whole processes beside Node's own start (`node -e 0`)
 * measured in the same rounds:
 * - `otpbridge code --secret ...`: decode, one TOTP code, print (target: at most 1.5x Node's start);
 * - `otpbridge devices` with a single-profile token in each of the eight vpcd readers behind pcscd
 *   (test/fixtures/reader.conf plus vsmartcard-vpcd's two), each identified with GET INFO
 *   (target: under 0.4 s).
 * The three run in turn in every round, so a machine that slows down slows all three; the ratio is
 * taken round by round and its median printed. Takes the PC/SC test lock while cards sit in the
 * readers. Usage: npm run bench:startup [-- --runs N] [--bin OTHER/bin/otpbridge.js]
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { vpcdSlots } from "../src/simulation/simulation.js";
import { SingleProfileToken } from "../src/emulator/single-profile-token.js";
import { PcscManager } from "../src/transports/pcsc.js";
import { insertCard, type InsertedCard } from "../src/transports/vpcd-bridge.js";
import { lockPcscd } from "./pcscd-lock.js";

const { values } = parseArgs({
  options: { runs: { type: "string", default: "10" }, warmup: { type: "string", default: "2" }, bin: { type: "string" } },
});
const RUNS = Number(values.runs);
const WARMUP = Number(values.warmup);
// --bin: another build's bin/otpbridge.js (an earlier commit's checkout, to compare).
const BIN = values.bin ?? fileURLToPath(new URL("../../bin/otpbridge.js", import.meta.url));
const READERS = 8;

interface Case {
  name: string;
  args: string[];
  /** Throws when the output shows the command did not do its job (a fast failure is no figure). */
  check(stdout: string, code: number | null): void;
}

/** Wall time of one whole process, from spawn to exit, with its output. */
function timed(args: string[]): Promise<{ ms: number; stdout: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.once("error", reject);
    child.once("close", (code) => resolve({ ms: performance.now() - start, stdout, code }));
  });
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Puts a single-profile token in each of the first `count` vpcd readers; resolves once pcscd sees them all. */
async function fillReaders(count: number): Promise<{ cards: InsertedCard[]; note: string }> {
  const pcsc = await PcscManager.start();
  try {
    if (pcsc.status.state !== "ready") return { cards: [], note: "pcscd is not running (scripts/services.sh ensure_pcscd)" };
    const slots = vpcdSlots().slice(0, count);
    if (slots.length < count) return { cards: [], note: `only ${slots.length} vpcd readers are declared (scripts/services.sh install_test_readers)` };
    const cards = await Promise.all(slots.map((slot, i) => insertCard(new SingleProfileToken({ serial: `8659622000000${i}` }), { port: slot.port })));
    const deadline = Date.now() + 5_000;
    const present = (): boolean => slots.every((s) => pcsc.readers().some((r) => r.name === s.name && r.cardPresent));
    while (!present() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    if (!present()) {
      await Promise.all(cards.map((card) => card.remove()));
      return { cards: [], note: "pcscd did not report a card in every reader" };
    }
    return { cards, note: `${count} readers, a token in each` };
  } finally {
    await pcsc.close();
  }
}

const CODE: Case = {
  name: "otpbridge code --secret",
  args: [BIN, "code", "--secret", "JBSWY3DPEHPK3PXP", "--time", "59"],
  check: (stdout, code) => {
    if (code !== 0 || stdout.trim() !== "996554") throw new Error(`code printed ${JSON.stringify(stdout)} (exit ${code})`);
  },
};

const DEVICES: Case = {
  name: `otpbridge devices (${READERS} readers)`,
  args: [BIN, "devices", "--json"],
  check: (stdout, code) => {
    const ready = (JSON.parse(stdout) as { devices: Array<{ state: string; serial: string | null }> }).devices.filter(
      (d) => d.state === "ready" && d.serial !== null,
    );
    if (code !== 0 || ready.length < READERS) throw new Error(`devices identified ${ready.length} of ${READERS} tokens (exit ${code})`);
  },
};

const NODE: Case = { name: "node -e 0", args: ["-e", "0"], check: () => {} };

const release = await lockPcscd();
const { cards, note } = await fillReaders(READERS).catch((error: unknown) => ({ cards: [] as InsertedCard[], note: String(error) }));
try {
  const cases = cards.length === READERS ? [NODE, CODE, DEVICES] : [NODE, CODE];
  const times = new Map<Case, number[]>(cases.map((c) => [c, []]));
  const ratios = new Map<Case, number[]>(cases.map((c) => [c, []]));
  for (let round = 0; round < WARMUP + RUNS; round++) {
    let nodeMs = 0;
    for (const c of cases) {
      const { ms, stdout, code } = await timed(c.args);
      c.check(stdout, code);
      if (c === NODE) nodeMs = ms;
      if (round < WARMUP) continue;
      times.get(c)!.push(ms);
      ratios.get(c)!.push(ms / nodeMs);
    }
  }
  console.log(
    `CLI start-up, whole processes, median of ${RUNS} rounds (after ${WARMUP} warm-up); devices: ${cards.length > 0 ? note : `not measured: ${note}`}`,
  );
  console.log(`${"command".padEnd(34)} ${"wall ms".padStart(8)}  ${"x node".padStart(6)}  target`);
  const targets = new Map<Case, string>([
    [CODE, "<= 1.5x node"],
    [DEVICES, "< 400 ms"],
  ]);
  for (const c of cases) {
    console.log(
      `${c.name.padEnd(34)} ${median(times.get(c)!).toFixed(1).padStart(8)}  ${median(ratios.get(c)!).toFixed(2).padStart(6)}  ${targets.get(c) ?? ""}`,
    );
  }
} finally {
  await Promise.all(cards.map((card) => card.remove()));
  release();
}
