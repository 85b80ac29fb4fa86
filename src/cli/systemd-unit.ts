/**
 * The systemd unit that keeps `otpbridge daemon` running, as a user unit (the default: the person's
 * own data and configuration directories) or as a system unit under a dedicated account.
 *
 * Conventions follow long-lived user daemons such as Syncthing's unit: restart on failure (a clean
 * SIGTERM stop exits 0 and stays stopped), no new privileges, native system calls only. Not
 * MemoryDenyWriteExecute: V8's JIT needs writable and executable pages, and the daemon would die
 * at start. The daemon's own options live in its configuration file, not in the unit, so that
 * `otpbridge service install` never has to be run again to change them.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export const UNIT_NAME = "otpbridge.service";

export interface UnitOptions {
  /** The node binary and otpbridge's bin script (absolute paths). */
  node: string;
  script: string;
  /** The installation guide shipped in the package (absolute path). */
  docs: string;
  /** A system unit running as this account; a user unit when absent. */
  systemUser?: string;
}

/** One ExecStart word, quoted the way systemd reads it when it holds blanks, quotes or backslashes. */
function word(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text)) return text;
  return `"${text.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
}

/** The unit file's text. */
export function systemdUnit(options: UnitOptions): string {
  const system = options.systemUser !== undefined;
  return [
    "# Written by `otpbridge service install`; `otpbridge service uninstall` removes it.",
    "[Unit]",
    "Description=otpbridge: burns TOTP seeds into Token2 tokens (local WebSocket API)",
    `Documentation=file://${encodeURI(options.docs)}`,
    // pcscd may come later or never: the daemon waits for it and follows its restarts by itself.
    ...(system ? ["After=network.target pcscd.socket"] : []),
    "",
    "[Service]",
    "Type=simple",
    `ExecStart=${word(options.node)} ${word(options.script)} daemon`,
    ...(system ? [`User=${options.systemUser}`, `Group=${options.systemUser}`] : []),
    "Restart=on-failure",
    "RestartSec=2",
    // Exit 78 is a bad configuration file: restarting would only fail the same way.
    "RestartPreventExitStatus=78",
    "UMask=0077",
    "NoNewPrivileges=true",
    "SystemCallArchitectures=native",
    "LockPersonality=true",
    "RestrictRealtime=true",
    "RestrictSUIDSGID=true",
    ...(system ? ["PrivateTmp=true", "ProtectSystem=full", "ProtectKernelTunables=true", "ProtectKernelModules=true", "ProtectControlGroups=true"] : []),
    "# Not MemoryDenyWriteExecute=true: V8's JIT needs pages that are writable and executable.",
    "",
    "[Install]",
    `WantedBy=${system ? "multi-user.target" : "default.target"}`,
    "",
  ].join("\n");
}

/** Where the unit goes: ~/.config/systemd/user (XDG_CONFIG_HOME honoured), or /etc/systemd/system. */
export function unitPath(system: boolean, env: NodeJS.ProcessEnv = process.env): string {
  if (system) return join("/etc/systemd/system", UNIT_NAME);
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "systemd", "user", UNIT_NAME);
}
