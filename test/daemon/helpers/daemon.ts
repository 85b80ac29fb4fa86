/**
 * Test side of the daemon: spawns the real `otpbridge daemon` process (from source, through the
 * same Vite transform vitest uses), reads the port from its first stdout line, and talks to it
 * with the real `ws` client.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { REPO_ROOT } from "../../fixtures/pcscd.js";
import { channelName, proofOf } from "../../../src/daemon/native-proof.js";

const RUN_TS = join(REPO_ROOT, "test/transports/helpers/run-ts.mjs");
const CLI = join(REPO_ROOT, "test/daemon/helpers/cli-child.ts");

export interface DaemonProcess {
  port: number;
  /** The daemon's Unix socket (native clients of its user, no token). */
  socketPath: string;
  dataDir: string;
  token: string;
  link: string;
  child: ChildProcess;
  stderr: string[];
  /** SIGTERM, then resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `otpbridge daemon --simulate --port 0` in a fresh data directory (or `dataDir`). */
export async function startDaemonProcess(options: { args?: string[]; env?: Record<string, string>; simulate?: boolean; dataDir?: string } = {}): Promise<DaemonProcess> {
  const dataDir = options.dataDir ?? join(mkdtempSync(join(tmpdir(), "otpb-daemon-")), "data");
  const args = ["daemon", "--port", "0", "--data-dir", dataDir, "--log-level", "info", ...(options.simulate === false ? [] : ["--simulate"]), ...(options.args ?? [])];
  const child = spawn(process.execPath, [RUN_TS, CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"] });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  // "close", not "exit": the last log lines are read only once stderr has ended.
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon did not start: ${stderr.join("\n")}`)), 30_000);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    void exited.then((code) => reject(new Error(`daemon exited ${code}: ${stderr.join("\n")}`)));
  });
  const info = JSON.parse(first) as { port: number; socket: string; tokenFile: string; link: string };
  return {
    port: info.port, socketPath: info.socket, dataDir, link: info.link, child, stderr,
    token: readFileSync(info.tokenFile, "utf8").trim(),
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
}

/** A JSON-RPC client over one real WebSocket, collecting notifications. */
export class RpcClient {
  readonly ws: WebSocket;
  readonly events: Array<{ method: string; params: any; at: number }> = [];
  readonly #pending = new Map<number, (reply: any) => void>();
  readonly unmatched: any[] = [];
  #id = 0;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (data) => {
      const msg = JSON.parse(String(data));
      if (msg.method !== undefined && msg.id === undefined) this.events.push({ method: msg.method, params: msg.params, at: Date.now() });
      else if (this.#pending.has(msg.id)) {
        this.#pending.get(msg.id)!(msg);
        this.#pending.delete(msg.id);
      } else this.unmatched.push(msg);
    });
  }

  /** Opens a socket; rejects with the HTTP status when the upgrade is refused. */
  static open(port: number, headers: Record<string, string> = {}, options: { host?: string } = {}): Promise<RpcClient> {
    return RpcClient.#connect(new WebSocket(`ws://${options.host ?? "127.0.0.1"}:${port}`, { headers }));
  }

  /** Opens a socket on the daemon's Unix socket. */
  static openLocal(socketPath: string, headers: Record<string, string> = {}): Promise<RpcClient> {
    return RpcClient.#connect(new WebSocket(`ws+unix://${socketPath}:/`, { headers }));
  }

  static #connect(ws: WebSocket): Promise<RpcClient> {
    return new Promise((resolve, reject) => {
      ws.once("open", () => resolve(new RpcClient(ws)));
      ws.once("unexpected-response", (_req, res) => {
        let body = "";
        res.on("data", (chunk) => (body += chunk));
        res.on("end", () => reject(Object.assign(new Error(`HTTP ${res.statusCode} ${body}`), { status: res.statusCode, reason: JSON.parse(body).reason })));
      });
      ws.once("error", reject);
    });
  }

  /**
   * A native client past hello: on the daemon's Unix socket, or with the bearer token over TCP for
   * callers that know only the port and token (test/batch/_daemon.ts).
   */
  static async native(d: Pick<DaemonProcess, "port" | "token"> & { socketPath?: string }): Promise<RpcClient> {
    const c = d.socketPath !== undefined ? await RpcClient.openLocal(d.socketPath) : await RpcClient.open(d.port, { Authorization: `Bearer ${d.token}` });
    const hello = await c.call("hello", { apiVersion: 1 });
    if (hello.error) throw new Error(JSON.stringify(hello.error));
    return c;
  }

  /**
   * A native client over TCP that proves the token without sending it (docs/API.md "Native clients
   * over TCP"): hello, auth.challenge with its nonce, checks the daemon's proof, then auth.prove.
   * Rejects with "not the daemon" before sending its own proof when the daemon's does not fit,
   * unless `careless` (to show what the daemon then does with a proof from a relayed connection).
   */
  static async proven(port: number, token: string, options: { careless?: boolean } = {}): Promise<RpcClient> {
    const c = await RpcClient.open(port, { Authorization: "OtpbridgeProof" });
    const socket = (c.ws as unknown as { _socket: import("node:net").Socket })._socket;
    const channel = channelName({ address: socket.localAddress!, port: socket.localPort! }, { address: socket.remoteAddress!, port: socket.remotePort! });
    await c.call("hello", { apiVersion: 1 });
    const nonce = randomBytes(32).toString("base64url");
    const challenge = (await c.call("auth.challenge", { nonce })).result;
    if (challenge?.proof !== proofOf(token, "daemon", nonce, challenge?.nonce, channel) && options.careless !== true) {
      c.close();
      throw new Error("not the daemon");
    }
    const proved = await c.call("auth.prove", { proof: proofOf(token, "client", nonce, challenge.nonce, channel) });
    if (proved.error) throw Object.assign(new Error(proved.error.message), { reason: proved.error.data.reason });
    return c;
  }

  /** Sends a request and resolves with the whole reply ({result} or {error}). */
  call(method: string, params?: unknown): Promise<any> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }));
    });
  }

  /** Resolves with the close code. */
  closed(): Promise<number> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve(-1);
    return new Promise((resolve) => this.ws.once("close", (code) => resolve(code)));
  }

  close(): void {
    this.ws.close();
  }
}

/** The first event of `method` matching `test`, waiting up to `timeoutMs`. */
export async function waitForEvent(c: RpcClient, method: string, test: (params: any) => boolean, timeoutMs: number): Promise<{ params: any; at: number } | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = c.events.find((e) => e.method === method && test(e.params));
    if (found !== undefined || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
