/**
 * Load benchmark of the daemon (issue #5): N concurrent native clients (default 200), each holding
 * a session on its own simulated single-profile token, call devices.list and token.info in turn
 * at a fixed rate per client, against the real daemon process (`otpbridge daemon --simulate`,
 * in-memory readers so that pcscd is not what is measured). Prints p50/p99 round-trip latency per
 * method and the daemon's peak RSS (VmHWM). Targets: p99 under 20 ms, RSS under 150 MB.
 *
 * Latency is measured in this process, from send to reply, so it includes this process's own
 * event loop (200 sockets) as well as the daemon's: an upper bound of the daemon's share.
 * Usage: npm run bench:daemon [-- --quick] [-- --clients N] [-- --rate R] [-- --seconds S]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";

/** The repository root, from dist/bench/ (the bench runs built, as the daemon under test does). */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
}

const quick = process.argv.includes("--quick");
const CLIENTS = option("clients", 200);
/** Requests per second per client. */
const RATE = option("rate", 10);
const SECONDS = option("seconds", quick ? 5 : 15);
const TARGET_P99_MS = 20;
const TARGET_RSS_MB = 150;

interface Client {
  ws: WebSocket;
  session: string;
  pending: Map<number, (reply: any) => void>;
  next: number;
}

function open(port: number, token: string): Promise<Client> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { headers: { Authorization: `Bearer ${token}` } });
  const client: Client = { ws, session: "", pending: new Map(), next: 0 };
  ws.on("message", (data) => {
    // Only the envelope's head is read: parsing a 200-device list 1,000 times a second would make
    // this process, not the daemon, the thing measured. The daemon writes `jsonrpc`, `id`, then
    // `result` or `error` first; anything else is parsed in full.
    const head = /^\{"jsonrpc":"2\.0","id":(\d+),"(result|error)"/.exec((data as Buffer).toString("latin1", 0, 64));
    const msg = head === null ? JSON.parse(String(data)) : { id: Number(head[1]), [head[2]!]: true, raw: data };
    const done = client.pending.get(msg.id);
    if (done !== undefined) {
      client.pending.delete(msg.id);
      done(msg);
    }
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(client));
    ws.once("error", reject);
  });
}

/** Sends a request; with `full`, the reply is parsed in full (set-up calls), else only its head. */
function call(c: Client, method: string, params: unknown, full = false): Promise<any> {
  const id = ++c.next;
  return new Promise((resolve) => {
    c.pending.set(id, full ? (reply: any) => resolve(reply.raw === undefined ? reply : JSON.parse(String(reply.raw))) : resolve);
    c.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  });
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const dataDir = join(mkdtempSync(join(tmpdir(), "otpb-bench-daemon-")), "data");
  const child = spawn(
    process.execPath,
    [
      join(ROOT, "bin/otpbridge.js"),
      "daemon",
      "--simulate",
      "--simulate-tokens",
      String(CLIENTS),
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--log-level",
      "warn",
      "--max-sockets",
      String(CLIENTS + 10),
    ],
    { env: { ...process.env, OTPBRIDGE_SIMULATE_LINK: "memory" }, stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve));
    const info = JSON.parse(first) as { port: number; tokenFile: string };
    const token = readFileSync(info.tokenFile, "utf8").trim();
    const clients = await Promise.all(Array.from({ length: CLIENTS }, () => open(info.port, token)));
    for (const [i, c] of clients.entries()) {
      await call(c, "hello", { apiVersion: 1, client: "bench" }, true);
      const acquired = await call(c, "device.acquire", { id: `pcsc:Simulated Reader ${i + 1}`, previous: null }, true);
      if (acquired.error !== undefined) throw new Error(`acquire: ${JSON.stringify(acquired.error)}`);
      c.session = acquired.result.session;
    }
    const rssBefore = peakRssMb(child.pid!);
    const latencies: Record<string, number[]> = { "devices.list": [], "token.info": [] };
    let errors = 0;
    const end = Date.now() + SECONDS * 1000;
    const interval = 1000 / RATE;
    await Promise.all(
      clients.map(async (c, i) => {
        // Spread the clients over one interval so that they do not all fire in the same tick.
        await new Promise((resolve) => setTimeout(resolve, (i / CLIENTS) * interval));
        for (let n = 0; Date.now() < end; n++) {
          const started = performance.now();
          const method = n % 2 === 0 ? "devices.list" : "token.info";
          const reply = await call(c, method, method === "token.info" ? { session: c.session } : {});
          const took = performance.now() - started;
          if (reply.error !== undefined) errors++;
          else latencies[method]!.push(took);
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, interval - took)));
        }
      }),
    );
    const rss = peakRssMb(child.pid!);
    for (const c of clients) c.ws.close();
    const all = Object.values(latencies)
      .flat()
      .sort((a, b) => a - b);
    const lines = [`daemon load: ${CLIENTS} clients, ${RATE} requests/s each, ${SECONDS} s, ${all.length} answered, ${errors} errors`];
    // The machine's load tells whether other processes competed for the cores during the run.
    lines.push(`  machine load average (1 min) at the end: ${loadavg()[0]!.toFixed(2)}`);
    for (const [method, xs] of Object.entries(latencies)) {
      xs.sort((a, b) => a - b);
      lines.push(`  ${method.padEnd(13)} n=${xs.length}  p50 ${percentile(xs, 50).toFixed(2)} ms  p99 ${percentile(xs, 99).toFixed(2)} ms`);
    }
    const p99 = percentile(all, 99);
    lines.push(
      `  all           p50 ${percentile(all, 50).toFixed(2)} ms  p99 ${p99.toFixed(2)} ms  (target < ${TARGET_P99_MS} ms: ${p99 < TARGET_P99_MS ? "met" : "MISSED"})`,
    );
    lines.push(
      `  daemon peak RSS ${rss.toFixed(1)} MB (${rssBefore.toFixed(1)} MB after connecting; target < ${TARGET_RSS_MB} MB: ${rss < TARGET_RSS_MB ? "met" : "MISSED"})`,
    );
    console.log(lines.join("\n"));
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
