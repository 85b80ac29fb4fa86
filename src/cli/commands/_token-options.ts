/**
 * Options shared by burn and sync-time: the settings a single-profile token takes (TOKEN2.md
 * §2.6) and the seed sources, parsed and checked once.
 */
import type { SingleProfileSettings } from "../../drivers/single-profile.js";
import { assertBurnable, DEVICE_CAPABILITIES } from "../../input/capabilities.js";
import { otpbError } from "../../lib/errors.js";
import { checkHostClock, hostSystemView } from "../../doctor/index.js";
import type { CommandIo } from "../io.js";
import type { SeedInput } from "../secret-source.js";

/** parseArgs options of the seed sources (see SEED_SOURCE_HELP). */
export const SEED_OPTIONS = {
  secret: { type: "string" },
  hex: { type: "string" },
  uri: { type: "string" },
  qr: { type: "string" },
  "secret-stdin": { type: "boolean" },
  "secret-file": { type: "string" },
  "secret-env": { type: "string" },
  encoding: { type: "string" },
} as const;

/** parseArgs options of the device choice and the settings. */
export const TOKEN_OPTIONS = {
  reader: { type: "string" },
  family: { type: "string", multiple: true },
  simulate: { type: "boolean" },
  algorithm: { type: "string" },
  period: { type: "string" },
  display: { type: "string" },
  ntp: { type: "string" },
  force: { type: "boolean" },
  yes: { type: "boolean", short: "y" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

export const SETTINGS_HELP = `  --algorithm SHA1|SHA256  HMAC of the codes (default SHA1)
  --period 30|60           seconds per code (default 30)
  --display 15|30|60|120   seconds before the display turns off (default 30)
  --ntp HOST[:PORT]        refuse when the system clock is more than 2 s off this SNTP server
  --force                  write the clock even when it is unsynchronised or off (warns)`;

const pick = <T extends string | number>(flag: string, text: string, allowed: readonly T[]): T => {
  const found = allowed.find((a) => String(a) === text.toUpperCase().replace("-", ""));
  if (found === undefined) throw otpbError("INVALID_INPUT", `--${flag} must be ${allowed.join(", ")}; got ${JSON.stringify(text)}`);
  return found;
};

/**
 * Settings from the flags, or from an otpauth URI (then --algorithm and --period may not be given).
 * @throws OtpbridgeError INVALID_INPUT on a bad value; NOT_BURNABLE when the URI asks for what
 *   these tokens cannot do (SHA-512, other than 6 digits, a period other than 30 or 60).
 */
export function settingsFrom(values: { algorithm?: string | undefined; period?: string | undefined; display?: string | undefined }, seed?: SeedInput): SingleProfileSettings {
  const display = pick("display", values.display ?? "30", [15, 30, 60, 120] as const);
  const account = seed?.account;
  if (account === undefined) {
    return {
      algorithm: pick("algorithm", values.algorithm ?? "SHA1", ["SHA1", "SHA256"] as const),
      period: pick("period", values.period ?? "30", [30, 60] as const),
      display,
    };
  }
  const given = (["algorithm", "period"] as const).filter((flag) => values[flag] !== undefined);
  if (given.length > 0) throw otpbError("INVALID_INPUT", `--${given[0]} cannot be combined with an otpauth URI, which sets it`);
  // What the URI asks for must be what these tokens do (TOKEN2.md §2.1, §1.7): one table says it.
  assertBurnable(account, DEVICE_CAPABILITIES["single-profile"]);
  // assertBurnable has checked both against the table; the types cannot carry that.
  const algorithm = account.algorithm as SingleProfileSettings["algorithm"];
  const period = account.period as SingleProfileSettings["period"];
  return { algorithm, period, display };
}

/**
 * Refuses seeds a token cannot hold (over 63 bytes, §2.7) or that are implausibly short (under 10
 * bytes, 80 bits: the vendor burner's rule; RFC 4226 §4 asks for at least 128 bits).
 * @throws OtpbridgeError INVALID_INPUT
 */
export function checkSeedLength(seed: Uint8Array): void {
  if (seed.length < 10 || seed.length > 63) {
    throw otpbError("INVALID_INPUT", `the seed is ${seed.length} bytes; a token takes 10 to 63 (a shorter one is probably a typing error)`);
  }
}

/**
 * The host clock becomes the token's clock: refuse a clock known to be wrong before anything is
 * written (unsynchronised, or more than 2 s off the --ntp server), unless --force.
 * @throws OtpbridgeError CLOCK_UNTRUSTED, NTP_UNAVAILABLE
 */
export async function checkClockBeforeWriting(values: { ntp?: string | undefined; force?: boolean | undefined }, io: CommandIo): Promise<void> {
  const server = values.ntp === undefined ? undefined : parseHostPort(values.ntp, "--ntp");
  const report = await checkHostClock({
    systemView: hostSystemView(),
    ...(server ? { ntpHost: server.host, sntp: server.port === undefined ? {} : { port: server.port } } : {}),
    force: values.force === true,
  });
  for (const line of report.overridden) io.err(`warning (--force): ${line}`);
}

/** `host`, `host:port`, `[v6]` or `[v6]:port`. */
function parseHostPort(text: string, flag: string): { host: string; port?: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw otpbError("INVALID_INPUT", `${flag} must be HOST, HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  }
  const host = match[1] ?? match[2]!;
  return port === undefined ? { host } : { host, port };
}
