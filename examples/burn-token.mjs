// A native client of the otpbridge daemon: lists the devices, takes a session on the first
// single-profile token, burns it with a seed the daemon generates, and prints what the token
// should now show. Run `otpbridge daemon --simulate` first (any machine, no hardware needed).
//
//   node examples/burn-token.mjs [--data-dir ~/.local/share/otpbridge]
//
// It connects to the daemon's Unix socket in the data directory: the directory is the daemon
// user's own (0700), so the operating system vouches for both ends and no token is needed.
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";

const { values } = parseArgs({ options: { "data-dir": { type: "string" } } });
const dataDir = values["data-dir"] ?? join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "otpbridge");
const ws = new WebSocket(`ws+unix://${join(dataDir, "daemon.sock")}:/`);

let nextId = 0;
const pending = new Map();
ws.on("message", (data) => {
  const msg = JSON.parse(String(data));
  if (msg.id === undefined) return console.log(`event ${msg.method}`);
  const { resolve, reject } = pending.get(msg.id);
  pending.delete(msg.id);
  if (msg.error) reject(Object.assign(new Error(msg.error.message), { reason: msg.error.data?.reason }));
  else resolve(msg.result);
});
function call(method, params = {}) {
  const id = ++nextId;
  ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

ws.on("open", async () => {
  try {
    const hello = await call("hello", { apiVersion: 1, client: "examples/burn-token" });
    console.log(`connected to otpbridge ${hello.server.version} (capabilities: ${hello.capabilities.join(", ")})`);
    const { devices } = await call("devices.list");
    for (const d of devices) console.log(`  ${d.id.padEnd(34)} ${String(d.family ?? "-").padEnd(15)} ${d.model ?? ""} ${d.serial ?? ""} [${d.state}]`);
    const target = devices.find((d) => d.family === "single-profile" && d.state === "ready" && d.session === null);
    if (target === undefined) throw new Error("no free single-profile token");
    const { session } = await call("device.acquire", { id: target.id, previous: null });
    try {
      const burned = await call("token.burn", { session, algorithm: "SHA1", period: 30, label: "alice@example.com" });
      console.log(
        `burned ${burned.model} ${burned.serial}: it should show ${burned.codes.current} now (journal item ${burned.journal.itemId}, ${burned.journal.state})`,
      );
    } finally {
      await call("device.release", { session });
    }
  } catch (error) {
    console.error(`failed: ${error.message}${error.reason ? ` (${error.reason})` : ""}`);
    process.exitCode = 1;
  } finally {
    ws.close();
  }
});
ws.on("unexpected-response", (_req, res) => {
  console.error(`refused by the daemon: HTTP ${res.statusCode}`);
  process.exitCode = 1;
});
ws.on("error", (error) => {
  console.error(`cannot connect: ${error.message} (is \`otpbridge daemon --simulate\` running?)`);
  process.exitCode = 1;
});
