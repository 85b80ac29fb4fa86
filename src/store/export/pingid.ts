/**
 * PingID / PingOne MFA OATH tokens, as the body of the batch job `POST /environments/{id}/oathJobs`
 * (developer.pingidentity.com, "OATH Tokens" and "Create multiple OATH tokens"): an array `tokens`
 * of objects with `serialNumber`, `secret`, `type` ("TOTP"), `otpLength` (6 or 8), `hashAlgorithm`
 * (HmacSHA1, HmacSHA256, HmacSHA512), `totp.timeStep` and optional `rowNumber`.
 *
 * The documentation's example secret is a hex string; we write hex [UNK: the encoding is not stated
 * in what we could read]. The label is not part of the token model (tokens are paired by users), so
 * it is left out.
 */
import type { CommittedSeed } from "../types.js";

const HASH = { SHA1: "HmacSHA1", SHA256: "HmacSHA256", SHA512: "HmacSHA512" } as const;

/** Formats committed items as a PingOne oathJobs body. Holds hex secrets: 0600 file only. */
export function formatPingIdJson(items: readonly CommittedSeed[]): string {
  const tokens = items.map((item, i) => ({
    serialNumber: item.serial,
    secret: Buffer.from(item.seed).toString("hex"),
    type: "TOTP",
    otpLength: item.digits,
    hashAlgorithm: HASH[item.algorithm],
    totp: { timeStep: item.period },
    rowNumber: i + 1,
  }));
  return `${JSON.stringify({ tokens }, null, 2)}\n`;
}
