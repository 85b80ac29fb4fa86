/**
 * The console's plain HTTP side: the page, its bundled assets (dist/console, built by
 * `npm run build:console`; nothing is loaded from elsewhere) and the login exchange. Every answer,
 * refusals included, carries the same strict headers, and every request must name a loopback Host
 * (as the WebSocket upgrade: DNS rebinding). The page is a client of the public JSON-RPC API only.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { gzipSync } from "node:zlib";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Logger } from "../lib/log.js";
import { isLoopbackHost } from "./auth.js";
import type { ConsoleLogin } from "./console-login.js";

/** Sent with everything the daemon serves over HTTP. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy": "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
  "X-Content-Type-Options": "nosniff",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin",
};

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
};

/** The placeholder in the built index.html that each page load replaces with its CSRF value. */
const CSRF_META = '<meta name="otpbridge-csrf" content="">';

/** One file of the bundle, and its gzip form when that is smaller (compressed once, at start). */
interface Asset {
  type: string;
  body: Buffer;
  gzip?: Buffer;
}

/** The built page: index.html and its assets by URL path, read once at start. */
export interface ConsoleBundle {
  index: string;
  assets: ReadonlyMap<string, Asset>;
}

/**
 * Reads dist/console (beside dist/src when built, or the repository's dist from src in tests), or
 * undefined when the console was not built: the daemon then serves a page that says so.
 */
export function loadConsoleBundle(dir?: string): ConsoleBundle | undefined {
  const candidates = dir !== undefined ? [dir] : ["../../console", "../../dist/console"].map((up) => fileURLToPath(new URL(up, import.meta.url)));
  for (const root of candidates) {
    let index: string;
    try {
      index = readFileSync(join(root, "index.html"), "utf8");
    } catch {
      continue;
    }
    const assets = new Map<string, Asset>();
    const walk = (sub: string): void => {
      for (const name of readdirSync(join(root, sub))) {
        const rel = sub === "" ? name : `${sub}/${name}`;
        if (statSync(join(root, rel)).isDirectory()) walk(rel);
        else if (rel !== "index.html" && TYPES[extname(name)] !== undefined) {
          const body = readFileSync(join(root, rel));
          const gzip = gzipSync(body, { level: 9 });
          assets.set(`/${rel}`, { type: TYPES[extname(name)]!, body, ...(gzip.length < body.length ? { gzip } : {}) });
        }
      }
    };
    walk("");
    return { index, assets };
  }
  return undefined;
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The page for a browser without a session: how to log in, nothing else. */
function loginPage(message: string, stylesheet: string | undefined): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>otpbridge console: log in</title><link rel="icon" href="/favicon.svg" type="image/svg+xml">${stylesheet !== undefined ? `<link rel="stylesheet" href="${stylesheet}">` : ""}</head>
<body><main class="login"><h1>otpbridge console</h1><p>${escapeHtml(message)}</p>
<p>To log in, run this on the machine where the daemon runs, as the user who runs it, and open the URL it prints (it works once, within a minute):</p>
<pre><code>otpbridge console</code></pre></main></body></html>`;
}

export interface ConsoleHttpOptions {
  login: ConsoleLogin;
  bundle: ConsoleBundle | undefined;
  log: Logger;
}

/**
 * Answers one plain HTTP request (the WebSocket upgrade goes elsewhere). GET and HEAD only:
 * `/` (the page, or how to log in), `/login?token=...` (the single-use exchange, then a redirect
 * to `/` so the token leaves the address bar and the history), and the bundle's assets.
 */
export function serveConsole(req: IncomingMessage, res: ServerResponse, options: ConsoleHttpOptions): void {
  const { login, bundle, log } = options;
  const send = (status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": type, "Content-Length": String(Buffer.byteLength(body)), ...extra });
    res.end(req.method === "HEAD" ? undefined : body);
  };
  const json = (status: number, reason: string, message: string): void => send(status, TYPES[".json"]!, JSON.stringify({ reason, message }));
  if (!isLoopbackHost(req.headers.host)) {
    log.warn("http refused: Host is not a loopback name", { host: String(req.headers.host).slice(0, 100) });
    return json(403, "FORBIDDEN_HOST", "the Host header must be a loopback name");
  }
  if (req.method !== "GET" && req.method !== "HEAD") return send(405, "text/plain", "GET only\n", { Allow: "GET, HEAD" });
  const url = new URL(req.url ?? "/", "http://localhost");
  const stylesheet = bundle === undefined ? undefined : [...bundle.assets.keys()].find((p) => p.endsWith(".css"));
  const html = TYPES[".html"]!;
  if (url.pathname === "/login") {
    // Only a real navigation spends the token, not a HEAD from a link checker.
    if (req.method !== "GET") return send(405, "text/plain", "GET only\n", { Allow: "GET" });
    const session = login.exchange(url.searchParams.get("token") ?? "");
    if (session === undefined) {
      log.warn("console login refused: launch token unknown, used or expired");
      return send(403, html, loginPage("This login URL is not valid: it was used already, it expired, or it is wrong.", stylesheet));
    }
    log.info("console login");
    return send(303, "text/plain", "logged in\n", { Location: "/", "Set-Cookie": login.setCookie(session) });
  }
  if (url.pathname === "/" || url.pathname === "/index.html") {
    const session = login.sessionOf(req.headers.cookie);
    if (session === undefined) return send(401, html, loginPage("You are not logged in.", stylesheet));
    if (bundle === undefined) return send(503, "text/plain", "the console was not built: run npm run build\n");
    const page = bundle.index.replace(CSRF_META, `<meta name="otpbridge-csrf" content="${login.newCsrf(session)}">`);
    return send(200, html, page);
  }
  const asset = bundle?.assets.get(url.pathname);
  if (asset !== undefined) {
    if (asset.gzip !== undefined && /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""))) {
      return send(200, asset.type, asset.gzip, { "Content-Encoding": "gzip", Vary: "Accept-Encoding" });
    }
    return send(200, asset.type, asset.body, asset.gzip !== undefined ? { Vary: "Accept-Encoding" } : {});
  }
  return send(404, "text/plain", "not found\n");
}

/**
 * True when `origin` is exactly the address this request reached the daemon at: the console's
 * page, served by the daemon itself. Any other origin is another site, even on the same host.
 */
export function isOwnOrigin(origin: string | undefined, host: string | undefined, port: number): boolean {
  if (origin === undefined || !isLoopbackHost(host)) return false;
  return origin.toLowerCase() === `http://${host!.toLowerCase()}` && host!.endsWith(`:${port}`);
}
