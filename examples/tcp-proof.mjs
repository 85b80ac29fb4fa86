// A native client of the otpbridge daemon over TCP, for programs that cannot use its Unix socket:
// it proves that it holds the daemon's token without sending it, and checks first that the other
// end knows the token too, so a program squatting the port learns nothing (docs/API.md "Native
// clients over TCP"). It lists the devices.
//
//   node examples/tcp-proof.mjs [--port 21630] [--data-dir ~/.local/share/otpbridge]
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import WebSocket from "ws";

const { values } = parseArgs({ options: { port: { type: "string", default: "21630" }, "data-dir": { type: "string" } } });
const dataDir = values["data-dir"] ?? join(process.env.XDG_DATA_HOME || join(homedir(), ".local", "share"), "otpbridge");
const token = readFileSync(join(dataDir, "daemon.token"), "utf8").trim();

let socket;
const ws = new WebSocket(`ws://127.0.0.1:${values.port}`, {
  headers: { Authorization: "OtpbridgeProof" },
  // Keeps the TCP socket: the proofs name both of its endpoints.
  createConnection: (options) => (socket = connect({ ...options, path: options.socketPath })),
});

let nextId = 0;
const pending = new Map();
ws.on("message", (data) => {
  const msg = JSON.parse(String(data));
  if (msg.id === undefined) return;
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

const endpoint = (address, port) => (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`);
function proof(side, clientNonce, daemonNonce) {
  const channel = `${endpoint(socket.localAddress, socket.localPort)}>${endpoint(socket.remoteAddress, socket.remotePort)}`;
  return createHmac("sha256", token).update(`otpbridge-native-proof-v1\n${side}\n${clientNonce}\n${daemonNonce}\n${channel}`).digest("base64url");
}

ws.on("open", async () => {
  try {
    await call("hello", { apiVersion: 1, client: "examples/tcp-proof" });
    const nonce = randomBytes(32).toString("base64url");
    const challenge = await call("auth.challenge", { nonce });
    const expected = Buffer.from(proof("daemon", nonce, challenge.nonce));
    const got = Buffer.from(String(challenge.proof));
    if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
      throw new Error(`whatever listens on port ${values.port} does not know the token: it is not the daemon (nothing was sent)`);
    }
    const { capabilities } = await call("auth.prove", { proof: proof("client", nonce, challenge.nonce) });
    console.log(`proved the token to the daemon (capabilities: ${capabilities.join(", ")})`);
    const { devices } = await call("devices.list");
    for (const d of devices) console.log(`  ${d.id.padEnd(34)} ${String(d.family ?? "-").padEnd(15)} ${d.model ?? ""} ${d.serial ?? ""} [${d.state}]`);
  } catch (error) {
    console.error(`failed: ${error.message}${error.reason ? ` (${error.reason})` : ""}`);
    process.exitCode = 1;
  } finally {
    ws.close();
  }
});
ws.on("unexpected-response", (_req, res) => {
  console.error(`refused: HTTP ${res.statusCode}`);
  process.exitCode = 1;
});
ws.on("error", (error) => {
  console.error(`cannot connect: ${error.message}`);
  process.exitCode = 1;
});
