/**
 * `otpApplet.*` (TOKEN2.md §4): list, add, delete, code on a FIDO key's OTP applet, over HID or
 * PC/SC. Codes returned by list/code are one-time codes, not seeds; `add` takes the seed from the
 * client (base32) and zeroes it after the sealed write.
 */
import type { DeviceInfo } from "../../drivers/device-manager.js";
import { OtpAppletSession } from "../../drivers/otp-applet.js";
import { otpbError } from "../../lib/errors.js";
import type { DeviceLink } from "../core.js";
import type { MethodTable } from "../rpc.js";
import { flag, int, objectParams, oneOf, onSession, optionalSeed, text } from "./_params.js";
import type { DaemonServices } from "./_services.js";

async function open(link: DeviceLink, device: DeviceInfo): Promise<OtpAppletSession> {
  if (device.family !== "otp-applet") throw otpbError("WRONG_FAMILY", `this method needs an otp-applet device; ${device.id} is ${device.family ?? "unidentified"}`);
  return link.kind === "hid" ? OtpAppletSession.openHid(link.transport) : OtpAppletSession.openPcsc(link.transport);
}

function names(params: Record<string, unknown>): { app: string; account: string } {
  const app = params.app === undefined || params.app === "" ? "" : text(params, "app", 64);
  return { app, account: text(params, "account", 64) };
}

/** @returns the `otpApplet.*` methods. */
export function otpAppletMethods(s: DaemonServices): MethodTable {
  const run = <T>(raw: unknown, client: Parameters<typeof onSession>[2], fn: (otp: OtpAppletSession, params: Record<string, unknown>) => Promise<T>): Promise<T> => {
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
    "otpApplet.list": { capability: "read", handler: (raw, client) => run(raw, client, async (otp) => ({ entries: await otp.list() })) },
    "otpApplet.code": {
      capability: "read",
      handler: (raw, client) => run(raw, client, async (otp, params) => {
        const { app, account } = names(params);
        return otp.code(app, account);
      }),
    },
    "otpApplet.add": {
      capability: "burn",
      handler: (raw, client) => run(raw, client, async (otp, params) => {
        const { app, account } = names(params);
        const seed = optionalSeed(params);
        if (seed === undefined) throw otpbError("INVALID_INPUT", "seed (base32) is required", { detail: { param: "seed" } });
        const type = oneOf(params, "type", ["TOTP", "HOTP"] as const, "TOTP");
        try {
          await otp.add({
            app, account, seed, type,
            algorithm: oneOf(params, "algorithm", ["SHA1", "SHA256"] as const, "SHA1"),
            period: type === "TOTP" ? int(params, "period", 1, 65535, 30) : 0,
            digits: int(params, "digits", 4, 10, 6),
            buttonRequired: flag(params, "buttonRequired", false),
          });
        } finally {
          seed.fill(0);
        }
        return { app, account, added: true };
      }),
    },
    "otpApplet.delete": {
      capability: "burn",
      handler: (raw, client) => run(raw, client, async (otp, params) => {
        const { app, account } = names(params);
        await otp.delete(app, account);
        return { app, account, deleted: true };
      }),
    },
  };
}
