/**
 * A small structured logger: one JSON object per line, to stderr by default. Off unless asked for
 * (the CLI turns it on with --verbose or --debug). The pattern follows yubikit: `debug` before each
 * device step, `info` after it succeeded, with the device, the step and non-secret parameters.
 *
 * Redaction guard: seeds, keys and APDU bodies must never reach a log. Every field value is
 * checked, at every level and whether or not the level is enabled (so tests catch a bad call even
 * with logging off): byte arrays anywhere in the fields, and fields whose name says they hold a
 * secret, are refused with a TypeError instead of being written.
 */
import { inputError } from "./errors.js";

export type LogLevel = "debug" | "info" | "warn" | "error" | "off";

/** Non-secret structured fields; values are JSON-serialisable scalars, arrays or plain objects. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  readonly level: LogLevel;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line (for example the reader or the serial). */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  /** Lowest level written; default "off". */
  level?: LogLevel;
  /** Where a line goes (without its newline); default process.stderr. */
  write?: (line: string) => void;
  /** Fields added to every line. */
  fields?: LogFields;
  /** Clock for the `time` field; default Date.now. */
  now?: () => number;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, off: 100 };

/** Field names that can only hold a secret or a device exchange; refused whatever their value. */
const FORBIDDEN_NAMES = new Set(["seed", "secret", "key", "pin", "passphrase", "apdu", "response", "uri", "mac"]);

/** Deepest nesting checked; deeper values are refused rather than walked forever. */
const MAX_DEPTH = 6;

function refuse(message: string): TypeError {
  return inputError("type", `log redaction guard: ${message}`);
}

/** Throws if `value` holds bytes anywhere, or a forbidden field name. */
function guard(value: unknown, path: string, depth: number): void {
  if (value === null || typeof value !== "object") return;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw refuse(`${path} is a byte array; log its length, never its content`);
  }
  if (depth >= MAX_DEPTH) throw refuse(`${path} is nested too deeply to be checked`);
  if (value instanceof Error) return;
  for (const [name, inner] of Object.entries(value)) {
    if (FORBIDDEN_NAMES.has(name.toLowerCase())) throw refuse(`field ${path}.${name} may hold a secret`);
    guard(inner, `${path}.${name}`, depth + 1);
  }
}

/** Errors as {name, reason, message}: their stack and cause stay out of the log. */
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    const reason = (value as { reason?: unknown }).reason;
    return { name: value.name, ...(typeof reason === "string" ? { reason } : {}), message: value.message };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

class JsonLinesLogger implements Logger {
  constructor(
    readonly level: LogLevel,
    private readonly write: (line: string) => void,
    private readonly fields: LogFields,
    private readonly now: () => number,
  ) {}

  debug(message: string, fields?: LogFields): void {
    this.log("debug", message, fields);
  }

  info(message: string, fields?: LogFields): void {
    this.log("info", message, fields);
  }

  warn(message: string, fields?: LogFields): void {
    this.log("warn", message, fields);
  }

  error(message: string, fields?: LogFields): void {
    this.log("error", message, fields);
  }

  child(fields: LogFields): Logger {
    guard(fields, "fields", 0);
    return new JsonLinesLogger(this.level, this.write, { ...this.fields, ...fields }, this.now);
  }

  private log(level: Exclude<LogLevel, "off">, message: string, fields: LogFields | undefined): void {
    if (fields !== undefined) guard(fields, "fields", 0);
    if (RANK[level] < RANK[this.level]) return;
    const line = { time: new Date(this.now()).toISOString(), level, msg: message, ...this.fields, ...fields };
    this.write(JSON.stringify(line, replacer));
  }
}

/**
 * Builds a logger.
 * @throws TypeError (INVALID_INPUT) if `options.fields` holds bytes or a secret-named field; each
 *   logging call throws the same for its own fields.
 * @example const log = createLogger({ level: "debug" }); log.debug("auth", { reader: "ACS ACR122U" });
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const fields = options.fields ?? {};
  guard(fields, "fields", 0);
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  return new JsonLinesLogger(options.level ?? "off", write, fields, options.now ?? Date.now);
}

/** A logger that writes nothing (but still applies the redaction guard). */
export const silentLogger: Logger = createLogger({ level: "off" });
