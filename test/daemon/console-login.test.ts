/**
 * The console's login state on its own: launch tokens are single-use and expire, the file holding
 * them is 0600 and always holds one, sessions are named by the cookie of this port only, and CSRF
 * values belong to their session. (The browser side is test/console/login.test.ts.)
 */
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConsoleLogin } from "../../src/daemon/console-login.js";
import { consoleLaunchPath, type LaunchFile } from "../../src/lib/daemon-paths.js";

const logins: ConsoleLogin[] = [];

function fresh(port = 4242): { login: ConsoleLogin; dir: string; token: () => string } {
  const dir = mkdtempSync(join(tmpdir(), "otpb-login-"));
  const login = new ConsoleLogin(dir, port);
  logins.push(login);
  const token = (): string => new URL((JSON.parse(readFileSync(consoleLaunchPath(dir), "utf8")) as LaunchFile).url).searchParams.get("token")!;
  return { login, dir, token };
}

afterEach(() => {
  for (const l of logins.splice(0)) l.close();
});

describe("console login", () => {
  it("writes a 0600 launch file with a URL of this port, and a token that works once", () => {
    const { login, dir, token } = fresh();
    expect(statSync(consoleLaunchPath(dir)).mode & 0o777).toBe(0o600);
    const file = JSON.parse(readFileSync(consoleLaunchPath(dir), "utf8")) as LaunchFile;
    expect(file.port).toBe(4242);
    expect(file.url).toMatch(/^http:\/\/127\.0\.0\.1:4242\/login\?token=[A-Za-z0-9_-]{43}$/);
    const first = token();
    const session = login.exchange(first);
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(login.exchange(first)).toBeUndefined();
    // A new one is in the file at once.
    expect(token()).not.toBe(first);
    expect(login.exchange(token())).toBeDefined();
  });

  it("refuses an expired or unknown token", () => {
    const { login, token } = fresh();
    expect(login.exchange(token(), Date.now() + 61_000)).toBeUndefined();
    expect(login.exchange("A".repeat(43))).toBeUndefined();
    expect(login.exchange("")).toBeUndefined();
  });

  it("names the session by this port's cookie only, HttpOnly and SameSite=Strict", () => {
    const { login, token } = fresh(4242);
    const session = login.exchange(token())!;
    expect(login.setCookie(session)).toBe(`otpbridge-console-4242=${session}; Path=/; HttpOnly; SameSite=Strict`);
    expect(login.sessionOf(`a=b; otpbridge-console-4242=${session}`)).toBeDefined();
    expect(login.sessionOf(`otpbridge-console-4243=${session}`)).toBeUndefined();
    expect(login.sessionOf(`otpbridge-console-4242=${session}x`)).toBeUndefined();
    expect(login.sessionOf(undefined)).toBeUndefined();
    // A session ends after a working day.
    expect(login.sessionOf(`otpbridge-console-4242=${session}`, Date.now() + 13 * 3_600_000)).toBeUndefined();
  });

  it("keeps each page's CSRF value with its session", () => {
    const { login, token } = fresh();
    const a = login.sessionOf(`otpbridge-console-4242=${login.exchange(token())!}`)!;
    const b = login.sessionOf(`otpbridge-console-4242=${login.exchange(token())!}`)!;
    const csrf = login.newCsrf(a);
    expect(login.csrfMatches(a, csrf)).toBe(true);
    expect(login.csrfMatches(b, csrf)).toBe(false);
    expect(login.csrfMatches(a, `${csrf}x`)).toBe(false);
    expect(login.csrfMatches(a, undefined)).toBe(false);
    expect(login.csrfMatches(a, 42)).toBe(false);
  });
});
