/**
 * scripts/start.sh, the README's main command, leaves the machine's PC/SC alone: run while pcscd
 * runs, the same pcscd process (same pid) is there afterwards, and /etc/reader.conf.d and the
 * driver directory are unchanged; the daemon it starts answers hello. Run with no pcscd socket, it
 * starts one pcscd and still writes no reader configuration. Holds the PC/SC test lock throughout,
 * and leaves the test script's pcscd running again at the end.
 */
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensurePcscd, lockPcscd, missingPcscStack, PCSCD_SOCKET, REPO_ROOT, stopPcscd } from "../fixtures/pcscd.js";
import { RpcClient } from "../fixtures/daemon.js";

const missing = missingPcscStack();

/** Every file under the given directories, with a hash of its contents. */
function snapshot(dirs: string[]): Record<string, string> {
  const files: Record<string, string> = {};
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
    else files[path] = createHash("sha256").update(readFileSync(path)).digest("hex");
  };
  dirs.forEach(walk);
  return files;
}

const WATCHED = ["/etc/reader.conf.d", "/usr/local/lib/otpbridge-vpcd", "/usr/lib/pcsc/drivers"];

function pcscdPids(): string[] {
  try {
    return execFileSync("pgrep", ["-x", "pcscd"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** Runs start.sh until the daemon says it listens, says hello to it, then stops it. */
async function startAndHello(): Promise<{ stderr: string[]; link: string }> {
  const dataDir = join(mkdtempSync(join(tmpdir(), "otpb-start-")), "data");
  const child = spawn("bash", ["scripts/start.sh", "--port", "0", "--data-dir", dataDir, "--log-level", "warn"], {
    cwd: REPO_ROOT,
    env: { ...process.env, XDG_CONFIG_HOME: join(dataDir, "..", "config") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once("line", resolve);
      void exited.then((code) => reject(new Error(`start.sh exited ${code}: ${stderr.join("\n")}`)));
    });
    const info = JSON.parse(first) as { port: number; tokenFile: string; link: string };
    const client = await RpcClient.open(info.port, { Authorization: `Bearer ${readFileSync(info.tokenFile, "utf8").trim()}` });
    const hello = await client.call("hello", { apiVersion: 1, client: "start.sh test" });
    client.close();
    expect(hello.result.server.name).toBe("otpbridge");
    return { stderr, link: info.link };
  } finally {
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  }
}

describe.skipIf(missing !== undefined)("scripts/start.sh and the system's pcscd", () => {
  let release = (): void => {};

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
  });

  afterAll(() => {
    // Back to the test script's own pcscd (start.sh's may be running in its place).
    try {
      stopPcscd();
      ensurePcscd();
    } finally {
      release();
    }
  });

  it("with pcscd running: the same pcscd process afterwards, reader configuration and drivers untouched", async () => {
    const before = pcscdPids();
    expect(before).toHaveLength(1);
    const files = snapshot(WATCHED);
    const { stderr, link } = await startAndHello();
    expect(pcscdPids()).toEqual(before);
    expect(snapshot(WATCHED)).toEqual(files);
    // vsmartcard-vpcd's readers were free, so the simulated tokens went behind them.
    expect(link).toBe("vpcd");
    expect(stderr.join("\n")).not.toMatch(/starting pcscd/);
  }, 60_000);

  it("with no pcscd socket: starts one pcscd, still installs no reader configuration", async () => {
    stopPcscd();
    expect(existsSync(PCSCD_SOCKET)).toBe(false);
    const files = snapshot(WATCHED);
    const { stderr } = await startAndHello();
    expect(stderr).toContain("start: no pcscd socket; starting pcscd");
    expect(pcscdPids()).toHaveLength(1);
    expect(snapshot(WATCHED)).toEqual(files);
  }, 60_000);
});
