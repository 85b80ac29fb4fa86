/** `otpbridge service install|uninstall|status`: the systemd unit that keeps the daemon running. */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { otpbError } from "../../lib/errors.js";
import { packageRoot } from "../../lib/package-info.js";
import { systemdUnit, UNIT_NAME, unitPath } from "../systemd-unit.js";
import type { CommandIo } from "../io.js";

export const SERVICE_HELP = `Usage: otpbridge service install [--system USER] [--no-start] [--print]
       otpbridge service uninstall [--system]
       otpbridge service status [--system]

Keeps \`otpbridge daemon\` running under systemd.

  install      write the unit (a user unit in ~/.config/systemd/user/${UNIT_NAME}), then
               systemctl --user daemon-reload and enable --now it
  uninstall    disable and stop it, remove the unit, daemon-reload
  status       where the unit is, whether it starts this installation, and what systemd says
  --system USER  a system unit (/etc/systemd/system/${UNIT_NAME}, as root) running the daemon as
               the account USER (create it first: sudo useradd --system --create-home USER)
  --no-start   write the unit only (no systemctl)
  --print      print the unit and write nothing

The daemon reads its options from its configuration file (otpbridge daemon --help), so the unit
never changes with them. A user unit runs while its user is logged in; on a station without a
login session: sudo loginctl enable-linger $USER (docs/INSTALL.md).`;

/** Runs systemctl; null when it is missing, else its exit status and output. */
function systemctl(system: boolean, args: string[]): { ok: boolean; output: string } | null {
  const result = spawnSync("systemctl", [...(system ? [] : ["--user"]), ...args], { encoding: "utf8", timeout: 20_000 });
  if (result.error !== undefined && (result.error as NodeJS.ErrnoException).code === "ENOENT") return null;
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}`.trim() };
}

/** The unit this installation would write. */
function expectedUnit(systemUser: string | undefined): string {
  const root = packageRoot();
  return systemdUnit({
    node: process.execPath,
    script: join(root, "bin", "otpbridge.js"),
    docs: join(root, "docs", "INSTALL.md"),
    ...(systemUser !== undefined ? { systemUser } : {}),
  });
}

/** systemctl steps in order; stops at the first failure and says what to run by hand. */
function runSteps(io: CommandIo, system: boolean, steps: string[][]): boolean {
  const manual = steps.map((s) => `systemctl ${system ? "" : "--user "}${s.join(" ")}`).join(" && ");
  for (const step of steps) {
    const result = systemctl(system, step);
    if (result === null || !result.ok) {
      const why = result === null ? "systemctl is not installed" : (result.output.split("\n")[0] ?? "failed");
      io.err(`service: systemctl ${step.join(" ")}: ${why}\nservice: run it where systemd${system ? "" : "'s user manager"} runs: ${manual}`);
      return false;
    }
  }
  return true;
}

/** `otpbridge service`. Exit 0 when the unit is written (or removed) even if systemd was not reachable. */
export async function runService(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      system: { type: "string" },
      "no-start": { type: "boolean" },
      print: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  const [action, ...extra] = positionals;
  if (values.help || action === undefined) {
    io.out(SERVICE_HELP);
    return values.help ? 0 : 2;
  }
  if (extra.length > 0 || !["install", "uninstall", "status"].includes(action)) {
    throw otpbError("INVALID_INPUT", `service takes install, uninstall or status, got ${JSON.stringify(positionals.join(" "))}`);
  }
  const systemUser = values.system;
  if (systemUser !== undefined && !/^[a-z_][a-z0-9_-]{0,31}$/.test(systemUser)) {
    throw otpbError("INVALID_INPUT", "--system must name a system account (lower-case letters, digits, _ and -)");
  }
  const system = systemUser !== undefined;
  const path = unitPath(system);
  if (action === "install") {
    const unit = expectedUnit(systemUser);
    if (values.print) {
      io.out(unit.trimEnd());
      return 0;
    }
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, unit, { mode: 0o644 });
    io.out(`service: wrote ${path}`);
    if (!values["no-start"] && runSteps(io, system, [["daemon-reload"], ["enable", "--now", UNIT_NAME]])) {
      io.out(`service: ${UNIT_NAME} enabled and started`);
    }
    return 0;
  }
  if (action === "uninstall") {
    if (!existsSync(path)) {
      io.out(`service: no unit at ${path}; nothing to remove`);
      return 0;
    }
    // Stopped before the file goes, so systemd still knows what it is stopping.
    if (!values["no-start"]) runSteps(io, system, [["disable", "--now", UNIT_NAME]]);
    rmSync(path);
    io.out(`service: removed ${path}`);
    if (!values["no-start"]) runSteps(io, system, [["daemon-reload"]]);
    return 0;
  }
  return status(io, system, path);
}

function status(io: CommandIo, system: boolean, path: string): number {
  if (!existsSync(path)) {
    io.out(`unit: not installed (${path}); otpbridge service install writes it`);
    return 3;
  }
  const text = readFileSync(path, "utf8");
  const runs = /^ExecStart=(.*)$/m.exec(text)?.[1] ?? "(no ExecStart)";
  const user = /^User=(.*)$/m.exec(text)?.[1];
  const current = text === expectedUnit(user);
  io.out(`unit: ${path}`);
  io.out(`starts: ${runs}${current ? "" : "  (not what this installation would write: run otpbridge service install again)"}`);
  const active = systemctl(system, ["is-active", UNIT_NAME]);
  const enabled = systemctl(system, ["is-enabled", UNIT_NAME]);
  io.out(
    active === null
      ? "systemd: systemctl is not installed"
      : `systemd: ${enabled?.output.split("\n")[0] || "unknown"}, ${active.output.split("\n")[0] || "unknown"}`,
  );
  if (!system) {
    const linger = spawnSync("loginctl", ["show-user", userInfo().username, "--property=Linger", "--value"], { encoding: "utf8", timeout: 10_000 });
    const value = linger.status === 0 ? linger.stdout.trim() : "unknown";
    io.out(`lingering: ${value}${value === "yes" ? "" : ` (without it the daemon stops at logout: sudo loginctl enable-linger ${userInfo().username})`}`);
  }
  return 0;
}
