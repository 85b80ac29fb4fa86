/**
 * One seed for one device entry, from the text an operator scanned or pasted and the parameters
 * they gave beside it. The CLI (burn, sync-time, molto2 write, applet add) and the daemon's API
 * (token.burn, molto2.write, otpApplet.add) both come through here, so a seed is read, refused or
 * combined with its parameters by one set of rules:
 * - the text goes through the shared classifier (wrong codes refused with advice; hex only when asked);
 * - an export holding several accounts is refused: a device entry takes one;
 * - an otpauth URI sets algorithm, digits and period itself: giving any of them beside it is refused,
 *   since one of the two would silently lose;
 * - the result is checked against the family's capability table before any device is touched.
 */
import { otpbError } from "../lib/errors.js";
import type { HashAlgorithm } from "../crypto/hash.js";
import { checkBurnable, DEVICE_CAPABILITIES, type BurnProblem, type DeviceFamily } from "./capabilities.js";
import { classifySecretInput } from "./classify.js";
import type { TotpAccount } from "./secret.js";

/** The parameters codes are computed with. */
export interface SeedParameters {
  algorithm: HashAlgorithm;
  digits: number;
  period: number;
}

export interface DeviceSeed extends SeedParameters {
  /** The caller zeroes it once written. */
  secret: Uint8Array;
  /** True when the text was an otpauth (or otpauth-migration) URI, which set the parameters. */
  fromUri: boolean;
  /** The URI's label and issuer, when it had them. */
  label?: string;
  issuer?: string;
}

export interface SeedInputOptions {
  /** The text is hex (never guessed). */
  hex?: boolean;
  /** Parameters given beside the text; absent ones default to SHA1, 6 digits, 30 s. */
  explicit?: Partial<SeedParameters>;
  /** How a parameter is named to the user: `--algorithm` on the command line, `algorithm` in the API. */
  paramName?: (param: keyof SeedParameters) => string;
}

const DEFAULTS: SeedParameters = { algorithm: "SHA1", digits: 6, period: 30 };
const SEED_FIELDS: ReadonlySet<BurnProblem["field"]> = new Set(["seed", "algorithm", "period", "digits"]);

/**
 * Reads one seed for a `family` device from `text`.
 * @throws OtpbridgeError INVALID_SECRET_FORMAT, WRONG_CODE_SCANNED (see classifySecretInput);
 *   INVALID_INPUT for an export of several accounts, or a parameter given beside an otpauth URI;
 *   NOT_BURNABLE when the seed or its parameters do not fit the family (every problem listed).
 * @example seedForDevice("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "single-profile", { explicit: { period: 60 } }).period // 60
 */
export function seedForDevice(text: string, family: DeviceFamily, options: SeedInputOptions = {}): DeviceSeed {
  const name = options.paramName ?? ((param) => param);
  const classified = classifySecretInput(text, { hex: options.hex === true, family });
  const accounts = classified.accounts;
  if (accounts.length !== 1) {
    for (const account of accounts) account.secret.fill(0);
    throw otpbError(
      "INVALID_INPUT",
      `this export holds ${accounts.length} accounts and a device entry takes one; export them one at a time, or import them as a batch`,
    );
  }
  const account = accounts[0]!;
  const fromUri = classified.source === "otpauth" || classified.source === "otpauth-migration";
  const explicit = options.explicit ?? {};
  let seed: DeviceSeed;
  if (fromUri) {
    const given = (["algorithm", "digits", "period"] as const).filter((param) => explicit[param] !== undefined);
    if (given.length > 0) {
      account.secret.fill(0);
      throw otpbError("INVALID_INPUT", `${given.map(name).join(", ")} cannot be combined with an otpauth URI, which sets ${given.length > 1 ? "them" : "it"}`, {
        detail: { param: given[0] },
      });
    }
    seed = withNames({ secret: account.secret, algorithm: account.algorithm, digits: account.digits, period: account.period, fromUri }, account);
  } else {
    seed = { secret: account.secret, ...DEFAULTS, ...definedOnly(explicit), fromUri };
  }
  const problems = checkBurnable(seed, DEVICE_CAPABILITIES[family]).filter((p) => SEED_FIELDS.has(p.field));
  if (problems.length > 0) {
    seed.secret.fill(0);
    throw otpbError("NOT_BURNABLE", `not burned: ${problems.map((p) => p.message).join("; ")}`, { detail: { problems, family } });
  }
  return seed;
}

/**
 * Refuses seeds a token cannot hold (over 63 bytes, docs/PROTOCOL.md §2.7) or that are implausibly short
 * to burn (under 10 bytes, 80 bits: the vendor burner's rule; RFC 4226 §4 asks for at least 128).
 * @throws OtpbridgeError INVALID_INPUT
 */
export function checkBurnerSeedLength(seed: Uint8Array): void {
  if (seed.length < 10 || seed.length > 63) {
    throw otpbError("INVALID_INPUT", `the seed is ${seed.length} bytes; a token takes 10 to 63 (a shorter one is probably a typing error)`, {
      detail: { param: "seed" },
    });
  }
}

function withNames(seed: DeviceSeed, account: TotpAccount): DeviceSeed {
  if (account.label !== undefined) seed.label = account.label;
  if (account.issuer !== undefined) seed.issuer = account.issuer;
  return seed;
}

function definedOnly(explicit: Partial<SeedParameters>): Partial<SeedParameters> {
  return Object.fromEntries(Object.entries(explicit).filter(([, value]) => value !== undefined));
}
