/**
 * The daemon's configuration file: TOML at $XDG_CONFIG_HOME/otpbridge/config.toml (else
 * ~/.config/otpbridge/config.toml), or the file `--config` names. Its keys are the daemon's flag
 * names without `--`, so the file and the command line read alike; a flag overrides the file.
 * Secrets have no key here (the journal passphrase comes from a terminal, a file or the environment).
 */
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { parse, TomlError } from "smol-toml";
import { otpbError } from "../lib/errors.js";

/** What each key of the file holds; the values are checked further by the command that uses them. */
export type ConfigKind = "integer" | "string" | "path" | "strings";

/** A value and where it came from: "default", "--flag", or "FILE:LINE". */
export interface Sourced<T> {
  value: T;
  source: string;
}

export interface ConfigFile {
  path: string;
  /** Values by key, as the file holds them (paths resolved against the file's directory). */
  values: Map<string, unknown>;
  /** The line each key is on, for messages and --print-config. */
  lines: Map<string, number>;
}

/** $XDG_CONFIG_HOME/otpbridge/config.toml, else ~/.config/otpbridge/config.toml. */
export function defaultConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== "" ? env.XDG_CONFIG_HOME : join(homedir(), ".config");
  return join(base, "otpbridge", "config.toml");
}

function configError(where: string, reason: string): Error {
  return otpbError("CONFIG_INVALID", `configuration ${where}: ${reason}`, { detail: { where } });
}

/** The line a top-level key is set on (keys may be bare or quoted). */
function lineOf(text: string, key: string): number {
  const escaped = key.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
  const pattern = new RegExp(`^\\s*(?:${escaped}|"${escaped}"|'${escaped}')\\s*=`);
  const index = text.split("\n").findIndex((line) => pattern.test(line));
  return index + 1;
}

function describeKind(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value instanceof Date) return "a date";
  if (typeof value === "object" && value !== null) return "a table";
  if (typeof value === "number" || typeof value === "bigint") return Number.isInteger(Number(value)) ? "an integer" : "a number";
  return `a ${typeof value}`;
}

function checkKind(value: unknown, kind: ConfigKind): boolean {
  if (kind === "integer") return typeof value === "number" && Number.isInteger(value);
  if (kind === "strings") return Array.isArray(value) && value.every((v) => typeof v === "string");
  return typeof value === "string" && value !== "";
}

const KIND_TEXT: Record<ConfigKind, string> = { integer: "an integer", string: "a string", path: "a path (a string)", strings: "an array of strings" };

/**
 * Reads and checks a configuration file against `schema`. A missing file is no configuration
 * (undefined) unless `required` (the user named it with --config).
 * @throws OtpbridgeError CONFIG_INVALID naming the file, the line and the reason: unreadable, not
 *   TOML, an unknown key, or a value of the wrong kind (the value itself is never quoted).
 */
export function readConfigFile(path: string, schema: Readonly<Record<string, ConfigKind>>, required = false): ConfigFile | undefined {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && !required) return undefined;
    throw configError(path, code === "ENOENT" ? "no such file" : `cannot be read (${code ?? (error as Error).message})`);
  }
  let document: Record<string, unknown>;
  try {
    document = parse(text);
  } catch (error) {
    if (!(error instanceof TomlError)) throw error;
    // Only the first line of the message: the rest quotes the file, which may hold more than options.
    const reason = error.message.split("\n")[0]!.replace(/^Invalid TOML document: /, "");
    throw configError(`${path}:${error.line}:${error.column}`, `not valid TOML: ${reason}`);
  }
  const values = new Map<string, unknown>();
  const lines = new Map<string, number>();
  for (const [key, value] of Object.entries(document)) {
    const line = lineOf(text, key);
    const where = line > 0 ? `${path}:${line}` : path;
    const kind = schema[key];
    if (kind === undefined) {
      throw configError(where, `unknown option ${JSON.stringify(key)}; known: ${Object.keys(schema).join(", ")}`);
    }
    if (!checkKind(value, kind)) throw configError(where, `${key} must be ${KIND_TEXT[kind]}, got ${describeKind(value)}`);
    values.set(key, kind === "path" ? resolve(dirname(path), value as string) : value);
    lines.set(key, line);
  }
  return { path, values, lines };
}

/**
 * The value in effect for one option: the flag's when given, else the file's, else the default;
 * `check` validates the file's value (always), and its error is re-raised with the file's line.
 * @throws OtpbridgeError CONFIG_INVALID when the file's value fails `check`.
 */
export function effective<T>(
  key: string,
  flag: T | undefined,
  file: ConfigFile | undefined,
  fallback: T,
  check: (value: T, name: string) => void = () => {},
): Sourced<T> {
  let fromFile: Sourced<T> | undefined;
  if (file?.values.has(key)) {
    const value = file.values.get(key) as T;
    const where = `${file.path}:${file.lines.get(key)}`;
    // Checked even when a flag overrides it: a bad file is refused the same way every time.
    try {
      check(value, key);
    } catch (error) {
      throw configError(where, error instanceof Error ? error.message : String(error));
    }
    fromFile = { value, source: where };
  }
  if (flag !== undefined) return { value: flag, source: `--${key}` };
  return fromFile ?? { value: fallback, source: "default" };
}
