import { readFileSync } from "node:fs";
import { otpbError } from "../lib/errors.js";

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
}

/** The text a user gave as a seed, and whether it is an otpauth URI. */
export interface SecretText {
  text: string;
  isUri: boolean;
  source: "argument" | "stdin" | "file" | "environment";
}

/**
 * Reads the seed from the one source the user chose.
 * @throws OtpbridgeError INVALID_INPUT when none or several are given, or the source is empty.
 */
export function readSecretText(options: SecretSourceOptions, readStdin: () => string = () => readFileSync(0, "utf8")): SecretText {
  const chosen = (["secret", "uri", "secret-stdin", "secret-file", "secret-env"] as const).filter(
    (key) => options[key] !== undefined && options[key] !== false,
  );
  if (chosen.length !== 1) {
    throw otpbError(
      "INVALID_INPUT",
      chosen.length === 0
        ? "no seed given: use --secret, --uri, --secret-stdin, --secret-file or --secret-env"
        : `give the seed once, not with ${chosen.map((c) => `--${c}`).join(" and ")}`,
    );
  }
  let text: string;
  let source: SecretText["source"];
  const key = chosen[0]!;
  switch (key) {
    case "secret":
    case "uri":
      text = options[key]!;
      source = "argument";
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
  return { text, isUri: key === "uri" || /^otpauth(-migration)?:\/\//i.test(text), source };
}
