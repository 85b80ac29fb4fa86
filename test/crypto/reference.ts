import { createHmac } from "node:crypto";
import type { HashAlgorithm } from "../../src/crypto/index.js";
import type { Prng } from "../fixtures/prng.js";

/** HOTP straight from RFC 4226 §5.3 on node:crypto: the oracle for every differential test. */
export function nodeHotp(algorithm: HashAlgorithm, key: Uint8Array, counter: bigint, digits: number): number {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(counter);
  const mac = createHmac(algorithm.replace("SHA", "sha"), key).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return digits === 10 ? binary : binary % 10 ** digits;
}

export const ALGORITHMS: readonly HashAlgorithm[] = ["SHA1", "SHA256", "SHA512"];
export const U64_MAX = (1n << 64n) - 1n;

/** Counters spread over the whole 64-bit range, with extra weight on the edges of the 32-bit halves. */
export function randomCounter(rand: Prng): bigint {
  switch (rand.int(6)) {
    case 0:
      return BigInt(rand.int(1000));
    case 1:
      return 0xffffffffn + BigInt(rand.int(5)) - 2n; // the carry between the halves
    case 2:
      return U64_MAX - BigInt(rand.int(3));
    case 3:
      return BigInt(rand.u32()) << 32n;
    case 4:
      return BigInt(Number.MAX_SAFE_INTEGER) - BigInt(rand.int(3));
    default:
      return rand.u64();
  }
}
