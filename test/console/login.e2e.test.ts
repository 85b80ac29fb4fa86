/**
 * The console's login and its walls, in Debian's headless Chromium against a real daemon process:
 * the launch URL works once (a second use, an expired token and a wrong one are refused), the
 * session cookie's flags, the token gone from the address bar and the history, a page of another
 * origin (served here on another port) that cannot open the console's WebSocket with or without
 * the cookie, the CSRF value the first message must carry, a foreign Host refused with 403, and
 * the headers on everything served.
 */
import { request as httpRequest, createServer, type Server } from "node:http";
import { mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import NodeWebSocket from "ws";
import { main } from "../../src/cli/main.js";
import { startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";
import { ensureConsoleBuilt, hasChromium, launchBrowser, launchUrl, loggedIn, seriousViolations, screenshot } from "./_console.js";

/** A GET with the headers given, answered with status, headers and body. */
function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, headers }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Opens a raw WebSocket; resolves with the socket, or the HTTP status of a refused upgrade. */
function openWs(port: number, headers: Record<string, string>): Promise<NodeWebSocket | number> {
  const ws = new NodeWebSocket(`ws://127.0.0.1:${port}/`, { headers });
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode!));
    ws.once("error", reject);
  });
}

function exchange(ws: NodeWebSocket, message: unknown): Promise<{ reply?: any; closed?: number }> {
  return new Promise((resolve) => {
    ws.once("message", (data) => resolve({ reply: JSON.parse(String(data)) }));
    ws.once("close", (code) => resolve({ closed: code }));
    ws.send(JSON.stringify(message));
  });
}

describe.skipIf(!hasChromium())("console login", () => {
  let d: DaemonProcess;
  let browser: Browser;
  let other: Server;
  let otherPort = 0;

  beforeAll(async () => {
    ensureConsoleBuilt();
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    browser = await launchBrowser();
    // Another web origin on the same host: it tries the daemon's WebSocket from its own page.
    other = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "text/html" }).end("<!doctype html><title>other</title>");
    });
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    otherPort = (other.address() as { port: number }).port;
  });

  afterAll(async () => {
    await browser?.close();
    other?.close();
    if (d !== undefined) expect(await d.stop()).toBe(0);
  });

  it("the launch URL logs in once, with an HttpOnly SameSite=Strict cookie named after the port, and leaves no token behind", async () => {
    const { url } = launchUrl(d.dataDir);
    expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${d.port}/login\\?token=[A-Za-z0-9_-]{43}$`));
    const { context, page, consoleErrors } = await loggedIn(browser, d.dataDir);
    expect(page.url()).toBe(`http://127.0.0.1:${d.port}/`);
    // The /login entry was replaced by the redirect: going back leaves the console for the blank tab.
    await page.goBack();
    expect(page.url()).toBe("about:blank");
    await page.goForward();
    expect(page.url()).toBe(`http://127.0.0.1:${d.port}/`);
    const cookies = await context.cookies();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({
      name: `otpbridge-console-${d.port}`,
      httpOnly: true,
      sameSite: "Strict",
      secure: false,
      path: "/",
      domain: "127.0.0.1",
    });
    expect(await page.evaluate("document.cookie")).toBe("");
    await page.getByRole("heading", { name: "Readers", exact: true }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await screenshot(page, "readers");
    expect(consoleErrors).toEqual([]);

    // The same URL again, from a fresh browser: refused, no cookie.
    const second = await browser.newContext();
    const again = await second.newPage();
    const response = await again.goto(url);
    expect(response!.status()).toBe(403);
    await again.getByText("This login URL is not valid").waitFor();
    expect(await again.locator("script").count()).toBe(0);
    expect(await second.cookies()).toEqual([]);
    expect(await seriousViolations(again)).toEqual([]);
    await screenshot(again, "login");
    await second.close();
    await context.close();
  });

  it("otpbridge console prints the launch URL from the daemon's 0600 file; with no daemon it says to start one", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), readStdin: () => "" };
    expect(await main(["console", "--data-dir", d.dataDir, "--no-browser"], io)).toBe(0);
    expect(out).toEqual([launchUrl(d.dataDir).url]);
    expect(statSync(join(d.dataDir, "console-launch.json")).mode & 0o777).toBe(0o600);
    const empty = mkdtempSync(join(tmpdir(), "otpb-console-"));
    expect(await main(["console", "--data-dir", empty, "--no-browser"], io)).toBe(69);
    expect(err.at(-1)).toContain("no daemon serves the console");
  });

  it("a wrong token is refused, a HEAD does not spend a token, and without the cookie the page only says how to log in", async () => {
    const { url } = launchUrl(d.dataDir);
    const path = new URL(url).pathname + new URL(url).search;
    const head = await new Promise<number>((resolve, reject) => {
      httpRequest({ host: "127.0.0.1", port: d.port, path, method: "HEAD" }, (res) => resolve(res.statusCode!))
        .on("error", reject)
        .end();
    });
    expect(head).toBe(405);
    expect((await get(d.port, path)).status).toBe(303);
    const wrong = await get(d.port, `/login?token=${"A".repeat(43)}`);
    expect(wrong.status).toBe(403);
    expect(wrong.headers["set-cookie"]).toBeUndefined();
    const anonymous = await get(d.port, "/");
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toContain("otpbridge console");
    expect(anonymous.body).not.toContain("<script");
    expect(anonymous.body).not.toContain("otpbridge-csrf");
  });

  it("an expired launch token is refused", async () => {
    const short = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" }, args: ["--console-launch-ttl", "1"] });
    try {
      const { url, expiresAt } = launchUrl(short.dataDir);
      await sleep(Math.max(0, expiresAt - Date.now()) + 200);
      const late = await get(short.port, new URL(url).pathname + new URL(url).search);
      expect(late.status).toBe(403);
      expect(late.headers["set-cookie"]).toBeUndefined();
      // A fresh URL from the file still works: the file always holds one with time left.
      const fresh = launchUrl(short.dataDir);
      const ok = await get(short.port, new URL(fresh.url).pathname + new URL(fresh.url).search);
      expect(ok.status).toBe(303);
    } finally {
      expect(await short.stop()).toBe(0);
    }
  });

  it("sends the strict headers on everything it serves, and refuses a foreign Host with 403", async () => {
    const index = await get(d.port, "/");
    const script = /src="(\/assets\/[^"]+\.js)"/.exec((await loggedInIndex())!)![1]!;
    for (const r of [index, await get(d.port, script), await get(d.port, "/nope"), await get(d.port, "/login?token=x")]) {
      expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
      expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(r.headers["x-frame-options"]).toBe("DENY");
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
      expect(r.headers["cache-control"]).toBe("no-store");
    }
    for (const path of ["/", script, `/login?token=${"A".repeat(43)}`]) {
      const foreign = await get(d.port, path, { Host: `evil.example:${d.port}` });
      expect(foreign.status).toBe(403);
      expect(JSON.parse(foreign.body).reason).toBe("FORBIDDEN_HOST");
      expect(foreign.headers["x-frame-options"]).toBe("DENY");
    }
  });

  /** The index page as a logged-in browser gets it (through a fresh login). */
  async function loggedInIndex(): Promise<string> {
    const login = await get(d.port, new URL(launchUrl(d.dataDir).url).pathname + new URL(launchUrl(d.dataDir).url).search);
    const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
    return (await get(d.port, "/", { Cookie: cookie })).body;
  }

  it("a page of another origin cannot open the console's WebSocket, with or without the cookie", async () => {
    const { context } = await loggedIn(browser, d.dataDir);
    const stranger = await browser.newContext();
    for (const ctx of [context, stranger]) {
      const page = await ctx.newPage();
      await page.goto(`http://127.0.0.1:${otherPort}/`);
      const outcome = await page.evaluate(async (port) => {
        const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
        const replies: any[] = [];
        await new Promise<void>((resolve) => {
          ws.onopen = () => ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "hello", params: { apiVersion: 1 } }));
          ws.onmessage = (e) => {
            replies.push(JSON.parse(e.data));
            if (replies.length === 1) ws.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "devices.list", params: {} }));
            else resolve();
          };
          ws.onclose = () => resolve();
        });
        ws.close();
        return replies;
      }, d.port);
      // Treated as any web page: it may ask for pairing, it is not the console and not paired.
      expect(outcome[0].result).toMatchObject({ client: { kind: "browser", origin: `http://127.0.0.1:${otherPort}` }, paired: false, capabilities: [] });
      expect(outcome[1].error.data.reason).toBe("NOT_PAIRED");
    }
    // The browser did send the cookie along (same site: cookies ignore ports); it counted for nothing.
    const cookie = (await context.cookies())[0]!;
    const forged = await openWs(d.port, { Origin: `http://127.0.0.1:${otherPort}`, Cookie: `${cookie.name}=${cookie.value}` });
    expect(forged).toBeInstanceOf(NodeWebSocket);
    const hello = await exchange(forged as NodeWebSocket, { jsonrpc: "2.0", id: 1, method: "hello", params: { apiVersion: 1 } });
    expect(hello.reply.result.client.kind).toBe("browser");
    (forged as NodeWebSocket).close();
    await stranger.close();
    await context.close();
  });

  it("the console's own Origin needs the cookie, and its first message the page's CSRF value", async () => {
    const own = `http://127.0.0.1:${d.port}`;
    expect(await openWs(d.port, { Origin: own })).toBe(401);
    const login = await get(d.port, new URL(launchUrl(d.dataDir).url).pathname + new URL(launchUrl(d.dataDir).url).search);
    const cookie = String(login.headers["set-cookie"]).split(";")[0]!;
    expect(await openWs(d.port, { Origin: own, Cookie: `${cookie}x` })).toBe(401);
    // The Origin must be the address the request came to: a port or a name off by one is another site.
    expect(await openWs(d.port, { Origin: `http://127.0.0.1:${d.port + 1}`, Cookie: cookie, Host: `127.0.0.1:${d.port}` })).not.toBe(401);
    expect(await openWs(d.port, { Origin: `http://localhost:${d.port}`, Cookie: cookie, Host: `127.0.0.1:${d.port}` })).not.toBe(401);
    const page = await get(d.port, "/", { Cookie: cookie });
    const csrf = /name="otpbridge-csrf" content="([^"]+)"/.exec(page.body)![1]!;
    for (const first of [
      { jsonrpc: "2.0", id: 1, method: "hello", params: { apiVersion: 1 } },
      { jsonrpc: "2.0", id: 1, method: "hello", params: { apiVersion: 1, csrf: "A".repeat(43) } },
      { jsonrpc: "2.0", id: 1, method: "devices.list", params: { csrf } },
    ]) {
      const ws = (await openWs(d.port, { Origin: own, Cookie: cookie })) as NodeWebSocket;
      expect(await exchange(ws, first)).toEqual({ closed: 1008 });
    }
    const ws = (await openWs(d.port, { Origin: own, Cookie: cookie })) as NodeWebSocket;
    const hello = await exchange(ws, { jsonrpc: "2.0", id: 1, method: "hello", params: { apiVersion: 1, csrf } });
    expect(hello.reply.result).toMatchObject({ client: { kind: "console", origin: own }, paired: true, capabilities: ["read", "burn", "batch", "export"] });
    ws.close();
  });
});
