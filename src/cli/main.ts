import { OtpbridgeError, reasonOf } from "../lib/errors.js";
import { EXIT_CODES } from "./exit-codes.js";
import { createLogger } from "../lib/log.js";
import { packageVersion } from "../lib/package-info.js";
import type { CommandContext } from "./context.js";
import { processIo, type CommandIo } from "./io.js";

type Command = (argv: string[], io: CommandIo, context: CommandContext) => number | Promise<number>;

/**
 * A command whose module is imported only when it runs: start-up then pays for the one command
 * used, not for every command's dependencies (QR decoder, XML parser, SQLite, PC/SC, ...).
 */
function lazy<M extends Record<K, Command>, K extends string>(load: () => Promise<M>, name: K): Command {
  return async (argv, io, context) => (await load())[name](argv, io, context);
}

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  daemon: { run: lazy(() => import("./commands/daemon.js"), "runDaemon"), summary: "serve the local WebSocket JSON-RPC API (docs/API.md)" },
  console: { run: lazy(() => import("./commands/console.js"), "runConsole"), summary: "print (and open) a single-use login URL for the operator console" },
  pair: { run: lazy(() => import("./commands/pair.js"), "runPair"), summary: "list, approve or revoke browser origins paired with the daemon" },
  devices: { run: lazy(() => import("./commands/devices.js"), "runDevices"), summary: "list the readers and tokens attached" },
  burn: { run: lazy(() => import("./commands/burn.js"), "runBurn"), summary: "burn a seed into a single-profile token" },
  batch: {
    run: lazy(() => import("./commands/batch.js"), "runBatch"),
    summary: "create a batch, burn it on every reader in parallel, show its status, export it",
  },
  "sync-time": { run: lazy(() => import("./commands/sync-time.js"), "runSyncTime"), summary: "read a single-profile token's clock drift, or set its clock" },
  molto2: { run: lazy(() => import("./commands/molto2.js"), "runMolto2"), summary: "list, write, delete, sync, re-key, reset or lock a Token2 Molto2" },
  applet: {
    run: lazy(() => import("./commands/applet.js"), "runApplet"),
    summary: "list, add, delete entries of a Token2 FIDO key's OTP applet, or show a code",
  },
  code: { run: lazy(() => import("./commands/code.js"), "runCode"), summary: "print the TOTP code a seed gives at a time" },
  find: {
    run: lazy(() => import("./commands/find.js"), "runFind"),
    summary: "find the token (batch, item, serial) that shows a code, among the journal's seeds",
  },
  doctor: {
    run: lazy(() => import("./commands/doctor.js"), "runDoctorCommand"),
    summary: "check pcscd, readers, drivers, permissions and the clock; print fixes",
  },
  service: {
    run: lazy(() => import("./commands/service.js"), "runService"),
    summary: "install, remove or show the systemd user unit that keeps the daemon running",
  },
};

const USAGE = `Usage: otpbridge <command> [options]   (otpbridge <command> --help for details)
       otpbridge --version

Commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}`;

/** Runs one CLI invocation and returns the exit code: 0 ok, 2 bad input, others per docs/ERRORS.md. */
export async function main(argv: string[], io: CommandIo = processIo): Promise<number> {
  const debug = argv.includes("--debug");
  const verbose = argv.includes("--verbose");
  const args = argv.filter((a) => a !== "--debug" && a !== "--verbose");
  // Logs go to stderr through io.err, so that stdout carries only results.
  const context: CommandContext = {
    logger: createLogger({ level: debug ? "debug" : verbose ? "info" : "off", write: (line) => io.err(line) }),
  };
  const [name, ...rest] = args;
  if (name === "--version" || name === "-V" || name === "version") {
    io.out(packageVersion());
    return 0;
  }
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    io.out(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`otpbridge: unknown command ${JSON.stringify(name)}\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(rest, io, context);
  } catch (error) {
    return report(error, io, debug);
  }
}

function report(error: unknown, io: CommandIo, debug: boolean): number {
  // node:util parseArgs errors (unknown flag, missing value) are usage errors.
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) {
    io.err(`otpbridge: ${(error as Error).message}`);
    return EXIT_CODES.INVALID_INPUT;
  }
  const reason = reasonOf(error);
  const message = error instanceof Error ? error.message : String(error);
  io.err(`otpbridge: ${message}${reason === "INTERNAL" && !debug ? " (run with --debug for details)" : ""}`);
  if (debug && error instanceof Error && !(error instanceof OtpbridgeError)) io.err(error.stack ?? "");
  return EXIT_CODES[reason];
}
