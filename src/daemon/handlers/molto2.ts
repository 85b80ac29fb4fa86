/**
 * `molto2.*` (docs/PROTOCOL.md §3): list, write, delete, syncTime, screenLock. Each call opens a
 * Molto2Session with the factory customer key unless the client sends `customerKey` (hex); the
 * session is closed (and its derived key wiped) when the call ends. The ▲-button operations (key
 * change, factory reset) are in molto2-button.ts.
 */
import type { Molto2Warning } from "../../drivers/molto2-keys.js";
import { Molto2Session, type Molto2ProfileEntry, type Molto2ProfileWrite } from "../../drivers/molto2.js";
import { otpbError } from "../../lib/errors.js";
import { parseHexSecret } from "../../input/secret.js";
import type { MethodTable } from "../rpc.js";
import type { SeedParameters } from "../../input/seed-input.js";
import { flag, int, objectParams, oneOf, onSession, optionalOneOf, optionalSeed, optionalText } from "./_params.js";
import type { DaemonServices } from "./_services.js";
import { apduOf } from "./token.js";

const DISPLAY_CODES = [0, 1, 2, 3] as const;

/** A hex key param (`customerKey`, `newCustomerKey`), or undefined when absent. @throws OtpbridgeError INVALID_INPUT. */
export function customerKey(params: Record<string, unknown>, name = "customerKey"): Uint8Array | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length > 128) throw otpbError("INVALID_INPUT", `${name} must be a hex string`, { detail: { param: name } });
  return parseHexSecret(value);
}

/**
 * Runs `fn` with a Molto2 session on the `session` param's device. The session's warnings (the
 * public factory key in use, docs/PROTOCOL.md §3.2) are added to the result as `warnings`.
 */
export function withMolto2<T extends object>(
  s: DaemonServices,
  raw: unknown,
  client: Parameters<typeof onSession>[2],
  fn: (m: Molto2Session, params: Record<string, unknown>) => Promise<T>,
): Promise<T & { warnings?: Molto2Warning[] }> {
  const params = objectParams(raw);
  const key = customerKey(params);
  return onSession(s.core, params, client, async (link, device) => {
    const molto2 = await Molto2Session.open(apduOf(link, device, "molto2").transport, key === undefined ? {} : { customerKey: key });
    try {
      const result = await fn(molto2, params);
      const warnings = molto2.warnings;
      return warnings.length > 0 ? { ...result, warnings } : result;
    } finally {
      await molto2.close();
    }
  }).finally(() => key?.fill(0));
}

/** @returns the `molto2.*` methods. */
export function molto2Methods(s: DaemonServices): MethodTable {
  return {
    "molto2.list": {
      capability: "read",
      handler: (raw, client) =>
        withMolto2(s, raw, client, async (m) => ({
          serial: m.info.serial,
          clock: m.info.clock,
          profiles: (await m.listProfiles()).map(publicBlock),
        })),
    },
    "molto2.write": {
      capability: "burn",
      handler: (raw, client) =>
        withMolto2(s, raw, client, async (m, params) => {
          const profile = int(params, "profile", 0, 99);
          const title = optionalText(params, "title", 64);
          const configParams = params.config === undefined ? undefined : objectParams(params.config);
          const explicit =
            configParams === undefined
              ? {}
              : {
                  algorithm: optionalOneOf(configParams, "algorithm", ["SHA1", "SHA256"] as const),
                  digits: optionalOneOf(configParams, "digits", [4, 6, 8, 10] as const),
                  period: optionalOneOf(configParams, "period", [30, 60] as const),
                };
          const display = configParams === undefined ? 1 : oneOf(configParams, "display", DISPLAY_CODES, 1);
          const seed = optionalSeed(params, "molto2", explicit);
          try {
            // A seed always goes with its config, as on the command line: the codes depend on it, and
            // it sets the profile's clock (docs/PROTOCOL.md §3.9). A URI seed brings its own parameters.
            const parameters = seed ?? (configParams !== undefined ? explicit : undefined);
            const write: Molto2ProfileWrite = {
              ...(seed !== undefined ? { seed: seed.secret } : {}),
              ...(title !== undefined ? { title } : {}),
              ...(parameters !== undefined ? { config: molto2Config(parameters, display) } : {}),
            };
            await m.writeProfile(profile, write, { overwrite: flag(params, "overwrite", false) });
            // Read back, as `otpbridge molto2 write` shows it.
            return { profile, written: Object.keys(write), entry: publicBlock(await m.readProfile(profile)) };
          } finally {
            seed?.secret.fill(0);
          }
        }),
    },
    "molto2.delete": {
      capability: "burn",
      handler: (raw, client) =>
        withMolto2(s, raw, client, async (m, params) => {
          const profile = int(params, "profile", 0, 99);
          await m.deleteProfile(profile);
          return { profile, deleted: true };
        }),
    },
    "molto2.syncTime": {
      capability: "burn",
      handler: (raw, client) =>
        withMolto2(s, raw, client, async (m, params) => m.syncTime(params.profile === undefined ? "all" : { profile: int(params, "profile", 0, 99) })),
    },
    "molto2.screenLock": {
      capability: "burn",
      handler: (raw, client) =>
        withMolto2(s, raw, client, async (m, params) => {
          const locked = flag(params, "locked", true);
          await m.setScreenLock(locked);
          return { locked };
        }),
    },
  };
}

/** A profile's public block as the API sends it (the title's bytes as its text). */
function publicBlock(p: Molto2ProfileEntry): {
  profile: number;
  title: string;
  flag: number;
  seedPresent: boolean;
  algorithm: string | null;
  digits: number;
  period: number;
} {
  return { profile: p.profile, title: p.title, flag: p.flag, seedPresent: p.seedPresent, algorithm: p.algorithm, digits: p.digits, period: p.period };
}

/** The profile config; parameters the client left out default to SHA1, 6 digits, 30 s. */
function molto2Config(p: Partial<SeedParameters>, display: (typeof DISPLAY_CODES)[number]): NonNullable<Molto2ProfileWrite["config"]> {
  // seedForDevice or optionalOneOf checked every value against the Molto2's table.
  return {
    display,
    algorithm: (p.algorithm ?? "SHA1") as "SHA1" | "SHA256",
    digits: (p.digits ?? 6) as 4 | 6 | 8 | 10,
    period: (p.period ?? 30) as 30 | 60,
  };
}
