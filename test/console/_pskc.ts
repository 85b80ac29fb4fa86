/**
 * Reads a password-protected PSKC file back (RFC 6030 §6.2 PBKDF2, §6.1 AES-128-CBC with the
 * HMAC-SHA1 ValueMAC), written here from the RFC with node:crypto, so the console's download is
 * checked by something other than the code that wrote it.
 */
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from "node:crypto";
import { DOMParser, type Element } from "@xmldom/xmldom";

const PSKC = "urn:ietf:params:xml:ns:keyprov:pskc";
const XENC = "http://www.w3.org/2001/04/xmlenc#";
const XENC11 = "http://www.w3.org/2009/xmlenc11#";
const PKCS5 = "http://www.rsasecurity.com/rsalabs/pkcs/schemas/pkcs-5v2-0#";

function child(parent: Element, ns: string, name: string): Element {
  const found = parent.getElementsByTagNameNS(ns, name)[0];
  if (found === undefined) throw new Error(`no ${name} under ${parent.localName}`);
  return found;
}

/** Serial → seed of every key package; throws on a wrong password (bad padding or MAC). */
export function readPasswordPskc(xml: string, password: string): Map<string, Buffer> {
  const root = new DOMParser().parseFromString(xml, "text/xml").documentElement!;
  const params = child(child(root, XENC11, "DerivedKey"), PKCS5, "PBKDF2-params");
  const text = (name: string): string => params.getElementsByTagName(name)[0]!.textContent!;
  const key = pbkdf2Sync(
    Buffer.from(password.normalize("NFC")),
    Buffer.from(text("Specified"), "base64"),
    Number(text("IterationCount")),
    Number(text("KeyLength")),
    "sha1",
  );
  const decrypt = (encrypted: Element): Buffer => {
    const value = Buffer.from(child(encrypted, XENC, "CipherValue").textContent!, "base64");
    const d = createDecipheriv("aes-128-cbc", key, value.subarray(0, 16));
    return Buffer.concat([d.update(value.subarray(16)), d.final()]);
  };
  const macKey = decrypt(child(child(root, PSKC, "MACMethod"), PSKC, "MACKey"));
  const out = new Map<string, Buffer>();
  for (const pkg of Array.from(root.getElementsByTagNameNS(PSKC, "KeyPackage"))) {
    const serial = child(child(pkg, PSKC, "DeviceInfo"), PSKC, "SerialNo").textContent!;
    const secret = child(child(pkg, PSKC, "Key"), PSKC, "Secret");
    const encrypted = child(secret, PSKC, "EncryptedValue");
    const mac = Buffer.from(child(secret, PSKC, "ValueMAC").textContent!, "base64");
    const expected = createHmac("sha1", macKey)
      .update(Buffer.from(child(encrypted, XENC, "CipherValue").textContent!, "base64"))
      .digest();
    if (!timingSafeEqual(mac, expected)) throw new Error(`ValueMAC mismatch for ${serial}`);
    out.set(serial, decrypt(encrypted));
  }
  return out;
}
