/**
 * otpbridge installed the way a user installs it: the project is packed (`npm pack`, whose prepack
 * step builds it) from a copy of the working tree, the tarball is installed with npm into a
 * temporary prefix (`npm install -g --prefix`, dependencies from the registry, the native addons
 * compiled by their allowed install scripts), and the installed `otpbridge` is run from there.
 * pcscd is kept out of it (a socket path that does not exist, the in-memory simulation), so this
 * file needs no PC/SC lock. Slow by nature: better-sqlite3 compiles SQLite (about a minute here).
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/pcscd.js";

/** The exact command docs/INSTALL.md gives: npm 11 runs only the install scripts it is allowed to. */
const ALLOW = "--allow-scripts=pcsclite,better-sqlite3,node-hid";
const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { version: string }).version;

describe("the npm package, packed and installed into a temporary prefix", () => {
  const work = mkdtempSync(join(tmpdir(), "otpb-pack-"));
  const prefix = join(work, "prefix");
  const bin = join(prefix, "bin", "otpbridge");
  const installed = join(prefix, "lib", "node_modules", "otpbridge");
  // No pcscd, no configuration file, no data directory of the person running the tests.
  const env = {
    ...process.env,
    PCSCLITE_CSOCK_NAME: join(work, "no-pcscd.comm"),
    XDG_CONFIG_HOME: join(work, "config"),
    XDG_DATA_HOME: join(work, "data"),
    OTPBRIDGE_SIMULATE_LINK: "memory",
  };
  let tarball = "";
  let files: string[] = [];
  let installLog = "";

  const run = (args: string[]): { status: number | null; stdout: string; stderr: string } => spawnSync(bin, args, { encoding: "utf8", env, timeout: 60_000 });

  beforeAll(() => {
    // A copy of the working tree (tracked and new files, as git sees them), so that the build the
    // pack runs writes nowhere the other test files read from.
    const tree = join(work, "tree");
    const list = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: REPO_ROOT, encoding: "utf8" });
    for (const file of list.split("\0").filter((f) => f !== "" && existsSync(join(REPO_ROOT, f)))) {
      mkdirSync(dirname(join(tree, file)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(tree, file));
    }
    symlinkSync(join(REPO_ROOT, "node_modules"), join(tree, "node_modules"));
    // npm pack runs prepack (the build), whose output comes first on stdout; the JSON report ends it.
    const packOutput = execFileSync("npm", ["pack", "--json", "--pack-destination", work], { cwd: tree, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const packed = JSON.parse(packOutput.slice(packOutput.search(/^\[$/m))) as Array<{
      filename: string;
      size: number;
      unpackedSize: number;
      files: Array<{ path: string }>;
    }>;
    tarball = join(work, packed[0]!.filename);
    files = packed[0]!.files.map((f) => f.path);
    console.log(`tarball ${packed[0]!.filename}: ${packed[0]!.size} bytes packed, ${packed[0]!.unpackedSize} unpacked, ${files.length} files`);
    const started = Date.now();
    const install = spawnSync("npm", ["install", "-g", "--prefix", prefix, ALLOW, "--no-audit", "--no-fund", tarball], { encoding: "utf8", timeout: 840_000 });
    installLog = `${install.stdout}${install.stderr}`;
    if (install.status !== 0) throw new Error(`npm install -g failed (${install.status}):\n${installLog}`);
    console.log(`npm install -g of the tarball took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }, 900_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it("ships the compiled code, the WebAssembly core, bin, docs, examples and the udev rule; no tests, no sources, no maps", () => {
    expect(statSync(tarball).size).toBeGreaterThan(0);
    for (const needed of [
      "bin/otpbridge.js",
      "dist/src/cli/main.js",
      "dist/src/crypto/wasm-binary.generated.js",
      "packaging/udev/70-token2.rules",
      "docs/INSTALL.md",
      "examples/burn-token.mjs",
      "README.md",
      "package.json",
    ]) {
      expect(files, needed).toContain(needed);
    }
    expect(
      files.filter(
        (f) =>
          f.startsWith("test/") ||
          f.includes(".test.") ||
          f.startsWith("src/") ||
          f.startsWith("assembly/") ||
          f.startsWith("bench/") ||
          f.startsWith("dist/bench/") ||
          f.startsWith("scripts/"),
      ),
    ).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") || f.endsWith(".map"))).toEqual([]);
    // npm did not have to ask about any install script: the three addons are the only ones, and
    // otpbridge itself has none (it is built before packing, not at install).
    expect(installLog).not.toMatch(/install-scripts/);
    const deps = Object.keys((JSON.parse(readFileSync(join(installed, "package.json"), "utf8")) as { dependencies: object }).dependencies);
    expect(deps).not.toContain("assemblyscript");
    expect(deps).not.toContain("benchmark");
    expect(deps).not.toContain("@noble/hashes"); // only the benchmarks measure it (otpauth brings its own)
  });

  it("--version and help, from the installed bin", () => {
    const version = run(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toBe(VERSION);
    const help = run(["help"]);
    expect(help.status).toBe(0);
    for (const command of ["daemon", "pair", "devices", "burn", "batch", "sync-time", "molto2", "applet", "code", "doctor", "service"]) {
      expect(help.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
    }
  });

  it("code gives RFC 6238's values (Appendix B) for SHA-1 and SHA-256", () => {
    // RFC 6238's seeds: the ASCII digits "1234567890" repeated to 20 (SHA-1) and 32 (SHA-256) bytes.
    const sha1 = { OTPB_TEST_SEED: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" };
    const sha256 = { OTPB_TEST_SEED: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA", ALGORITHM: "SHA256" };
    const cases: Array<[Record<string, string>, number, string]> = [
      [sha1, 59, "94287082"],
      [sha1, 1111111109, "07081804"],
      [sha1, 2000000000, "69279037"],
      [sha256, 59, "46119246"],
      [sha256, 1234567890, "91819424"],
      [sha256, 20000000000, "77737706"],
    ];
    for (const [seed, time, code] of cases) {
      const args = ["code", "--secret-env", "OTPB_TEST_SEED", "--digits", "8", "--algorithm", seed.ALGORITHM ?? "SHA1", "--time", String(time)];
      const r = spawnSync(bin, args, { encoding: "utf8", env: { ...env, OTPB_TEST_SEED: seed.OTPB_TEST_SEED }, timeout: 60_000 });
      expect(r.stderr).toBe("");
      expect(r.stdout.trim(), `T=${time}`).toBe(code);
    }
  });

  it("doctor --json reports on this machine, the native addons loading in this Node", () => {
    const r = run(["doctor", "--json"]);
    const findings = JSON.parse(r.stdout) as Array<{ check: string; level: string; title: string }>;
    expect(findings.find((f) => f.check === "pcscd")).toMatchObject({ level: "error" });
    expect(findings.find((f) => f.check === "addons")).toMatchObject({ level: "ok", title: expect.stringContaining("pcsclite, better-sqlite3, node-hid") });
  });

  it("doctor names an addon built for another Node, and the command it gives rebuilds it", () => {
    const addon = join(installed, "node_modules", "pcsclite", "build", "Release", "pcsclite.node");
    cpSync(addon, `${addon}.real`);
    // Node's own headers, where node-gyp finds them too (npm is set to build against them here).
    const headers = join(dirname(process.execPath), "..", "include", "node");
    execFileSync("g++", ["-shared", "-fPIC", "-I", headers, "-o", addon, join(REPO_ROOT, "test/fixtures/abi-mismatch.cc")]);
    const broken = JSON.parse(run(["doctor", "--json"]).stdout) as Array<{ check: string; level: string; title: string; fix: string }>;
    const finding = broken.find((f) => f.check === "addons")!;
    expect(finding.level).toBe("error");
    expect(finding.title).toContain(
      `pcsclite was built for another Node.js (module version 108; Node ${process.versions.node} needs ${process.versions.modules})`,
    );
    const command = finding.fix.split("\n")[0]!;
    expect(command).toBe(`cd ${JSON.stringify(`${installed}/`)} && npm rebuild pcsclite`);
    execFileSync("sh", ["-c", command], { env, stdio: "ignore", timeout: 120_000 });
    const fixed = JSON.parse(run(["doctor", "--json"]).stdout) as Array<{ check: string; level: string }>;
    expect(fixed.find((f) => f.check === "addons")).toMatchObject({ level: "ok" });
  }, 180_000);

  it("daemon --simulate answers hello over WebSocket", async () => {
    const child = spawn(bin, ["daemon", "--simulate", "--port", "0", "--log-level", "warn"], { env, stdio: ["ignore", "pipe", "pipe"] });
    const stderr: string[] = [];
    createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    try {
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: child.stdout! }).once("line", resolve);
        void exited.then((code) => reject(new Error(`daemon exited ${code}: ${stderr.join("\n")}`)));
      });
      const info = JSON.parse(first) as { port: number; tokenFile: string; dataDir: string; link: string };
      expect(info.link).toBe("memory");
      expect(info.dataDir).toBe(join(work, "data", "otpbridge"));
      const ws = new WebSocket(`ws://127.0.0.1:${info.port}`, { headers: { Authorization: `Bearer ${readFileSync(info.tokenFile, "utf8").trim()}` } });
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      const reply = await new Promise<any>((resolve) => {
        ws.once("message", (data) => resolve(JSON.parse(String(data))));
        ws.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "hello", params: { apiVersion: 1, client: "install test" } }));
      });
      ws.close();
      expect(reply.error).toBeUndefined();
      expect(reply.result).toMatchObject({ server: { version: VERSION } });
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
