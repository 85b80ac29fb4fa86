/** `otpbridge daemon`: runs the WebSocket JSON-RPC daemon until SIGINT or SIGTERM. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { aint, aoneOf } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import { createLogger, type LogLevel } from "../../lib/log.js";
import { parseServerAddress } from "../../lib/sntp.js";
import { DEFAULT_PORT, startDaemon } from "../../daemon/daemon.js";
import { defaultDataDir } from "../../lib/daemon-paths.js";
import { DEFAULT_LIMITS } from "../../daemon/server.js";
import { defaultConfigPath, effective, readConfigFile, type ConfigFile, type ConfigKind } from "../config.js";
import { parseFamilyRules } from "../device-context.js";
import type { CommandIo } from "../io.js";
import { JOURNAL_KEY_HELP, JOURNAL_KEY_OPTIONS, journalKeyFrom } from "../journal-key.js";
import { STATION_HELP, STATION_OPTIONS, batchPassphrase, type StationValues } from "./station-batch.js";
import type { StationModeOptions } from "../../daemon/station-mode.js";

export const DAEMON_HELP = `Usage: otpbridge daemon [--port N] [--data-dir DIR] [--simulate] [--family READER=FAMILY] [--log-level LEVEL]
                        [--ntp HOST[:PORT]] [--config FILE] [--print-config]

Serves the JSON-RPC 2.0 WebSocket API (docs/API.md) and the operator console (docs/CONSOLE.md)
on 127.0.0.1 and ::1 only.

  --port N        TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --data-dir DIR  state: journal, bearer token, pairings (default $XDG_DATA_HOME/otpbridge,
                  else ~/.local/share/otpbridge)
  --simulate      emulated tokens of every family: a token and a Molto2 behind vsmartcard-vpcd's own two
                  readers when pcscd runs with them free, the rest in memory
  --simulate-tokens N  single-profile tokens in the simulation (default 2, up to 1000)
  --family READER=FAMILY  the family behind a reader (name or part of it): single-profile, molto2
                  or otp-applet; repeatable (vpcd readers cannot be told apart otherwise)
  --log-level L   debug, info (default), warn, error or off: JSON lines on stderr, never secrets
  --max-rate N    requests per second per client (default ${DEFAULT_LIMITS.rate.perSecond}, bursts of twice that)
  --max-sockets N open WebSockets at most (default ${DEFAULT_LIMITS.maxSockets})
  --ntp HOST[:PORT]  before writing a token's clock (token.burn, token.syncTime, batch taps),
                  refuse when the system clock is more than 2 s off this SNTP server (a call's
                  force: true overrides). An unsynchronised system clock is refused with or without it.

  --hello-timeout MS  close a socket that has not said hello by then (default 10000)
  --ping-interval MS  ping every socket this often; cut one that missed the last pong (default 30000)
  --console-launch-ttl S  how long a console login URL works, seconds (default 60; otpbridge console)
  --shared-batch ID  with --store: join that shared batch at start (else batch.start joins one);
                  batch.stations events show every station and its readers. With --store the
                  API's batches are the shared store's, sealed under the batch passphrase
${STATION_HELP}
  --config FILE   the configuration file (default $XDG_CONFIG_HOME/otpbridge/config.toml, else
                  ~/.config/otpbridge/config.toml; a missing default file is no configuration)
  --print-config  print the settings in effect, each with where it comes from, and exit

The configuration file is TOML; its keys are the flags above without "--" (port, data-dir,
log-level, max-rate, max-sockets, hello-timeout, ping-interval, console-launch-ttl, ntp, store,
family = ["READER=FAMILY", ...], simulate-tokens), and a
flag given on the command line overrides the file. A relative data-dir is taken from the file's
directory. An unknown key or a bad value stops the daemon with the file, the line and the reason.

Prints one JSON line on stdout once listening: {"listening":true,"port":N,"socket":...,"tokenFile":...,"link":...}.
Native clients of the same user connect to the Unix socket (DIR/daemon.sock, no token); over TCP they
prove the token (docs/API.md). Browser pages pair (otpbridge pair --help). SIGINT or SIGTERM stops it cleanly.

${JOURNAL_KEY_HELP}`;

/** `otpbridge daemon`; resolves with 0 after a clean shutdown. */
export async function runDaemon(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: "string" },
      "data-dir": { type: "string" },
      simulate: { type: "boolean" },
      "simulate-tokens": { type: "string" },
      family: { type: "string", multiple: true },
      "log-level": { type: "string" },
      "max-rate": { type: "string" },
      "max-sockets": { type: "string" },
      "hello-timeout": { type: "string" },
      "ping-interval": { type: "string" },
      "console-launch-ttl": { type: "string" },
      ntp: { type: "string" },
      config: { type: "string" },
      "print-config": { type: "boolean" },
      ...JOURNAL_KEY_OPTIONS,
      ...STATION_OPTIONS,
      "shared-batch": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(DAEMON_HELP);
    return 0;
  }
  // A file named with --config must exist; the default one may not.
  const configPath = values.config !== undefined ? resolve(values.config) : defaultConfigPath();
  const config = readConfigFile(configPath, CONFIG_SCHEMA, values.config !== undefined);
  const options = daemonOptions(values, config);
  if (values["print-config"]) {
    for (const line of printConfig(options, configPath)) io.out(line);
    return 0;
  }
  const level = options["log-level"].value;
  const log = createLogger({ level, write: io.err });
  if (config !== undefined) log.info("daemon: configuration read", { path: config.path });
  const perSecond = options["max-rate"].value;
  const maxSockets = options["max-sockets"].value;
  const store = options.store.value;
  if (store === undefined && values["shared-batch"] !== undefined)
    throw otpbError("INVALID_INPUT", "--shared-batch needs --store (a shared batch lives there)");
  const daemon = await startDaemon({
    port: options.port.value,
    dataDir: options["data-dir"].value,
    simulate: values.simulate === true,
    simulateTokens: options["simulate-tokens"].value,
    log,
    families: parseFamilyRules(options.family.value),
    limits: {
      maxSockets,
      nativeReserve: Math.min(DEFAULT_LIMITS.nativeReserve, Math.floor(maxSockets / 4)),
      rate: { perSecond, burst: 2 * perSecond },
      helloTimeoutMs: options["hello-timeout"].value,
      pingIntervalMs: options["ping-interval"].value,
    },
    journalKey: journalKeyFrom(values, io.readStdin),
    ...(options.ntp.value !== undefined ? { ntp: parseServerAddress(options.ntp.value, "ntp") } : {}),
    consoleLaunchTtlMs: options["console-launch-ttl"].value * 1000,
    ...(store !== undefined ? { station: stationOf({ ...values, store }, io) } : {}),
  });
  io.out(
    JSON.stringify({ listening: true, port: daemon.port, socket: daemon.socketPath, tokenFile: daemon.tokenFile, dataDir: daemon.dataDir, link: daemon.link }),
  );
  await new Promise<void>((done) => {
    const stop = (signal: string): void => {
      log.info("daemon: stopping", { signal });
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      void daemon.close().then(done);
    };
    const onInt = (): void => stop("SIGINT");
    const onTerm = (): void => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  return 0;
}

function stationOf(values: StationValues & { "shared-batch"?: string | undefined }, io: CommandIo): StationModeOptions {
  const shared = values["shared-batch"];
  const batchId = shared === undefined ? undefined : Number(shared);
  if (batchId !== undefined) aint(batchId, "--shared-batch", 1, 2 ** 31 - 1);
  return {
    store: { url: values.store!, ...(values.station !== undefined ? { station: values.station } : {}) },
    ...(batchId !== undefined ? { batchId } : {}),
    passphrase: batchPassphrase(values, io.readStdin),
  };
}

const LEVELS = ["debug", "info", "warn", "error", "off"] as const;

/** The file's keys: the daemon's flags that are settings (not --simulate, not secrets, not --config). */
const CONFIG_SCHEMA: Readonly<Record<string, ConfigKind>> = {
  port: "integer",
  "data-dir": "path",
  "log-level": "string",
  "max-rate": "integer",
  "max-sockets": "integer",
  "hello-timeout": "integer",
  "ping-interval": "integer",
  "console-launch-ttl": "integer",
  ntp: "string",
  store: "string",
  family: "strings",
  "simulate-tokens": "integer",
};

type Flags = Partial<
  Record<
    | "port"
    | "data-dir"
    | "log-level"
    | "max-rate"
    | "max-sockets"
    | "hello-timeout"
    | "ping-interval"
    | "console-launch-ttl"
    | "ntp"
    | "store"
    | "simulate-tokens",
    string
  >
> & { family?: string[] };

/** An integer flag, checked under its flag name. */
function intFlag(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  aint(n, `--${name}`, min, max);
  return n;
}

function intCheck(min: number, max: number): (value: number, name: string) => void {
  return (value, name) => aint(value, name, min, max);
}

/**
 * Every daemon setting in effect, with where it comes from (flag, file line or default).
 * @throws OtpbridgeError INVALID_INPUT for a bad flag, CONFIG_INVALID for a bad file value.
 */
function daemonOptions(flags: Flags, file: ConfigFile | undefined) {
  const level = flags["log-level"];
  if (level !== undefined) aoneOf(level, "--log-level", LEVELS);
  if (flags.ntp !== undefined) parseServerAddress(flags.ntp, "--ntp");
  if (flags.family !== undefined) parseFamilyRules(flags.family);
  const dataDir = flags["data-dir"] === undefined ? undefined : resolve(flags["data-dir"]);
  return {
    port: effective("port", intFlag(flags.port, "port", 0, 65535), file, DEFAULT_PORT, intCheck(0, 65535)),
    "data-dir": effective("data-dir", dataDir, file, defaultDataDir()),
    "log-level": effective<LogLevel>("log-level", level as LogLevel | undefined, file, "info", (v, name) => aoneOf(v, name, LEVELS)),
    "max-rate": effective("max-rate", intFlag(flags["max-rate"], "max-rate", 1, 1_000_000), file, DEFAULT_LIMITS.rate.perSecond, intCheck(1, 1_000_000)),
    "max-sockets": effective("max-sockets", intFlag(flags["max-sockets"], "max-sockets", 1, 100_000), file, DEFAULT_LIMITS.maxSockets, intCheck(1, 100_000)),
    "hello-timeout": effective(
      "hello-timeout",
      intFlag(flags["hello-timeout"], "hello-timeout", 100, 600_000),
      file,
      DEFAULT_LIMITS.helloTimeoutMs,
      intCheck(100, 600_000),
    ),
    "ping-interval": effective(
      "ping-interval",
      intFlag(flags["ping-interval"], "ping-interval", 100, 3_600_000),
      file,
      DEFAULT_LIMITS.pingIntervalMs,
      intCheck(100, 3_600_000),
    ),
    "console-launch-ttl": effective("console-launch-ttl", intFlag(flags["console-launch-ttl"], "console-launch-ttl", 1, 3600), file, 60, intCheck(1, 3600)),
    ntp: effective<string | undefined>("ntp", flags.ntp, file, undefined, (v, name) => parseServerAddress(v!, name)),
    store: effective<string | undefined>("store", flags.store, file, undefined),
    family: effective<string[]>("family", flags.family, file, [], (v) => parseFamilyRules(v)),
    "simulate-tokens": effective("simulate-tokens", intFlag(flags["simulate-tokens"], "simulate-tokens", 0, 1000), file, 2, intCheck(0, 1000)),
  };
}

/** The settings in effect as a TOML file (usable as one), each with its source in a comment. */
function printConfig(options: ReturnType<typeof daemonOptions>, path: string): string[] {
  const lines = [`# otpbridge daemon settings in effect; configuration file: ${path}`];
  for (const [key, { value, source }] of Object.entries(options)) {
    // A store URL may carry the database password: shown without it.
    const shown = key === "store" && typeof value === "string" ? withoutPassword(value) : value;
    const text = shown === undefined ? `# ${key} is not set` : `${key} = ${JSON.stringify(shown)}`;
    lines.push(`${text.padEnd(40)} # ${source}`);
  }
  return lines;
}

/** `url` with any password replaced by `***`. */
function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === "") return url;
    parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(not a URL)";
  }
}
