/** `otpbridge console`: prints (and where a desktop exists, opens) a single-use login URL for the operator console. */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { otpbError } from "../../lib/errors.js";
import { consoleLaunchPath, defaultDataDir, type LaunchFile } from "../../lib/daemon-paths.js";
import { assertPrivateFile } from "../../store/private-files.js";
import type { CommandIo } from "../io.js";

export const CONSOLE_HELP = `Usage: otpbridge console [--data-dir DIR] [--no-browser]

Prints a login URL for the operator console of the daemon serving DIR (read from its 0600 launch
file: only the user who runs the daemon can), and opens it in the desktop's browser when there is
one. The URL works once, within about a minute; opening it logs that browser in.

  --data-dir DIR  the daemon's data directory (default $XDG_DATA_HOME/otpbridge)
  --no-browser    print the URL only`;

/** A URL with less than this left is not handed out: the next one is a half TTL away at most. */
const MIN_LEFT_MS = 10_000;

function readLaunch(path: string): LaunchFile | undefined {
  try {
    assertPrivateFile(path, "console launch file", "KEY_FILE_PERMISSIONS");
    return JSON.parse(readFileSync(path, "utf8")) as LaunchFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** `otpbridge console`. */
export async function runConsole(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { "data-dir": { type: "string" }, "no-browser": { type: "boolean" }, help: { type: "boolean", short: "h" } },
    strict: true,
  });
  if (values.help) {
    io.out(CONSOLE_HELP);
    return 0;
  }
  const path = consoleLaunchPath(resolve(values["data-dir"] ?? defaultDataDir()));
  let launch = readLaunch(path);
  // The daemon writes a new URL every half TTL: wait for it rather than hand out one about to expire.
  const deadline = Date.now() + 40_000;
  while (launch !== undefined && launch.expiresAt - Date.now() < MIN_LEFT_MS && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    launch = readLaunch(path);
  }
  if (launch === undefined || launch.expiresAt <= Date.now()) {
    throw otpbError("CONSOLE_UNAVAILABLE", `no daemon serves the console of ${resolve(path, "..")}: start otpbridge daemon`);
  }
  io.out(launch.url);
  if (values["no-browser"] !== true && (process.env.DISPLAY || process.env.WAYLAND_DISPLAY || process.platform === "darwin")) {
    const opener = process.platform === "darwin" ? "open" : "xdg-open";
    // Not waited for: a browser without a desktop session, or no xdg-open, leaves the printed URL.
    spawn(opener, [launch.url], { stdio: "ignore", detached: true })
      .on("error", () => {})
      .unref();
  }
  return 0;
}
