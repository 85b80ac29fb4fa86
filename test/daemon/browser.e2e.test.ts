/**
 * A real browser (Debian's headless Chromium) against the real daemon: a page served from
 * http://localhost pairs (its Origin header is the browser's own), is approved through the CLI,
 * lists the devices, keeps the pairing secret in its storage and is paired by it on its next visit; a page of a foreign origin, and a page that reaches the daemon under a
 * rebound DNS name, are refused at the upgrade. Pages report back to the test's HTTP server.
 * Skipped where no chromium is installed.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";
import { startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => spawnSync(p, ["--version"]).status === 0);

// The page, as docs/API.md "Pairing" asks of one: connects to ws://<ws>, says hello with the pairing
// secret from its storage if it has one; unpaired, it asks for pairing, keeps the secret that the
// approval brings, and reloads itself once (a later visit, paired from storage alone). Every step is
// POSTed to /report on its own origin.
const PAGE = `<!doctype html><script>
const q = new URLSearchParams(location.search);
const report = (what) => fetch("/report", { method: "POST", body: JSON.stringify({ visit: q.get("visit"), ...what }) });
const ws = new WebSocket("ws://" + q.get("ws"));
let id = 0; const pending = {};
const call = (method, params) => new Promise((r) => { pending[++id] = r; ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params })); });
ws.onmessage = (e) => {
  const m = JSON.parse(e.data);
  if (m.method === "pairing.approved") localStorage.setItem("otpbridge.pairing", m.params.secret);
  if (pending[m.id]) pending[m.id](m);
};
ws.onclose = (e) => report({ step: "closed", code: e.code });
ws.onopen = async () => {
  const secret = localStorage.getItem("otpbridge.pairing");
  const hello = await call("hello", { apiVersion: 1, ...(secret ? { pairing: secret } : {}) });
  await report({ step: "hello", hello });
  if (!hello.result.paired) {
    const pairing = await call("pairing.request", { capabilities: ["read"] });
    await report({ step: "pairing", pairing });
  }
  for (;;) {
    const list = await call("devices.list", {});
    if (list.result) {
      await report({ step: "devices", count: list.result.devices.length });
      if (q.get("visit") === "1") { q.set("visit", "2"); location.search = q.toString(); }
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
};
</script>`;

describe.skipIf(CHROMIUM === undefined)("a real browser page", () => {
  let d: DaemonProcess;
  let http: Server;
  let httpPort = 0;
  const reports: any[] = [];
  const browsers: ChildProcess[] = [];

  beforeAll(async () => {
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    http = createServer((req, res) => {
      if (req.method === "POST") {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          reports.push({ host: req.headers.host, ...JSON.parse(body) });
          res.end();
        });
        return;
      }
      res.writeHead(200, { "Content-Type": "text/html" }).end(PAGE);
    });
    await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
    httpPort = (http.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const b of browsers) if (b.exitCode === null) b.kill("SIGKILL");
    http?.close();
    await d?.stop();
  });

  function browse(url: string): void {
    const profile = mkdtempSync(join(tmpdir(), "otpb-chromium-"));
    // "MAP evil.example 127.0.0.1": the foreign site and the rebound name both resolve to this machine.
    browsers.push(
      spawn(
        CHROMIUM!,
        [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          `--user-data-dir=${profile}`,
          "--host-resolver-rules=MAP evil.example 127.0.0.1, MAP rebind.example 127.0.0.1",
          url,
        ],
        { stdio: "ignore" },
      ),
    );
  }

  async function waitFor(test: (r: any) => boolean, timeoutMs = 20_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = reports.find(test);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no such report; got ${JSON.stringify(reports)}`);
  }

  it("pairs a page of http://localhost, approved through the CLI, and pairs it again from its storage on the next visit", async () => {
    browse(`http://localhost:${httpPort}/?visit=1&ws=127.0.0.1:${d.port}`);
    const mine = (r: any): boolean => r.host === `localhost:${httpPort}`;
    const hello = await waitFor((r) => r.step === "hello" && mine(r));
    expect(hello.hello.result).toMatchObject({ paired: false, client: { kind: "browser", origin: `http://localhost:${httpPort}` } });
    const pairing = await waitFor((r) => r.step === "pairing" && mine(r));
    const out: string[] = [];
    const code = await main(["pair", "approve", pairing.pairing.result.code, "--yes", "--data-dir", d.dataDir], {
      out: (l) => out.push(l),
      err: () => {},
      readStdin: () => "",
    });
    expect(code).toBe(0);
    expect(out).toEqual([`approved http://localhost:${httpPort} with read`]);
    const devices = await waitFor((r) => r.step === "devices" && mine(r));
    expect(devices.count).toBeGreaterThanOrEqual(4);
    // The reloaded page presents the secret it stored and is paired without asking again.
    const second = await waitFor((r) => r.step === "hello" && r.visit === "2" && mine(r));
    expect(second.hello.result).toMatchObject({ paired: true, capabilities: ["read"] });
    await waitFor((r) => r.step === "devices" && r.visit === "2" && mine(r));
    expect(reports.some((r) => r.step === "pairing" && r.visit === "2")).toBe(false);
  });

  it("refuses a foreign origin at the upgrade", async () => {
    browse(`http://evil.example:${httpPort}/?ws=127.0.0.1:${d.port}`);
    const closed = await waitFor((r) => r.host === `evil.example:${httpPort}`);
    expect(closed).toMatchObject({ step: "closed", code: 1006 });
    expect(d.stderr.some((l) => l.includes("upgrade refused") && l.includes("FORBIDDEN_ORIGIN") && l.includes(`http://evil.example:${httpPort}`))).toBe(true);
  });

  it("refuses a page that reaches the daemon under a rebound DNS name (Host check)", async () => {
    browse(`http://127.0.0.1:${httpPort}/?ws=rebind.example:${d.port}`);
    const closed = await waitFor((r) => r.host === `127.0.0.1:${httpPort}`);
    expect(closed).toMatchObject({ step: "closed", code: 1006 });
    expect(d.stderr.some((l) => l.includes("upgrade refused") && l.includes("FORBIDDEN_HOST") && l.includes(`rebind.example:${d.port}`))).toBe(true);
  });
});
