/** The upgrade policy's pure parts, table-driven (as trezord-go tests its origin check). */
import { chmodSync, mkdtempSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bearerMatches, isLoopbackHost, loadOrCreateToken, PAIRING_TTL_MS, PairingStore, pairableOrigin, parseCapabilities } from "../../src/daemon/auth.js";
import { reasonOf } from "../../src/lib/errors.js";

describe("isLoopbackHost", () => {
  it.each([
    ["localhost", true], ["localhost:21630", true], ["127.0.0.1:21630", true], ["[::1]:21630", true], ["LOCALHOST:1", true],
    [undefined, false], ["", false], ["127.0.0.2:21630", false], ["localhost.evil.example", false], ["evil.example", false],
    ["127.0.0.1.nip.io:21630", false], ["[::1]x", false], ["localhost:21630 ", false], ["0.0.0.0:21630", false],
  ])("%j -> %s", (host, ok) => expect(isLoopbackHost(host)).toBe(ok));
});

describe("pairableOrigin", () => {
  it.each([
    ["https://helpdesk.example.com", "https://helpdesk.example.com"],
    ["https://helpdesk.example.com:8443", "https://helpdesk.example.com:8443"],
    ["http://localhost:8080", "http://localhost:8080"],
    ["http://127.0.0.1", "http://127.0.0.1"],
    ["http://[::1]:3000", "http://[::1]:3000"],
    ["null", null], ["*", null], ["https://*.example.com", null], ["http://evil.example", null],
    ["https://user:pw@example.com", null], ["https://example.com/path", null], ["file://", null],
    ["chrome-extension://abcdef", null], ["not a url", null], ["http://localhost.evil.example", null],
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

describe("PairingStore", () => {
  it("expires pending codes, uses each code once, and narrows capabilities on approval", () => {
    const dir = join(mkdtempSync(join(tmpdir(), "otpb-auth-")), "data");
    const store = new PairingStore(dir);
    const t0 = 1_800_000_000_000;
    const old = store.request("https://a.example", ["read", "burn"], "c1", t0);
    expect(() => store.approve(old.code, undefined, t0 + PAIRING_TTL_MS)).toThrow(expect.objectContaining({ reason: "PAIRING_NOT_FOUND" }));
    const fresh = store.request("https://a.example", ["read", "burn"], "c2", t0 + PAIRING_TTL_MS);
    expect(store.approve(fresh.code.toLowerCase(), ["read"], t0 + PAIRING_TTL_MS + 1)).toMatchObject({ origin: "https://a.example", capabilities: ["read"] });
    expect(() => store.approve(fresh.code, undefined, t0 + PAIRING_TTL_MS + 2)).toThrow(expect.objectContaining({ reason: "PAIRING_NOT_FOUND" }));
    // A second process (the CLI) sees the same file.
    expect(new PairingStore(dir).approved("https://a.example")?.capabilities).toEqual(["read"]);
    expect(statSync(store.path).mode & 0o077).toBe(0);
    new PairingStore(dir).revoke("https://a.example");
    expect(store.approved("https://a.example")).toBeUndefined();
    expect(reasonOf((() => { try { store.revoke("https://a.example"); } catch (e) { return e; } })())).toBe("PAIRING_NOT_FOUND");
  });

  it("accepts only known capabilities", () => {
    expect(parseCapabilities(["export", "read"])).toEqual(["read", "export"]);
    for (const bad of [[], ["admin"], "read", null, ["read", 1]]) expect(() => parseCapabilities(bad)).toThrow(expect.objectContaining({ reason: "INVALID_INPUT" }));
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
