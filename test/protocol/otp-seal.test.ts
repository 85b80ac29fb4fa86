import { createECDH, createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { IV_HOTP_SEED, IV_WRITE_SEED, sealedWriteApdu } from "../../src/protocol/otp-applet.js";
import { encodeHotpSlot } from "../../src/protocol/otp-entries.js";
import { p256KeyPair, seal, unseal } from "../../src/protocol/otp-seal.js";
import { expectMalformed, thrown } from "./_expect.js";
import { hex, toHex, vbytes, vec } from "./_vectors.js";

const sha256Ascii = (s: string): Uint8Array => new Uint8Array(createHash("sha256").update(s).digest());

describe("OTP-applet ECDH seal (§4.4, vector E1)", () => {
  const devicePriv = sha256Ascii("Token2 OTP applet test device key");
  const hostPriv = sha256Ascii("Token2 OTP host ephemeral #2");

  it("reproduces every E1 value", () => {
    expect(toHex(devicePriv)).toBe(vec("E1.device_priv"));
    expect(toHex(hostPriv)).toBe(vec("E1.host_priv"));
    const device = p256KeyPair(devicePriv);
    expect(toHex(device.publicKey)).toBe(vec("E1.device_pub"));
    expect(toHex(p256KeyPair(hostPriv).publicKey)).toBe(vec("E1.host_pub"));
    // The two internal steps, recomputed independently with node:crypto.
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(hostPriv);
    const shared = ecdh.computeSecret(Buffer.from(`04${vec("E1.device_pub")}`, "hex"));
    expect(shared.toString("hex").toUpperCase()).toBe(vec("E1.shared_x"));
    expect(createHash("sha256").update(shared).digest("hex").toUpperCase()).toBe(vec("E1.aes_key"));
    const cleartext = encodeHotpSlot({ digits: 6, seed: hex("48656C6C6F21DEADBEEF") });
    expect(toHex(cleartext)).toBe(vec("E1.cleartext"));
    const blob = seal(device.publicKey, cleartext, IV_HOTP_SEED, hostPriv);
    expect(toHex(blob.subarray(64))).toBe(vec("E1.ct"));
    expect(toHex(sealedWriteApdu("hotp", blob))).toBe(vec("E1.apdu"));
    expect(toHex(unseal(devicePriv, vbytes("E1.apdu").subarray(5), IV_HOTP_SEED))).toBe(vec("E1.cleartext"));
  });

  it("uses a fresh ephemeral key per seal, and round-trips every length up to 160", () => {
    const device = p256KeyPair();
    const a = seal(device.publicKey, hex("01"), IV_WRITE_SEED);
    const b = seal(device.publicKey, hex("01"), IV_WRITE_SEED);
    expect(toHex(a.subarray(0, 64))).not.toBe(toHex(b.subarray(0, 64)));
    for (const n of [0, 1, 15, 16, 17, 100, 160]) {
      const clear = Uint8Array.from({ length: n }, (_, i) => i);
      const blob = seal(device.publicKey, clear, IV_WRITE_SEED);
      expect(blob.length).toBe(64 + 16 * (Math.floor(n / 16) + 1));
      expect(unseal(device.privateKey, blob, IV_WRITE_SEED)).toEqual(clear);
    }
  });

  it("rejects points off the curve, short blobs and bad padding with typed errors", () => {
    // Deterministic keys: a wrong key gives bad PKCS#7 padding for these inputs (1 in ~256 would not).
    const device = p256KeyPair(sha256Ascii("device"));
    const blob = seal(device.publicKey, hex("0102"), IV_WRITE_SEED, sha256Ascii("ephemeral"));
    const offCurve = blob.slice();
    offCurve[10]! ^= 1;
    expectMalformed(() => unseal(device.privateKey, offCurve, IV_WRITE_SEED), "MALFORMED_COMMAND", /ephemeral public key/);
    expectMalformed(() => unseal(device.privateKey, blob.subarray(0, 79), IV_WRITE_SEED), "MALFORMED_COMMAND", /sealed blob/);
    const other = p256KeyPair(sha256Ascii("other device"));
    expectMalformed(() => unseal(other.privateKey, blob, IV_WRITE_SEED), "MALFORMED_COMMAND", /sealed blob/);
    const badDevice = device.publicKey.slice();
    badDevice[0]! ^= 1;
    expectMalformed(() => seal(badDevice, hex("01"), IV_WRITE_SEED), "MALFORMED_RESPONSE", /device public key/);
    expect(reasonOf(thrown(() => p256KeyPair(new Uint8Array(32))))).toBe("INVALID_INPUT");
    expect(reasonOf(thrown(() => seal(device.publicKey, hex("01"), new Uint8Array(8))))).toBe("INVALID_INPUT");
  });
});
