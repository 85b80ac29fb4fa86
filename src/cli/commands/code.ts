import { parseArgs } from "node:util";
import { totp } from "../../crypto/otp.js";
import type { HashAlgorithm } from "../../crypto/hash.js";
import { classifySecretInput } from "../../input/classify.js";
import type { SkippedAccount } from "../../input/migration.js";
import { otpbError } from "../../lib/errors.js";
import { readSecretText, SEED_SOURCE_HELP } from "../secret-source.js";
import type { CommandIo } from "../io.js";
import { nowSeconds } from "../../lib/time.js";

export const CODE_HELP = `Usage: otpbridge code (SEED SOURCE) [--algorithm SHA1|SHA256|SHA512] [--digits N]
                      [--period S] [--time UNIX]

Prints the code a token holding this seed shows at the given time (default: now).
With an otpauth URI, algorithm, digits and period come from the URI; a Google Authenticator
export (otpauth-migration://) prints one line per TOTP account it holds, and names on stderr
each account it skips (counter-based HOTP ones, for instance).

  --algorithm   SHA1 (default), SHA256 or SHA512
  --digits      4 to 10 (default 6)
  --period      time step in seconds, 1 to 86400 (default 30)
  --time        Unix time in seconds (default: now)

${SEED_SOURCE_HELP}`;

const PARAMETER_FLAGS = ["algorithm", "digits", "period"] as const;

/** `otpbridge code`: decode only, compute, print. */
export function runCode(argv: string[], io: CommandIo): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      secret: { type: "string" },
      hex: { type: "string" },
      uri: { type: "string" },
      qr: { type: "string" },
      "secret-stdin": { type: "boolean" },
      "secret-file": { type: "string" },
      "secret-env": { type: "string" },
      encoding: { type: "string" },
      algorithm: { type: "string" },
      digits: { type: "string" },
      period: { type: "string" },
      time: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(CODE_HELP);
    return 0;
  }
  const input = readSecretText(values, io.readStdin);
  if (input.isUri) {
    const given = PARAMETER_FLAGS.filter((flag) => values[flag] !== undefined);
    if (given.length > 0) {
      throw otpbError("INVALID_INPUT", `--${given[0]} cannot be combined with an otpauth URI, which sets it`);
    }
  }
  const { accounts, skipped } = classifySecretInput(input.text, {
    hex: input.format === "hex",
    defaults: {
      algorithm: parseAlgorithm(values.algorithm ?? "SHA1"),
      digits: parseInteger(values.digits ?? "6", "--digits", 4, 10),
      period: parseInteger(values.period ?? "30", "--period", 1, 86400),
    },
  });
  try {
    const time = values.time === undefined ? nowSeconds() : parseInteger(values.time, "--time", 0, Number.MAX_SAFE_INTEGER);
    for (const account of accounts) {
      const code = totp(account.algorithm, account.secret, { time, period: account.period, digits: account.digits });
      // A migration export holds several accounts: name each line so the codes can be told apart.
      io.out(accounts.length > 1 ? `${code}  ${[account.issuer, account.label].filter(Boolean).join(": ")}` : code);
    }
  } finally {
    for (const account of accounts) account.secret.fill(0);
  }
  for (const account of skipped) {
    // Names and issuers are not secret; the account's seed is never printed.
    io.err(`skipped account ${account.index + 1} (${[account.issuer, account.name].filter(Boolean).join(": ") || "no name"}): ${SKIP_REASONS[account.reason]}`);
  }
  return 0;
}

const SKIP_REASONS: Record<SkippedAccount["reason"], string> = {
  hotp: "a counter-based (HOTP) account; this command prints time-based (TOTP) codes",
  "unknown-type": "its type is neither TOTP nor HOTP",
  "unsupported-algorithm": "its algorithm is not SHA1, SHA256 or SHA512",
  "empty-secret": "it has no secret",
};

function parseAlgorithm(text: string): HashAlgorithm {
  const normalized = text.toUpperCase().replace("-", "");
  if (normalized === "SHA1" || normalized === "SHA256" || normalized === "SHA512") return normalized;
  throw otpbError("INVALID_INPUT", `--algorithm must be SHA1, SHA256 or SHA512, got ${JSON.stringify(text)}`);
}

/** Parses a decimal integer flag; rejects "1e3", "0x10", "12abc" and out-of-range values. */
export function parseInteger(text: string, flag: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw otpbError("INVALID_INPUT", `${flag} must be a whole number, got ${JSON.stringify(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw otpbError("INVALID_INPUT", `${flag} must be between ${min} and ${max}, got ${text}`);
  }
  return value;
}
