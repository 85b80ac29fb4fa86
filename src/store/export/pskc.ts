/**
 * PSKC (RFC 6030) export with encrypted secrets. Each seed is AES-128-CBC encrypted (RFC 6030 §6.1,
 * xmlenc#aes128-cbc, CipherValue = IV ‖ ciphertext) and authenticated with HMAC-SHA1 under a random
 * MAC key (§6.1.1: ValueMAC over IV ‖ ciphertext; the MAC key itself travels encrypted in
 * MACMethod/MACKey). The encryption key is either a pre-shared 16-byte key named by ds:KeyName
 * (§6.1) or derived from a password with PBKDF2-HMAC-SHA1 (§6.2, PKCS #5 v2.0).
 *
 * Keys use the TOTP algorithm profile URI urn:ietf:params:xml:ns:keyprov:pskc:totp with
 * ResponseFormat (digits, DECIMAL) and Data/TimeInterval. The RFC 6030 §11 schema makes
 * AlgorithmParameters a choice, so ResponseFormat and a hash Suite cannot both appear: only SHA-1
 * items (the profile's default hash) are exported; others are refused.
 */
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import type { XMLBuilder as XmlBuilder } from "fast-xml-parser";
import { abytes, aint } from "../../lib/checks.js";
import { otpbError } from "../../lib/errors.js";
import { atext } from "../input.js";
import type { CommittedSeed } from "../types.js";

// fast-xml-parser is loaded by the first PSKC export, not by every command that might export.
const require = createRequire(import.meta.url);

const NS = {
  pskc: "urn:ietf:params:xml:ns:keyprov:pskc",
  ds: "http://www.w3.org/2000/09/xmldsig#",
  xenc: "http://www.w3.org/2001/04/xmlenc#",
  xenc11: "http://www.w3.org/2009/xmlenc11#",
  pkcs5: "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#",
};
export const PSKC_TOTP_ALGORITHM = "urn:ietf:params:xml:ns:keyprov:pskc:totp";
export const PSKC_AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
export const PSKC_HMAC_SHA1 = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
export const PSKC_PBKDF2 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#pbkdf2";
const KEY_BYTES = 16;
const MAC_KEY_BYTES = 20;
const DEFAULT_PBKDF2_ITERATIONS = 100_000;

/** How the PSKC file's encryption key is agreed with the importer. */
export type PskcProtection =
  /** A 16-byte AES key both sides hold; `keyName` goes into ds:KeyName. The caller zeroes `key`. */
  | { kind: "preSharedKey"; key: Uint8Array; keyName: string }
  /** PBKDF2-HMAC-SHA1 of a password, random 16-byte salt; `keyName` goes into MasterKeyName. */
  | { kind: "password"; password: string; keyName: string; iterations?: number };

/** Variants of the PSKC document for importers that read more than RFC 6030's schema allows. */
export interface PskcOptions {
  /**
   * Write `<Suite hashalgo="sha1|sha256">` beside ResponseFormat, the element privacyIDEA's PSKC
   * importer reads the hash from (privacyidea lib/importotp.py parsePSKCdata). Outside the RFC 6030
   * XSD (AlgorithmParameters is a choice there), so only for that importer; allows SHA-256 items.
   */
  hashSuite?: boolean;
}

/**
 * Formats committed items as a PSKC document.
 * @throws TypeError/RangeError (INVALID_INPUT) for a pre-shared key that is not 16 bytes, an empty
 *   password or key name, or fewer than 10,000 PBKDF2 iterations; OtpbridgeError EXPORT_UNSUPPORTED for a
 *   non-SHA-1 item (without `hashSuite`) or an empty list.
 */
export function formatPskc(items: readonly CommittedSeed[], protection: PskcProtection, options: PskcOptions = {}): string {
  if (items.length === 0) {
    throw otpbError("EXPORT_UNSUPPORTED", "a PSKC document needs at least one committed item (RFC 6030 §4)");
  }
  for (const item of items) {
    if (item.algorithm !== "SHA1" && !options.hashSuite) {
      throw otpbError(
        "EXPORT_UNSUPPORTED",
        `item ${item.position + 1} (token ${item.serial}) uses ${item.algorithm}; PSKC export carries SHA-1 TOTP only (export it as otpauth URIs)`,
        { detail: { itemId: item.itemId, serial: item.serial } },
      );
    }
  }
  const { key, encryptionKey } = encryptionKeyFor(protection);
  const macKey = randomBytes(MAC_KEY_BYTES);
  try {
    const container = {
      "@_Version": "1.0",
      "@_xmlns:pskc": NS.pskc,
      "@_xmlns:ds": NS.ds,
      "@_xmlns:xenc": NS.xenc,
      ...(protection.kind === "password" ? { "@_xmlns:xenc11": NS.xenc11, "@_xmlns:pkcs5": NS.pkcs5 } : {}),
      "pskc:EncryptionKey": encryptionKey,
      "pskc:MACMethod": {
        "@_Algorithm": PSKC_HMAC_SHA1,
        "pskc:MACKey": encryptedData(encrypt(key, macKey)),
      },
      "pskc:KeyPackage": items.map((item) => keyPackage(item, key, macKey, options.hashSuite === true)),
    };
    const { XMLBuilder } = require("fast-xml-parser") as { XMLBuilder: typeof XmlBuilder };
    const builder = new XMLBuilder({
      ignoreAttributes: false,
      attributeNamePrefix: "@_",
      suppressEmptyNode: true,
      format: true,
      indentBy: "  ",
    });
    return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ "pskc:KeyContainer": container })}`;
  } finally {
    key.fill(0);
    macKey.fill(0);
  }
}

function encryptionKeyFor(protection: PskcProtection): { key: Buffer; encryptionKey: object } {
  atext(protection.keyName, "keyName", 1, 200);
  if (protection.kind === "preSharedKey") {
    abytes(protection.key, "preSharedKey", { length: KEY_BYTES });
    return { key: Buffer.from(protection.key), encryptionKey: { "ds:KeyName": protection.keyName } };
  }
  atext(protection.password, "password", 1, 1024);
  const iterations = protection.iterations ?? DEFAULT_PBKDF2_ITERATIONS;
  aint(iterations, "iterations", 10_000, 10_000_000);
  const salt = randomBytes(16);
  const password = Buffer.from(protection.password.normalize("NFC"), "utf8");
  const key = pbkdf2Sync(password, salt, iterations, KEY_BYTES, "sha1");
  password.fill(0);
  return {
    key,
    encryptionKey: {
      "xenc11:DerivedKey": {
        "xenc11:KeyDerivationMethod": {
          "@_Algorithm": PSKC_PBKDF2,
          // PKCS #5 v2.0 PBKDF2-params as RFC 6030 Figure 7 writes them; PRF omitted = HMAC-SHA1.
          "pkcs5:PBKDF2-params": {
            Salt: { Specified: salt.toString("base64") },
            IterationCount: iterations,
            KeyLength: KEY_BYTES,
          },
        },
        "xenc11:MasterKeyName": protection.keyName,
      },
    },
  };
}

function keyPackage(item: CommittedSeed, key: Buffer, macKey: Buffer, hashSuite: boolean): object {
  const cipherValue = encrypt(key, item.seed);
  const mac = createHmac("sha1", macKey).update(cipherValue).digest("base64");
  return {
    "pskc:DeviceInfo": {
      "pskc:Manufacturer": item.manufacturer,
      "pskc:SerialNo": item.serial,
      ...(item.model === null ? {} : { "pskc:Model": item.model }),
    },
    "pskc:Key": {
      "@_Id": item.serial,
      "@_Algorithm": PSKC_TOTP_ALGORITHM,
      ...(item.issuer === null ? {} : { "pskc:Issuer": item.issuer }),
      "pskc:AlgorithmParameters": {
        ...(hashSuite ? { "pskc:Suite": { "@_hashalgo": item.algorithm.toLowerCase(), "#text": `HMAC-${item.algorithm.replace("SHA", "SHA-")}` } } : {}),
        "pskc:ResponseFormat": { "@_Length": String(item.digits), "@_Encoding": "DECIMAL" },
      },
      "pskc:Data": {
        "pskc:Secret": { "pskc:EncryptedValue": encryptedData(cipherValue), "pskc:ValueMAC": mac },
        "pskc:TimeInterval": { "pskc:PlainValue": item.period },
      },
      ...(item.label === null ? {} : { "pskc:UserId": item.label }),
    },
  };
}

function encryptedData(cipherValue: Buffer): object {
  return {
    "xenc:EncryptionMethod": { "@_Algorithm": PSKC_AES128_CBC },
    "xenc:CipherData": { "xenc:CipherValue": cipherValue.toString("base64") },
  };
}

/** AES-128-CBC with a random IV and PKCS #7 padding (a valid xmlenc padding, XML Encryption §5.2). */
function encrypt(key: Buffer, plain: Uint8Array): Buffer {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-128-cbc", key, iv);
  return Buffer.concat([iv, cipher.update(plain), cipher.final()]);
}
