// Runs as another local user (the tests spawn it with an unprivileged uid): the attacker's side of
// test/daemon/adversary.test.ts. Plain JavaScript so it needs no write access to any build cache.
// argv[2] is a JSON scenario; results are JSON lines on stdout.
import { createServer, connect as tcpConnect } from "node:net";
import { readFileSync } from "node:fs";
import WebSocket, { WebSocketServer } from "ws";

const plan = JSON.parse(process.argv[2]);
const say = (what) => process.stdout.write(JSON.stringify(what) + "\n");

function open(url, headers) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => resolve({ status: res.statusCode }));
    ws.once("error", (error) => resolve({ error: error.code ?? error.message }));
  });
}

function rpc(ws) {
  let id = 0;
  const pending = new Map();
  const events = [];
  ws.on("message", (data) => {
    const msg = JSON.parse(String(data));
    if (Array.isArray(msg)) for (const m of msg) pending.get(m.id)?.(m);
    else if (msg.id !== undefined && pending.has(msg.id)) pending.get(msg.id)(msg);
    else events.push(msg);
  });
  return {
    events,
    call: (method, params) => new Promise((resolve) => {
      pending.set(++id, resolve);
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      ws.once("close", () => resolve({ closed: true }));
    }),
  };
}

const scenarios = {
  /** Finding 1: a forged Origin of a paired site, and a guessed secret; and the token file. */
  async forge() {
    let token;
    try {
      token = readFileSync(plan.tokenFile, "utf8");
    } catch (error) {
      token = error.code;
    }
    say({ step: "token", token });
    const unix = await open(`ws+unix://${plan.socketPath}:/`, {});
    say({ step: "unix", opened: unix.ws !== undefined, error: unix.error });
    const results = {};
    for (const [name, extra] of [["bare", {}], ["guessed", { pairing: "A".repeat(43) }]]) {
      const { ws } = await open(`ws://127.0.0.1:${plan.port}`, { Origin: plan.origin });
      const c = rpc(ws);
      results[name] = {
        hello: await c.call("hello", { apiVersion: 1, ...extra }),
        devices: await c.call("devices.list", {}),
        exported: await c.call("journal.export", { batchId: 1 }),
      };
      ws.close();
    }
    say({ step: "forged", ...results });
  },

  /** Finding 2: sockets of one foreign page sending pairing requests in batches of 16 as fast as answered. */
  async flood() {
    const until = Date.now() + plan.seconds * 1000;
    let sent = 0;
    let answered = 0;
    let refused = 0;
    const batch = Array.from({ length: 16 }, (_, i) => ({ jsonrpc: "2.0", id: i + 1, method: "pairing.request", params: { capabilities: ["read", "burn", "batch", "export"] } }));
    const text = JSON.stringify(batch);
    async function socket() {
      while (Date.now() < until) {
        const { ws, status } = await open(`ws://127.0.0.1:${plan.port}`, { Origin: plan.origin });
        if (ws === undefined) {
          refused++;
          await new Promise((r) => setTimeout(r, 20));
          continue;
        }
        await new Promise((done) => {
          ws.on("open", () => {});
          ws.send(JSON.stringify({ jsonrpc: "2.0", id: 0, method: "hello", params: { apiVersion: 1 } }));
          ws.on("message", () => {
            answered++;
            if (Date.now() >= until) return ws.close();
            sent += 16;
            ws.send(text);
          });
          ws.on("close", done);
          ws.on("error", done);
        });
        void status;
      }
    }
    await Promise.all(Array.from({ length: plan.sockets }, socket));
    say({ step: "flooded", sent, answered, refused });
  },

  /** Findings 3 and 4: opens `count` sockets of each origin, optionally asks for pairing on each, holds them until told. */
  async hold() {
    const held = [];
    const tally = { opened: 0, refused: {}, pairing: { ok: 0, limited: 0 } };
    for (const origin of plan.origins) {
      for (let i = 0; i < plan.count; i++) {
        const { ws, status, error } = await open(`ws://127.0.0.1:${plan.port}`, { Origin: origin });
        if (ws === undefined) {
          tally.refused[status ?? error] = (tally.refused[status ?? error] ?? 0) + 1;
          continue;
        }
        tally.opened++;
        held.push(ws);
        if (plan.pair) {
          const c = rpc(ws);
          await c.call("hello", { apiVersion: 1 });
          const r = await c.call("pairing.request", {});
          if (r.result) tally.pairing.ok++;
          else if (r.error?.data?.reason === "RATE_LIMITED") tally.pairing.limited++;
        }
      }
    }
    say({ step: "holding", ...tally });
    process.stdin.once("data", () => {
      for (const ws of held) ws.close();
      setTimeout(() => process.exit(0), 200);
    });
  },

  /**
   * Finding 5: squats a port as a fake daemon and records what native clients send it. With
   * `relay`, passes every connection through to the real daemon instead (a man in the middle).
   */
  async squat() {
    const received = [];
    if (plan.relay !== undefined) {
      const server = createServer((client) => {
        const upstream = tcpConnect({ host: "127.0.0.1", port: plan.relay });
        client.on("data", (d) => received.push(d.toString("latin1")));
        client.pipe(upstream).pipe(client);
        client.on("error", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
      });
      server.listen(0, "127.0.0.1", () => say({ step: "listening", port: server.address().port }));
    } else {
      const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => say({ step: "listening", port: wss.address().port }));
      wss.on("connection", (ws, req) => {
        received.push(JSON.stringify(req.headers));
        ws.on("message", (data) => {
          received.push(String(data));
          const msg = JSON.parse(String(data));
          // Answers like the daemon would, with a proof it cannot compute without the token.
          const result = msg.method === "auth.challenge" ? { nonce: "B".repeat(43), proof: "C".repeat(43) } : { apiVersion: 1, paired: false, capabilities: [] };
          ws.send(JSON.stringify({ jsonrpc: "2.0", id: msg.id, result }));
        });
      });
    }
    process.stdin.once("data", () => {
      say({ step: "received", received });
      setTimeout(() => process.exit(0), 100);
    });
  },
};

await scenarios[plan.scenario]();
