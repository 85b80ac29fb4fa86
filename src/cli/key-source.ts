import { readFileSync } from "node:fs";
import { otpbError } from "../lib/errors.js";

/**
 * Where a Molto2 customer key comes from: never from a plain command-line argument (it would be in
 * `ps` and the shell history), only from stdin, a file or an environment variable. The key is
 * never printed.
 */
export interface KeySourceOptions {
  stdin?: boolean | undefined;
  file?: string | undefined;
  env?: string | undefined;
  /** The text is hex (molto2.py accepts hex or ASCII keys, §3.2); default ASCII. */
  hex?: boolean | undefined;
}

/** Help text for the key options; `prefix` is "key" or "new-key". */
export function keySourceHelp(prefix: string, what: string): string {
  return `  --${prefix}-stdin        read ${what} from standard input
  --${prefix}-file PATH    read ${what} from a file
  --${prefix}-env NAME     read ${what} from environment variable NAME
  --${prefix}-hex          ${what} is written in hex (default: its ASCII text)`;
}

/**
 * Reads a customer key from the one source given, or returns undefined when none was given.
 * Surrounding whitespace (a file's final newline) is not part of the key.
 * @throws OtpbridgeError INVALID_INPUT when several sources are given, or the key is empty or bad hex.
 */
export function readCustomerKey(flag: string, options: KeySourceOptions, readStdin: () => string = () => readFileSync(0, "utf8")): Uint8Array | undefined {
  const given = [options.stdin === true, options.file !== undefined, options.env !== undefined].filter(Boolean).length;
  if (given === 0) {
    if (options.hex) throw otpbError("INVALID_INPUT", `--${flag}-hex needs --${flag}-stdin, --${flag}-file or --${flag}-env`);
    return undefined;
  }
  if (given > 1) throw otpbError("INVALID_INPUT", `give the ${flag} once: --${flag}-stdin, --${flag}-file or --${flag}-env`);
  let text: string;
  if (options.stdin) {
    text = readStdin();
  } else if (options.file !== undefined) {
    try {
      text = readFileSync(options.file, "utf8");
    } catch (error) {
      throw otpbError("INVALID_INPUT", `cannot read --${flag}-file: ${(error as NodeJS.ErrnoException).code ?? "error"}`);
    }
  } else {
    const value = process.env[options.env!];
    if (value === undefined) throw otpbError("INVALID_INPUT", `environment variable ${options.env} is not set`);
    text = value;
  }
  text = text.trim();
  if (text.length === 0) throw otpbError("INVALID_INPUT", `the ${flag} is empty`);
  if (!options.hex) return new TextEncoder().encode(text);
  const digits = text.replace(/[\s:]/g, "");
  if (!/^([0-9a-fA-F]{2})+$/.test(digits)) throw otpbError("INVALID_INPUT", `the ${flag} is not an even number of hex digits`);
  return Uint8Array.from(Buffer.from(digits, "hex"));
}
