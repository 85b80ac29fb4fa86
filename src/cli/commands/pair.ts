/**
 * `otpbridge pair list|approve CODE|revoke ORIGIN`: the user's side of browser pairing. Pending
 * requests live in the running daemon's memory, so list and approve ask it over its Unix socket
 * (the daemon's own user only); revoke does too, so the page loses its sessions at once, and edits
 * the pairing file directly when no daemon runs.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { REASONS, otpbError, type Reason } from "../../lib/errors.js";
import { daemonSocketPath } from "../../lib/daemon-paths.js";
import { CAPABILITIES, PairingStore, parseCapabilities } from "../../daemon/auth.js";
import { defaultDataDir } from "../../lib/daemon-paths.js";
import { confirm } from "../device-context.js";
import type { CommandIo } from "../io.js";

export const PAIR_HELP = `Usage: otpbridge pair list [--data-dir DIR]
       otpbridge pair approve CODE [--capabilities LIST] [--yes] [--data-dir DIR]
       otpbridge pair revoke ORIGIN [--data-dir DIR]

A web page that connects to the daemon asks for pairing and shows a short code. approve shows the
origin and the capabilities behind the code and asks before approving: check that the origin is the
site you expect. --capabilities narrows what the page asked for: a comma-separated subset of
${CAPABILITIES.join(", ")}. list and approve need the running daemon (pending requests live in it).`;

interface PendingView {
  code: string;
  origin: string;
  capabilities: string[];
  createdAt: number;
}

/**
 * Runs `calls` one after the other on the daemon's Unix socket and resolves with their results, or
 * with undefined when no daemon answers there.
 * @throws OtpbridgeError with the daemon's reason when a call fails.
 */
async function onDaemon(dataDir: string, calls: Array<[string, unknown]>): Promise<unknown[] | undefined> {
  const path = daemonSocketPath(dataDir);
  if (!existsSync(path)) return undefined;
  const ws = new WebSocket(`ws+unix://${path}:/`);
  const opened = await new Promise<boolean>((done) => {
    ws.once("open", () => done(true));
    ws.once("error", () => done(false));
  });
  if (!opened) return undefined;
  try {
    const results: unknown[] = [];
    let id = 0;
    for (const [method, params] of [["hello", { apiVersion: 1, client: "otpbridge pair" }], ...calls] as Array<[string, unknown]>) {
      type Reply = { id?: number; result?: unknown; error?: { message: string; data?: { reason?: string } } };
      const reply = await new Promise<Reply>((done, fail) => {
        const mine = ++id;
        const onMessage = (data: WebSocket.RawData): void => {
          const msg = JSON.parse(String(data)) as Reply;
          if (msg.id !== mine) return;
          ws.off("message", onMessage);
          done(msg);
        };
        ws.on("message", onMessage);
        ws.once("close", () => fail(otpbError("TRANSPORT_CLOSED", "the daemon closed the connection")));
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: mine, method, params }));
      });
      if (reply.error !== undefined) {
        const reason = reply.error.data?.reason ?? "INTERNAL";
        throw otpbError(reason in REASONS ? (reason as Reason) : "INTERNAL", reply.error.message);
      }
      results.push(reply.result);
    }
    return results.slice(1);
  } finally {
    ws.close();
  }
}

/** `otpbridge pair`. */
export async function runPair(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      capabilities: { type: "string" },
      yes: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(PAIR_HELP);
    return 0;
  }
  const dataDir = resolve(values["data-dir"] ?? defaultDataDir());
  const [action, arg] = positionals;
  if (action === "list" && arg === undefined) {
    const listed = (await onDaemon(dataDir, [["pairing.list", {}]]))?.[0] as
      | { pending: PendingView[]; approved: Array<{ origin: string; capabilities: string[]; approvedAt: number }> }
      | undefined;
    const pending = listed?.pending ?? [];
    const approved = listed?.approved ?? new PairingStore(dataDir).list();
    for (const p of pending) io.out(`pending   ${p.code}  ${p.origin}  ${p.capabilities.join(",")}  (since ${new Date(p.createdAt).toISOString()})`);
    for (const a of approved) io.out(`approved  ${a.origin}  ${a.capabilities.join(",")}  (since ${new Date(a.approvedAt).toISOString()})`);
    if (pending.length + approved.length === 0)
      io.out(listed === undefined ? "no pairings (the daemon is not running: no page can be waiting)" : "no pairings");
    return 0;
  }
  if (action === "approve" && arg !== undefined) {
    const capabilities = values.capabilities === undefined ? undefined : parseCapabilities(values.capabilities.split(",").map((c) => c.trim()));
    const listed = (await onDaemon(dataDir, [["pairing.list", {}]]))?.[0] as { pending: PendingView[] } | undefined;
    if (listed === undefined) throw otpbError("PAIRING_NOT_FOUND", "no daemon runs on this data directory, so no page can be waiting for approval");
    const wanted = arg.toUpperCase().replace(/[\s-]/g, "");
    const pending = listed.pending.find((p) => p.code === wanted);
    if (pending === undefined) throw otpbError("PAIRING_NOT_FOUND", "no pending pairing with that code (expired, already used, or its page was closed?)");
    const granted = capabilities ?? pending.capabilities;
    io.err(`The page at ${pending.origin} asks for: ${pending.capabilities.join(", ")}.`);
    await confirm(io, `Approve ${pending.origin} with ${granted.join(", ")}?`, values.yes === true);
    const [approved] = (await onDaemon(dataDir, [["pairing.approve", { code: wanted, ...(capabilities !== undefined ? { capabilities } : {}) }]]))! as Array<{
      origin: string;
      capabilities: string[];
    }>;
    io.out(`approved ${approved!.origin} with ${approved!.capabilities.join(",")}`);
    return 0;
  }
  if (action === "revoke" && arg !== undefined) {
    if ((await onDaemon(dataDir, [["pairing.revoke", { origin: arg }]])) === undefined) new PairingStore(dataDir).revoke(arg);
    io.out(`revoked ${arg}`);
    return 0;
  }
  throw otpbError("INVALID_INPUT", `expected list, approve CODE or revoke ORIGIN\n${PAIR_HELP}`);
}
