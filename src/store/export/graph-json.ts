/**
 * Microsoft Graph (beta) hardware OATH token upload: the body of
 * `POST /beta/directory/authenticationMethodDevices/hardwareOathDevices`, which creates many
 * hardwareOathTokenAuthenticationMethodDevice objects at once (learn.microsoft.com, "Create one or
 * more hardwareOathTokenAuthenticationMethodDevice objects"):
 *
 *   { "@context": "#$delta", "value": [ { "@contentId", "serialNumber", "manufacturer", "model",
 *     "secretKey" (base32), "timeIntervalInSeconds", "hashFunction" ("hmacsha1" | "hmacsha256"),
 *     optional "assignTo": { "id": user object id } } ] }
 *
 * Unlike the Entra CSV it carries the hash, so SHA-256 tokens can be uploaded. Numbers are written as
 * strings, as in Microsoft's own example. `assignTo` takes a user object id: a label that is a GUID
 * is put there; a UPN label goes into `displayName` for the operator to assign (our choice: the
 * documented example never shows a UPN in assignTo).
 */
// hi-base32 is CommonJS: plain Node (dist/, run-ts) sees only its default export, not named ones.
import hiBase32 from "hi-base32";
import type { CommittedSeed } from "../types.js";

const OBJECT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Formats committed items as a Graph upload body. The text holds base32 secrets: write it only to a
 * 0600 file (see exportBatch). Items are checked by the export linter first.
 */
export function formatGraphJson(items: readonly CommittedSeed[]): string {
  const value = items.map((item, i) => ({
    "@contentId": String(i + 1),
    serialNumber: item.serial,
    manufacturer: item.manufacturer,
    model: item.model ?? "",
    secretKey: hiBase32.encode(item.seed).replace(/=+$/, ""),
    timeIntervalInSeconds: String(item.period),
    hashFunction: item.algorithm === "SHA256" ? "hmacsha256" : "hmacsha1",
    ...(item.label === null ? {} : OBJECT_ID.test(item.label) ? { assignTo: { id: item.label } } : { displayName: item.label }),
  }));
  return `${JSON.stringify({ "@context": "#$delta", value }, null, 2)}\n`;
}
