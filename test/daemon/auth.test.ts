/** The upgrade policy's pure parts, table-driven (as trezord-go tests its origin check). */
import { chmodSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bearerMatches, isLoopbackHost, loadOrCreateToken, PairingStore, pairableOrigin, parseCapabilities } from "../../src/daemon/auth.js";
import { PAIRING_TTL_MS, PairingRequests } from "../../src/daemon/pairing-requests.js";
import { reasonOf } from "../../src/lib/errors.js";

describe("isLoopbackHost", () => {
  it.each([
    ["localhost", true],
    ["localhost:21630", true],
    ["127.0.0.1:21630", true],
    ["[::1]:21630", true],
    ["LOCALHOST:1", true],
    [undefined, false],
    ["", false],
    ["127.0.0.2:21630", false],
    ["localhost.evil.example", false],
    ["evil.example", false],
    ["127.0.0.1.nip.io:21630", false],
    ["[::1]x", false],
    ["localhost:21630 ", false],
    ["0.0.0.0:21630", false],
  ])("%j -> %s", (host, ok) => expect(isLoopbackHost(host)).toBe(ok));
});

describe("pairableOrigin", () => {
  it.each([
    ["https://helpdesk.example.com", "https://helpdesk.example.com"],
    ["https://helpdesk.example.com:8443", "https://helpdesk.example.com:8443"],
    ["http://localhost:8080", "http://localhost:8080"],
    ["http://127.0.0.1", "http://127.0.0.1"],
    ["http://[::1]:3000", "http://[::1]:3000"],
    ["null", null],
    ["*", null],
    ["https://*.example.com", null],
    ["http://evil.example", null],
    ["https://user:pw@example.com", null],
    ["https://example.com/path", null],
    ["file://", null],
    ["chrome-extension://abcdef", null],
    ["not a url", null],
    ["http://localhost.evil.example", null],
    [`https://${Array(5).fill("a".repeat(60)).join(".")}.example`, null],
  ])("%j -> %j", (origin, expected) => expect(pairableOrigin(origin)).toBe(expected));
});

describe("bearer token", () => {
  it("is created 0600, reused, and compared exactly", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "otpb-auth-")), "data");
    const token = loadOrCreateToken(dir);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(join(dir, "daemon.token")).mode & 0o777).toBe(0o600);
    expect(loadOrCreateToken(dir)).toBe(token);
    expect(bearerMatches(`Bearer ${token}`, token)).toBe(true);
    for (const bad of [undefined, "", token, `bearer ${token}`, `Bearer ${token}x`, `Bearer ${token.slice(1)}`, `Bearer  ${token}`, `Basic ${token}`]) {
      expect(bearerMatches(bad, token)).toBe(false);
    }
  });

  it("refuses a token file that group or others can read", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "otpb-auth-")), "data");
    loadOrCreateToken(dir);
    chmodSync(join(dir, "daemon.token"), 0o644);
    expect(() => loadOrCreateToken(dir)).toThrow(expect.objectContaining({ reason: "KEY_FILE_PERMISSIONS" }));
  });
});

describe("PairingStore and PairingRequests", () => {
  it("expires pending codes, uses each code once, narrows capabilities, and keeps only the secret's hash", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "otpb-auth-")), "data");
    const store = new PairingStore(dir);
    const requests = new PairingRequests(store);
    const granted: string[] = [];
    const grant = (_a: unknown, secret: string): number => granted.push(secret);
    const t0 = 1_800_000_000_000;
    const old = requests.request("c1", "https://a.example", ["read", "burn"], grant, t0);
    expect(() => requests.approve(old.code, undefined, t0 + PAIRING_TTL_MS)).toThrow(expect.objectContaining({ reason: "PAIRING_NOT_FOUND" }));
    const fresh = requests.request("c2", "https://a.example", ["read", "burn"], grant, t0 + PAIRING_TTL_MS);
    expect(() => requests.approve(fresh.code, ["export"], t0 + PAIRING_TTL_MS + 1)).toThrow(expect.objectContaining({ reason: "INVALID_INPUT" }));
    const approval = requests.approve(fresh.code.toLowerCase(), ["read"], t0 + PAIRING_TTL_MS + 1);
    expect(approval).toMatchObject({ origin: "https://a.example", capabilities: ["read"] });
    expect(() => requests.approve(fresh.code, undefined, t0 + PAIRING_TTL_MS + 2)).toThrow(expect.objectContaining({ reason: "PAIRING_NOT_FOUND" }));
    // The secret went to the socket that asked; the file holds its hash only.
    expect(granted).toHaveLength(1);
    expect(readFileSync(store.path, "utf8")).not.toContain(granted[0]);
    // A second process sees the same file; only the secret proves the approval, the origin does not.
    expect(new PairingStore(dir).verify("https://a.example", granted[0]!)?.id).toBe(approval.id);
    expect(new PairingStore(dir).verify("https://a.example", "x".repeat(43))).toBeUndefined();
    expect(new PairingStore(dir).verify("https://b.example", granted[0]!)).toBeUndefined();
    expect(statSync(store.path).mode & 0o077).toBe(0);
    new PairingStore(dir).revoke("https://a.example");
    expect(store.current("https://a.example", approval.id)).toBeUndefined();
    expect(
      reasonOf(
        (() => {
          try {
            store.revoke("https://a.example");
          } catch (e) {
            return e;
          }
        })(),
      ),
    ).toBe("PAIRING_NOT_FOUND");
  });

  it("caps pending requests per origin, one per socket, and drops a socket's request when it goes", () => {
    const requests = new PairingRequests(new PairingStore(join(mkdtempSync(join(tmpdir(), "otpb-auth-")), "data")), { perOrigin: 2, total: 3 });
    const grant = (): void => {};
    requests.request("s1", "https://a.example", ["read"], grant);
    requests.request("s1", "https://a.example", ["read"], grant);
    requests.request("s2", "https://a.example", ["read"], grant);
    expect(() => requests.request("s3", "https://a.example", ["read"], grant)).toThrow(expect.objectContaining({ reason: "RATE_LIMITED" }));
    requests.request("s4", "https://b.example", ["read"], grant);
    expect(() => requests.request("s5", "https://c.example", ["read"], grant)).toThrow(expect.objectContaining({ reason: "RATE_LIMITED" }));
    requests.drop("s1");
    requests.request("s5", "https://c.example", ["read"], grant);
    expect(
      requests
        .list()
        .map((p) => p.client)
        .sort(),
    ).toEqual(["s2", "s4", "s5"]);
  });

  it("accepts only known capabilities", () => {
    expect(parseCapabilities(["export", "read"])).toEqual(["read", "export"]);
    for (const bad of [[], ["admin"], "read", null, ["read", 1]])
      expect(() => parseCapabilities(bad)).toThrow(expect.objectContaining({ reason: "INVALID_INPUT" }));
  });
});

describe("defaultDataDir", () => {
  it("follows XDG_DATA_HOME, else ~/.local/share", async () => {
    const { defaultDataDir } = await import("../../src/lib/daemon-paths.js");
    const { homedir } = await import("node:os");
    expect(defaultDataDir({ XDG_DATA_HOME: "/srv/xdg" })).toBe("/srv/xdg/otpbridge");
    expect(defaultDataDir({ XDG_DATA_HOME: "" })).toBe(join(homedir(), ".local", "share", "otpbridge"));
    expect(defaultDataDir({})).toBe(join(homedir(), ".local", "share", "otpbridge"));
  });
});
