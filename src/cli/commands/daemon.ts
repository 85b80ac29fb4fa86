/** `otpbridge daemon`: runs the WebSocket JSON-RPC daemon until SIGINT or SIGTERM. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { aint, aoneOf } from "../../lib/checks.js";
import { createLogger, type LogLevel } from "../../lib/log.js";
import { parseServerAddress } from "../../lib/sntp.js";
import { DEFAULT_PORT, defaultDataDir, startDaemon } from "../../daemon/daemon.js";
import { DEFAULT_LIMITS } from "../../daemon/server.js";
import { parseFamilyRules } from "../device-context.js";
import type { CommandIo } from "../io.js";
import { JOURNAL_KEY_HELP, JOURNAL_KEY_OPTIONS, journalKeyFrom } from "../journal-key.js";
import { STATION_HELP, STATION_OPTIONS, batchPassphrase, type StationValues } from "./station-batch.js";
import type { StationModeOptions } from "../../daemon/station-mode.js";

export const DAEMON_HELP = `Usage: otpbridge daemon [--port N] [--data-dir DIR] [--simulate] [--family READER=FAMILY] [--log-level LEVEL]
                        [--ntp HOST[:PORT]]

Serves the JSON-RPC 2.0 WebSocket API (docs/API.md) and the operator console (docs/CONSOLE.md)
on 127.0.0.1 and ::1 only.

  --port N        TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --data-dir DIR  state: journal, bearer token, pairings (default $XDG_DATA_HOME/otpbridge,
                  else ~/.local/share/otpbridge)
  --simulate      emulated tokens of every family: through pcscd and vpcd when they run, else in memory
  --simulate-tokens N  single-profile tokens in the in-memory simulation (default 2, up to 1000)
  --family READER=FAMILY  the family behind a reader (name or part of it): single-profile, molto2
                  or otp-applet; repeatable (vpcd readers cannot be told apart otherwise)
  --log-level L   debug, info (default), warn, error or off: JSON lines on stderr, never secrets
  --max-rate N    requests per second per client (default ${DEFAULT_LIMITS.rate.perSecond}, bursts of twice that)
  --max-sockets N open WebSockets at most (default ${DEFAULT_LIMITS.maxSockets}; ${DEFAULT_LIMITS.nativeReserve} of them kept for native
                  clients, ${DEFAULT_LIMITS.perOrigin} per browser origin)
  --hello-timeout MS  close a socket that has not said hello within MS (default ${DEFAULT_LIMITS.helloTimeoutMs})
  --ping-interval MS  ping sockets this often; one that missed a pong is closed (default ${DEFAULT_LIMITS.pingIntervalMs})
  --ntp HOST[:PORT]  before writing a token's clock (token.burn, token.syncTime, batch taps),
                  refuse when the system clock is more than 2 s off this SNTP server (a call's
                  force: true overrides). An unsynchronised system clock is refused with or without it.
  --console-launch-ttl S  how long a console login URL works, seconds (default 60; otpbridge console)
  --shared-batch ID  with --store: be one station of that shared batch; the engine drives it from
                  the start, and batch.stations events show every station and its readers
${STATION_HELP}

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
      ntp: { type: "string" },
      "console-launch-ttl": { type: "string" },
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
  const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
  aint(port, "--port", 0, 65535);
  const perSecond = Number(values["max-rate"] ?? DEFAULT_LIMITS.rate.perSecond);
  aint(perSecond, "--max-rate", 1, 1_000_000);
  const maxSockets = Number(values["max-sockets"] ?? DEFAULT_LIMITS.maxSockets);
  aint(maxSockets, "--max-sockets", 1, 100_000);
  const helloTimeoutMs = Number(values["hello-timeout"] ?? DEFAULT_LIMITS.helloTimeoutMs);
  aint(helloTimeoutMs, "--hello-timeout", 100, 600_000);
  const pingIntervalMs = Number(values["ping-interval"] ?? DEFAULT_LIMITS.pingIntervalMs);
  aint(pingIntervalMs, "--ping-interval", 100, 3_600_000);
  const simulateTokens = Number(values["simulate-tokens"] ?? 2);
  aint(simulateTokens, "--simulate-tokens", 0, 1000);
  const launchTtl = Number(values["console-launch-ttl"] ?? 60);
  aint(launchTtl, "--console-launch-ttl", 1, 3600);
  const level = aoneOfLevel(values["log-level"] ?? "info");
  const log = createLogger({ level, write: io.err });
  const daemon = await startDaemon({
    port, dataDir: resolve(values["data-dir"] ?? defaultDataDir()), simulate: values.simulate === true, simulateTokens, log,
    families: parseFamilyRules(values.family),
    limits: { maxSockets, nativeReserve: Math.min(DEFAULT_LIMITS.nativeReserve, Math.floor(maxSockets / 4)), rate: { perSecond, burst: 2 * perSecond }, helloTimeoutMs, pingIntervalMs },
    journalKey: journalKeyFrom(values, io.readStdin),
    ...(values.ntp !== undefined ? { ntp: parseServerAddress(values.ntp, "--ntp") } : {}),
    consoleLaunchTtlMs: launchTtl * 1000,
    ...(values.store !== undefined ? { station: stationOf(values, io) } : {}),
  });
  io.out(JSON.stringify({ listening: true, port: daemon.port, socket: daemon.socketPath, tokenFile: daemon.tokenFile, dataDir: daemon.dataDir, link: daemon.link }));
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
  const batchId = Number(values["shared-batch"]);
  aint(batchId, "--shared-batch", 1, 2 ** 31 - 1);
  return {
    store: { url: values.store!, ...(values.station !== undefined ? { station: values.station } : {}) },
    batchId,
    passphrase: batchPassphrase(values, io.readStdin),
  };
}

function aoneOfLevel(value: string): LogLevel {
  aoneOf(value, "--log-level", ["debug", "info", "warn", "error", "off"] as const);
  return value;
}
