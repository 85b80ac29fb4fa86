/**
 * otpauth:// key URIs (the Google Authenticator key URI format), one per line, built by the `otpauth`
 * package. The account name is the item's label, or the token serial when the item has none.
 */
import { Secret, TOTP } from "otpauth";
import type { CommittedSeed } from "../types.js";

/**
 * Formats committed items as otpauth URIs, one per line. The text holds the secrets in base32: write
 * it only to a 0600 file (see exportBatch).
 */
export function formatOtpauthUris(items: readonly CommittedSeed[]): string {
  return items
    .map((item) => {
      const copy = item.seed.slice();
      try {
        const totp = new TOTP({
          ...(item.issuer === null ? {} : { issuer: item.issuer }),
          label: item.label ?? item.serial,
          algorithm: item.algorithm === "SHA1" ? "SHA1" : "SHA256",
          digits: item.digits,
          period: item.period,
          secret: new Secret({ buffer: copy.buffer }),
        });
        return totp.toString();
      } finally {
        copy.fill(0);
      }
    })
    .map((uri) => `${uri}\n`)
    .join("");
}
