/**
 * `otpbridge service`: the systemd unit it writes is accepted by `systemd-analyze verify` (which
 * needs no running systemd; scripts/setup.sh installs it), and install, status and uninstall do
 * what they say in a temporary XDG_CONFIG_HOME. systemctl has no user manager to reach here: the
 * command says what to run instead and still succeeds.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { systemdUnit } from "../../src/cli/systemd-unit.js";
import { runCli } from "../fixtures/cli.js";
import { REPO_ROOT } from "../fixtures/pcscd.js";

const work = mkdtempSync(join(tmpdir(), "otpb-service-"));
const saved = process.env.XDG_CONFIG_HOME;

/** `systemd-analyze verify` of a unit file: its exit status and every line it printed. */
function verify(path: string, user: boolean): { status: number | null; output: string } {
  const runtime = join(work, "runtime");
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const r = spawnSync("systemd-analyze", ["verify", ...(user ? ["--user"] : []), path], {
    encoding: "utf8",
    env: { ...process.env, XDG_RUNTIME_DIR: runtime },
  });
  if (r.error) throw new Error(`systemd-analyze is not installed (Debian: systemd; scripts/setup.sh installs it): ${r.error.message}`);
  return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
}

describe("otpbridge service", () => {
  beforeAll(() => {
    process.env.XDG_CONFIG_HOME = join(work, "config");
  });
  afterEach(() => rmSync(join(work, "config"), { recursive: true, force: true }));
  afterAll(() => {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
    rmSync(work, { recursive: true, force: true });
  });

  it("install writes a user unit that systemd-analyze verify accepts without a warning", async () => {
    const r = await runCli(["service", "install", "--no-start"]);
    expect(r.code).toBe(0);
    const path = join(work, "config", "systemd", "user", "otpbridge.service");
    expect(r.out).toEqual([`service: wrote ${path}`]);
    const unit = readFileSync(path, "utf8");
    expect(unit).toContain(`ExecStart=${process.execPath} ${join(REPO_ROOT, "bin", "otpbridge.js")} daemon\n`);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    expect(unit).toMatch(/^NoNewPrivileges=true$/m);
    expect(unit).not.toMatch(/^MemoryDenyWriteExecute/m);
    expect(unit).toMatch(/^WantedBy=default.target$/m);
    expect(verify(path, true)).toEqual({ status: 0, output: "" });
  });

  it("verify is not a formality: a unit with a wrong value and an unknown key draws warnings", () => {
    const path = join(work, "broken.service");
    writeFileSync(
      path,
      systemdUnit({ node: process.execPath, script: "/x/bin/otpbridge.js", docs: "/x/docs/INSTALL.md" }).replace(
        "Restart=on-failure",
        "Restart=sometimes\nRestartEvery=2",
      ),
    );
    const { output } = verify(path, true);
    expect(output).toMatch(/restart specifier.*sometimes/);
    expect(output).toMatch(/Unknown key 'RestartEvery'/);
  });

  it("--system USER prints a system unit running as that account, which verify accepts", async () => {
    const r = await runCli(["service", "install", "--system", "otpbridge", "--print"]);
    expect(r.code).toBe(0);
    const text = `${r.out.join("\n")}\n`;
    expect(text).toMatch(/^User=otpbridge$/m);
    expect(text).toMatch(/^WantedBy=multi-user.target$/m);
    // --print writes nothing.
    expect(existsSync("/etc/systemd/system/otpbridge.service") && readFileSync("/etc/systemd/system/otpbridge.service", "utf8") === text).toBe(false);
    const path = join(work, "otpbridge.service");
    writeFileSync(path, text);
    expect(verify(path, false)).toEqual({ status: 0, output: "" });
  });

  it("status tells whether the unit is there and starts this installation; uninstall removes it", async () => {
    expect((await runCli(["service", "status"])).code).toBe(3);
    await runCli(["service", "install", "--no-start"]);
    const status = await runCli(["service", "status"]);
    expect(status.code).toBe(0);
    expect(status.out[1]).toBe(`starts: ${process.execPath} ${join(REPO_ROOT, "bin", "otpbridge.js")} daemon`);
    const path = join(work, "config", "systemd", "user", "otpbridge.service");
    writeFileSync(path, readFileSync(path, "utf8").replace("/bin/otpbridge.js", "/old/otpbridge.js"));
    expect((await runCli(["service", "status"])).out[1]).toContain("not what this installation would write");
    const removed = await runCli(["service", "uninstall"]);
    expect(removed.code).toBe(0);
    expect(removed.out).toContain(`service: removed ${path}`);
    // No user manager here: systemctl's failure is reported with what to run, not hidden.
    expect(removed.err.join("\n")).toMatch(/systemctl --user/);
    expect(existsSync(path)).toBe(false);
  });

  it("refuses an unknown action and a malformed account name", async () => {
    expect((await runCli(["service", "restart"])).code).toBe(2);
    const bad = await runCli(["service", "install", "--system", "Root;rm", "--print"]);
    expect(bad.code).toBe(2);
    expect(bad.err.join("\n")).toContain("--system must name a system account");
  });
});
