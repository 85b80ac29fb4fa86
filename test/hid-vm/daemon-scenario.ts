/**
 * Runs INSIDE the HID test VM, after the driver scenarios of guest-e2e.ts: the real daemon process
 * (`node bin/otpbridge.js daemon`, from dist/) serves a Token2 FIDO key on hidraw, with no pcscd in
 * the VM at all, and a ws client drives it over the VM's loopback as an application would:
 * devices.list, device.acquire, otpApplet.add (one entry that needs a touch), list, code, the code
 * behind a touch (the key is touched while the call waits), then the key unplugged while a call
 * waits on it (DEVICE_GONE, the session ended, the old session refused), plugged back in (the same
 * emulated key, entries kept), acquired again, listed, an entry deleted, and the daemon stopped.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import type { ToDevice } from "./device-process.js";
import { DAEMON_DEVICE, DAEMON_SEED_BASE32, DAEMON_TOUCH_SEED_BASE32 } from "./scenario.js";
import { nowMs } from "./uhid-device.js";

const BIN = fileURLToPath(new URL("../../../../../bin/otpbridge.js", import.meta.url));

/** A reply's error as the test sees it. */
interface RpcFailure {
  reason: string;
  message: string;
}

export interface DaemonResult {
  /** The daemon's first stdout line: where it listens and over which link. */
  started?: { port: number; link: string };
  /** Whether pcscd's socket answers in the VM (it must not: no pcscd runs there). */
  pcscd?: "reachable" | "absent";
  /** The links of every device the daemon lists. */
  links?: string[];
  deviceId?: string;
  /** Unix seconds just before the list and code calls, so the test can compute the codes. */
  listedAt?: number;
  listed?: Array<{ app: string; account: string; code: string | null; buttonRequired?: boolean }>;
  code?: { code: string; at: number };
  touch?: { code: string; at: number; pendingAtTouch: boolean; ms: number };
  unplug?: { error: RpcFailure | null; sessionEnded: unknown; oldSession: RpcFailure | null; ms: number };
  replug?: { deviceId: string; listed: Array<{ app: string; account: string }>; deleted: unknown; after: number };
  exitCode?: number | null;
  /** The daemon's log lines (info and above). */
  log?: string[];
  error?: string;
}

class Client {
  readonly events: Array<{ method: string; params: any }> = [];
  readonly #pending = new Map<number, (reply: any) => void>();
  #id = 0;

  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.id === undefined) this.events.push(message);
      else this.#pending.get(message.id)?.(message);
    });
  }

  /** Resolves with the result, or rejects with the reply's error (reason, message). */
  call(method: string, params?: unknown): Promise<any> {
    const id = ++this.#id;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (reply) => {
        this.#pending.delete(id);
        if (reply.error === undefined) resolve(reply.result);
        else reject(Object.assign(new Error(reply.error.message), { reason: reply.error.data?.reason }));
      });
      this.ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) }));
    });
  }

  async waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
    const deadline = nowMs() + timeoutMs;
    for (;;) {
      const found = await check();
      if (found !== undefined) return found;
      if (nowMs() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

const failureOf = (error: unknown): RpcFailure => ({ reason: (error as { reason?: string }).reason ?? "none", message: (error as Error).message });
const unixNow = (): number => Math.floor(Date.now() / 1000);

/** Whether something accepts connections on pcscd's socket (the host's socket file shows through the read-only root). */
function pcscdAnswers(): Promise<"reachable" | "absent"> {
  return new Promise((resolve) => {
    const socket = connect(process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm");
    socket.once("connect", () => {
      socket.destroy();
      resolve("reachable");
    });
    socket.once("error", () => resolve("absent"));
  });
}

/** The id of the daemon's listed key, once it is listed. */
async function listedKey(client: Client): Promise<string> {
  return client.waitFor("the key in devices.list", async () => {
    const { devices } = await client.call("devices.list");
    return (devices as Array<{ id: string; family: string; serial: string | null }>).find((d) => d.family === "otp-applet" && d.serial === DAEMON_DEVICE.serial)
      ?.id;
  });
}

/** The scenario; `waitStarted` resolves once the kernel has bound a created device. */
export async function daemonScenario(
  toDevice: (m: ToDevice) => void,
  waitStarted: (key: string) => Promise<number>,
  waitDestroyed: (key: string) => Promise<number>,
): Promise<DaemonResult> {
  const result: DaemonResult = {};
  const stderr: string[] = [];
  const daemon = spawn(process.execPath, [BIN, "daemon", "--port", "0", "--data-dir", "/tmp/otpbridge-vm/data", "--log-level", "info"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  createInterface({ input: daemon.stderr! }).on("line", (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => daemon.once("close", resolve));
  try {
    result.pcscd = await pcscdAnswers();
    toDevice({ cmd: "create", device: DAEMON_DEVICE });
    await waitStarted(DAEMON_DEVICE.key);
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: daemon.stdout! }).once("line", resolve);
      void exited.then((code) => reject(new Error(`daemon exited ${code}: ${stderr.join("\n")}`)));
    });
    const info = JSON.parse(first) as { port: number; tokenFile: string; link: string };
    result.started = { port: info.port, link: info.link };
    const token = readFileSync(info.tokenFile, "utf8").trim();
    const ws = new WebSocket(`ws://127.0.0.1:${info.port}`, { headers: { Authorization: `Bearer ${token}` } });
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const client = new Client(ws);
    await client.call("hello", { apiVersion: 1 });

    // Found by the daemon's HID polling, with PC/SC absent.
    const id = await listedKey(client);
    result.deviceId = id;
    result.links = (await client.call("devices.list")).devices.map((d: { link: string }) => d.link);
    let { session } = await client.call("device.acquire", { id, previous: null });
    await client.call("otpApplet.add", { session, app: "VM Daemon", account: "alice@example.com", seed: DAEMON_SEED_BASE32 });
    await client.call("otpApplet.add", {
      session,
      app: "VM Daemon",
      account: "bob@example.com",
      seed: DAEMON_TOUCH_SEED_BASE32,
      algorithm: "SHA256",
      buttonRequired: true,
    });
    result.listedAt = unixNow();
    result.listed = (await client.call("otpApplet.list", { session })).entries;
    const codeAt = unixNow();
    result.code = { ...(await client.call("otpApplet.code", { session, app: "VM Daemon", account: "alice@example.com" })), at: codeAt };

    // The touch: the call waits (busy frames) until the key is touched.
    const touchAt = unixNow();
    const touchStart = nowMs();
    let settled = false;
    const touched = client.call("otpApplet.code", { session, app: "VM Daemon", account: "bob@example.com" }).finally(() => (settled = true));
    await new Promise((resolve) => setTimeout(resolve, 700));
    const pendingAtTouch = !settled;
    toDevice({ cmd: "touch", key: DAEMON_DEVICE.key });
    result.touch = { ...(await touched), at: touchAt, pendingAtTouch, ms: nowMs() - touchStart };

    // Unplugged while a call waits for a touch that never comes.
    const unplugStart = nowMs();
    const waiting = client.call("otpApplet.code", { session, app: "VM Daemon", account: "bob@example.com" }).then(() => null, failureOf);
    await new Promise((resolve) => setTimeout(resolve, 500));
    toDevice({ cmd: "destroy", key: DAEMON_DEVICE.key });
    const error = await waiting;
    const ms = nowMs() - unplugStart;
    await waitDestroyed(DAEMON_DEVICE.key);
    const sessionEnded = await client.waitFor("device.sessionEnded", () => client.events.find((e) => e.method === "device.sessionEnded")?.params);
    const oldSession = await client.call("otpApplet.list", { session }).then(() => null, failureOf);
    result.unplug = { error, sessionEnded, oldSession, ms };

    // Plugged back in: the same key (its entries kept), a new hidraw node, a new session.
    toDevice({ cmd: "create", device: DAEMON_DEVICE });
    await waitStarted(DAEMON_DEVICE.key);
    const again = await listedKey(client);
    ({ session } = await client.call("device.acquire", { id: again, previous: null }));
    const listed = (await client.call("otpApplet.list", { session })).entries.map(({ app, account }: { app: string; account: string }) => ({ app, account }));
    const deleted = await client.call("otpApplet.delete", { session, app: "VM Daemon", account: "alice@example.com" });
    const after = (await client.call("otpApplet.list", { session })).entries.length;
    result.replug = { deviceId: again, listed, deleted, after };
    await client.call("device.release", { session });
    ws.close();
  } catch (error) {
    result.error = error instanceof Error ? `${error.message}\n${error.stack}` : String(error);
  } finally {
    if (daemon.exitCode === null) daemon.kill("SIGTERM");
    result.exitCode = await exited;
    result.log = stderr;
  }
  return result;
}
