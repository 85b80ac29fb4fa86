/**
 * `otpApplet.*` (docs/PROTOCOL.md §4): list, add, delete, code on a FIDO key's OTP applet, over HID or
 * PC/SC. Codes returned by list/code are one-time codes, not seeds, but they log in: they need the
 * `export` capability; `add` takes the seed from the
 * client (base32, an otpauth URI, or hex) and zeroes it after the sealed write.
 */
import type { DeviceInfo } from "../../drivers/device-manager.js";
import { OtpAppletSession } from "../../drivers/otp-applet.js";
import { otpbError } from "../../lib/errors.js";
import type { DeviceLink } from "../core.js";
import type { MethodTable } from "../rpc.js";
import { flag, int, objectParams, oneOf, onSession, optionalOneOf, optionalSeed, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";

async function open(link: DeviceLink, device: DeviceInfo): Promise<OtpAppletSession> {
  if (device.family !== "otp-applet")
    throw otpbError("WRONG_FAMILY", `this method needs an otp-applet device; ${device.id} is ${device.family ?? "unidentified"}`);
  return link.kind === "hid" ? await OtpAppletSession.openHid(link.transport) : OtpAppletSession.openPcsc(link.transport);
}

/** The `time` param: the Unix time codes are computed for (default now). */
function codeTime(params: Record<string, unknown>): number | undefined {
  return params.time === undefined ? undefined : int(params, "time", 0, Number.MAX_SAFE_INTEGER);
}

function names(params: Record<string, unknown>): { app: string; account: string } {
  const app = params.app === undefined || params.app === "" ? "" : text(params, "app", 64);
  return { app, account: text(params, "account", 64) };
}

/** @returns the `otpApplet.*` methods. */
export function otpAppletMethods(s: DaemonServices): MethodTable {
  const run = <T>(
    raw: unknown,
    client: Parameters<typeof onSession>[2],
    fn: (otp: OtpAppletSession, params: Record<string, unknown>) => Promise<T>,
  ): Promise<T> => {
    const params = objectParams(raw);
    return onSession(s.core, params, client, async (link, device) => {
      const otp = await open(link, device);
      try {
        return await fn(otp, params);
      } finally {
        await otp.close();
      }
    });
  };
  return {
    "otpApplet.list": {
      capability: "read",
      // A live code is a login factor of the user's account: it goes only to clients that may take
      // credentials out (export); a read-only page sees which accounts exist (docs/API.md "Security").
      handler: (raw, client) =>
        run(raw, client, async (otp, params) => {
          const entries = await otp.list(codeTime(params));
          return { entries: client.capabilities().has("export") ? entries : entries.map(({ code: _code, ...entry }) => entry) };
        }),
    },
    "otpApplet.code": {
      capability: "export",
      handler: (raw, client) =>
        run(raw, client, async (otp, params) => {
          const { app, account } = names(params);
          return otp.code(app, account, codeTime(params));
        }),
    },
    "otpApplet.add": {
      capability: "burn",
      handler: (raw, client) =>
        run(raw, client, async (otp, params) => {
          const { app, account } = names(params);
          const type = oneOf(params, "type", ["TOTP", "HOTP"] as const, "TOTP");
          const explicit = {
            algorithm: optionalOneOf(params, "algorithm", ["SHA1", "SHA256"] as const),
            digits: params.digits === undefined ? undefined : int(params, "digits", 4, 10),
            period: params.period === undefined || type === "HOTP" ? undefined : int(params, "period", 1, 65535),
          };
          const buttonRequired = flag(params, "buttonRequired", false);
          const seed = optionalSeed(params, "otp-applet", explicit);
          if (seed === undefined) throw otpbError("INVALID_INPUT", "seed is required", { detail: { param: "seed" } });
          try {
            if (seed.fromUri && type === "HOTP")
              throw otpbError("INVALID_INPUT", "type HOTP cannot be given with an otpauth URI, which is a TOTP account", { detail: { param: "type" } });
            await otp.add({
              app,
              account,
              seed: seed.secret,
              type,
              buttonRequired,
              // seedForDevice checked the algorithm against the applet's table.
              algorithm: seed.algorithm as "SHA1" | "SHA256",
              period: type === "TOTP" ? seed.period : 0,
              digits: seed.digits,
            });
          } finally {
            seed.secret.fill(0);
          }
          return { app, account, added: true };
        }),
    },
    "otpApplet.delete": {
      capability: "burn",
      handler: (raw, client) =>
        run(raw, client, async (otp, params) => {
          const { app, account } = names(params);
          await otp.delete(app, account);
          return { app, account, deleted: true };
        }),
    },
  };
}
