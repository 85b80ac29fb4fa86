/** `otpbridge daemon`: runs the WebSocket JSON-RPC daemon until SIGINT or SIGTERM. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { aint, aoneOf } from "../../lib/checks.js";
import { createLogger, type LogLevel } from "../../lib/log.js";
import { parseServerAddress } from "../../lib/sntp.js";
import { DEFAULT_PORT, startDaemon } from "../../daemon/daemon.js";
import { defaultDataDir } from "../../lib/daemon-paths.js";
import { DEFAULT_LIMITS } from "../../daemon/server.js";
import { parseFamilyRules } from "../device-context.js";
import type { CommandIo } from "../io.js";
import { JOURNAL_KEY_HELP, JOURNAL_KEY_OPTIONS, journalKeyFrom } from "../journal-key.js";

export const DAEMON_HELP = `Usage: otpbridge daemon [--port N] [--data-dir DIR] [--simulate] [--family READER=FAMILY] [--log-level LEVEL]
                        [--ntp HOST[:PORT]]

Serves the JSON-RPC 2.0 WebSocket API (docs/API.md) on 127.0.0.1 and ::1 only.

  --port N        TCP port (default ${DEFAULT_PORT}; 0 picks a free one)
  --data-dir DIR  state: journal, bearer token, pairings (default $XDG_DATA_HOME/otpbridge,
                  else ~/.local/share/otpbridge)
  --simulate      emulated tokens of every family: through pcscd and vpcd when they run, else in memory
  --simulate-tokens N  single-profile tokens in the in-memory simulation (default 2, up to 1000)
  --family READER=FAMILY  the family behind a reader (name or part of it): single-profile, molto2
                  or otp-applet; repeatable (vpcd readers cannot be told apart otherwise)
  --log-level L   debug, info (default), warn, error or off: JSON lines on stderr, never secrets
  --max-rate N    requests per second per client (default ${DEFAULT_LIMITS.rate.perSecond}, bursts of twice that)
  --max-sockets N open WebSockets at most (default ${DEFAULT_LIMITS.maxSockets})
  --ntp HOST[:PORT]  before writing a token's clock (token.burn, token.syncTime, batch taps),
                  refuse when the system clock is more than 2 s off this SNTP server (a call's
                  force: true overrides). An unsynchronised system clock is refused with or without it.

Prints one JSON line on stdout once listening: {"listening":true,"port":N,"tokenFile":...,"link":...}.
Native clients send "Authorization: Bearer <contents of tokenFile>"; browser pages pair
(otpbridge pair --help). SIGINT or SIGTERM stops it cleanly.

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
      ntp: { type: "string" },
      ...JOURNAL_KEY_OPTIONS,
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
  const simulateTokens = Number(values["simulate-tokens"] ?? 2);
  aint(simulateTokens, "--simulate-tokens", 0, 1000);
  const level = aoneOfLevel(values["log-level"] ?? "info");
  const log = createLogger({ level, write: io.err });
  const daemon = await startDaemon({
    port, dataDir: resolve(values["data-dir"] ?? defaultDataDir()), simulate: values.simulate === true, simulateTokens, log,
    families: parseFamilyRules(values.family),
    limits: { maxSockets, rate: { perSecond, burst: 2 * perSecond } },
    journalKey: journalKeyFrom(values, io.readStdin),
    ...(values.ntp !== undefined ? { ntp: parseServerAddress(values.ntp, "--ntp") } : {}),
  });
  io.out(JSON.stringify({ listening: true, port: daemon.port, tokenFile: daemon.tokenFile, dataDir: daemon.dataDir, link: daemon.link }));
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

function aoneOfLevel(value: string): LogLevel {
  aoneOf(value, "--log-level", ["debug", "info", "warn", "error", "off"] as const);
  return value;
}
