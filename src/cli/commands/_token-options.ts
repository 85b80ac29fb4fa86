/**
 * Options shared by burn and sync-time: the settings a single-profile token takes (docs/PROTOCOL.md
 * §2.6) and the seed sources, parsed and checked once.
 */
import { ALGORITHMS, DISPLAY_SECONDS, PERIODS, type SingleProfileSettings } from "../../drivers/single-profile.js";
import type { DeviceSeed, SeedParameters } from "../../input/seed-input.js";
import { otpbError } from "../../lib/errors.js";
import { checkHostClock, hostSystemView } from "../../doctor/index.js";
import { parseServerAddress } from "../../lib/sntp.js";
import type { CommandIo } from "../io.js";

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
 * The --algorithm and --period flags, parsed; absent ones stay undefined (an otpauth URI may set them).
 * @throws OtpbridgeError INVALID_INPUT on a bad value.
 */
export function explicitParameters(values: { algorithm?: string | undefined; period?: string | undefined }): Partial<SeedParameters> {
  return {
    ...(values.algorithm !== undefined ? { algorithm: pick("algorithm", values.algorithm, ALGORITHMS) } : {}),
    ...(values.period !== undefined ? { period: pick("period", values.period, PERIODS) } : {}),
  };
}

/**
 * The settings to write: the seed's parameters (from its otpauth URI, or the flags, as
 * readSeedInput resolved them), else the flags; and --display.
 * @throws OtpbridgeError INVALID_INPUT on a bad value.
 */
export function settingsFrom(
  values: { algorithm?: string | undefined; period?: string | undefined; display?: string | undefined },
  seed?: DeviceSeed,
): SingleProfileSettings {
  const display = pick("display", values.display ?? "30", DISPLAY_SECONDS);
  if (seed === undefined) {
    const explicit = explicitParameters(values);
    return {
      algorithm: (explicit.algorithm ?? "SHA1") as SingleProfileSettings["algorithm"],
      period: (explicit.period ?? 30) as SingleProfileSettings["period"],
      display,
    };
  }
  // seedForDevice checked both against the single-profile table; the types cannot carry that.
  return { algorithm: seed.algorithm as SingleProfileSettings["algorithm"], period: seed.period as SingleProfileSettings["period"], display };
}

/**
 * The host clock becomes the token's clock: refuse a clock known to be wrong before anything is
 * written (unsynchronised, or more than 2 s off the --ntp server), unless --force.
 * @throws OtpbridgeError CLOCK_UNTRUSTED, NTP_UNAVAILABLE
 */
export async function checkClockBeforeWriting(values: { ntp?: string | undefined; force?: boolean | undefined }, io: CommandIo): Promise<void> {
  const server = values.ntp === undefined ? undefined : parseServerAddress(values.ntp, "--ntp");
  const report = await checkHostClock({
    systemView: hostSystemView(),
    ...(server ? { ntpHost: server.host, sntp: server.port === undefined ? {} : { port: server.port } } : {}),
    force: values.force === true,
  });
  for (const line of report.overridden) io.err(`warning (--force): ${line}`);
}
