import { readFileSync } from "node:fs";
import type { DeviceFamily } from "../input/capabilities.js";
import { seedForDevice, type DeviceSeed, type SeedParameters } from "../input/seed-input.js";
import { decodeQrFile } from "../input/qr.js";
import { otpbError } from "../lib/errors.js";

/** Help text of the commands that burn a seed: the common sources plus hex, QR images and --encoding. */
export const SEED_SOURCE_HELP = `Where the seed comes from (exactly one):
  --secret BASE32        on the command line
  --hex HEX              on the command line, as hex
  --uri otpauth://...    on the command line, with its parameters
  --qr IMAGE             a PNG or JPEG screenshot of the enrolment QR code (an otpauth URI)
  --secret-stdin         read from standard input
  --secret-file PATH     read from a file
  --secret-env NAME      read from environment variable NAME
  --encoding base32|hex  how the text from stdin, a file or the environment is written
                         (default base32; an otpauth URI is recognised either way)
Prefer --secret-stdin, --secret-file, --secret-env or --qr: anything on a command line is
readable by every local user (ps, /proc/PID/cmdline) and is kept in your shell history;
stdin, a 0600 file or an environment variable of your own process are not.`;

/** Help text shared by every command that takes a seed. */
export const SECRET_SOURCE_HELP = `Where the seed comes from (exactly one):
  --secret BASE32        on the command line
  --uri otpauth://...    on the command line, with its parameters
  --secret-stdin         read from standard input (base32 or otpauth URI)
  --secret-file PATH     read from a file (base32 or otpauth URI)
  --secret-env NAME      read from environment variable NAME (base32 or otpauth URI)
The last three are safer: anything on a command line is readable by every local user
(ps, /proc/PID/cmdline) and is kept in your shell history; stdin, a 0600 file or an
environment variable of your own process are not.`;

export interface SecretSourceOptions {
  secret?: string | undefined;
  uri?: string | undefined;
  "secret-stdin"?: boolean | undefined;
  "secret-file"?: string | undefined;
  "secret-env"?: string | undefined;
  hex?: string | undefined;
  qr?: string | undefined;
  /** How stdin/file/environment text is written: "base32" (default) or "hex". */
  encoding?: string | undefined;
}

/** The text a user gave as a seed, and whether it is an otpauth URI. */
export interface SecretText {
  text: string;
  isUri: boolean;
  /** How `text` is written. */
  format: "base32" | "hex" | "uri";
  source: "argument" | "stdin" | "file" | "environment" | "image";
}

/**
 * Reads the seed from the one source the user chose.
 * @throws OtpbridgeError INVALID_INPUT when none or several are given, or the source is empty.
 */
export function readSecretText(options: SecretSourceOptions, readStdin: () => string = () => readFileSync(0, "utf8")): SecretText {
  const chosen = (["secret", "hex", "uri", "qr", "secret-stdin", "secret-file", "secret-env"] as const).filter(
    (key) => options[key] !== undefined && options[key] !== false,
  );
  if (chosen.length !== 1) {
    throw otpbError(
      "INVALID_INPUT",
      chosen.length === 0
        ? "no seed given: use --secret, --uri, --secret-stdin, --secret-file or --secret-env (code, burn and sync-time also take --hex and --qr)"
        : `give the seed once, not with ${chosen.map((c) => `--${c}`).join(" and ")}`,
    );
  }
  let text: string;
  let source: SecretText["source"];
  const key = chosen[0]!;
  switch (key) {
    case "secret":
    case "hex":
    case "uri":
      text = options[key]!;
      source = "argument";
      break;
    case "qr":
      text = decodeQrFile(options.qr!);
      source = "image";
      if (!/^otpauth:\/\//i.test(text.trim())) throw otpbError("QR_UNREADABLE", "the QR code does not hold an otpauth:// URI");
      break;
    case "secret-stdin":
      text = readStdin();
      source = "stdin";
      break;
    case "secret-file":
      try {
        text = readFileSync(options["secret-file"]!, "utf8");
      } catch (error) {
        throw otpbError("INVALID_INPUT", `cannot read --secret-file: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
      }
      source = "file";
      break;
    case "secret-env": {
      const value = process.env[options["secret-env"]!];
      if (value === undefined) throw otpbError("INVALID_INPUT", `environment variable ${options["secret-env"]} is not set`);
      text = value;
      source = "environment";
      break;
    }
  }
  text = text.trim();
  if (text.length === 0) throw otpbError("INVALID_INPUT", `the seed read from ${source} is empty`);
  const isUri = key === "uri" || key === "qr" || /^otpauth(-migration)?:\/\//i.test(text);
  const encoding = options.encoding ?? "base32";
  if (encoding !== "base32" && encoding !== "hex") throw otpbError("INVALID_INPUT", `--encoding must be base32 or hex, got ${JSON.stringify(encoding)}`);
  const format = isUri ? "uri" : key === "hex" ? "hex" : key === "secret" ? "base32" : encoding;
  return { text, isUri, format, source };
}

/**
 * Reads the seed from the one source the user chose, for a `family` device, through the shared
 * seed rules (src/input/seed-input.ts): wrong codes refused with advice, one account only, and
 * `explicit` (the command's --algorithm, --digits, --period) refused beside an otpauth URI.
 * @throws OtpbridgeError INVALID_INPUT, INVALID_SECRET_FORMAT, WRONG_CODE_SCANNED, QR_UNREADABLE, NOT_BURNABLE.
 */
export function readSeedInput(
  options: SecretSourceOptions,
  family: DeviceFamily,
  explicit: Partial<SeedParameters>,
  readStdin?: () => string,
): DeviceSeed & { source: SecretText["source"] } {
  const input = readSecretText(options, readStdin);
  const seed = seedForDevice(input.text, family, { hex: input.format === "hex", explicit, paramName: (param) => `--${param}` });
  return { ...seed, source: input.source };
}
