/**
 * Seeds at rest: AES-256-GCM (NIST SP 800-38D) under one 32-byte journal key, a fresh random 96-bit
 * nonce per seal (SP 800-38D §8.2.2: random nonces are safe far beyond any batch size here), and
 * additional authenticated data that names the journal, batch and item the ciphertext belongs to, so
 * a ciphertext copied onto another row fails authentication instead of burning the wrong seed.
 *
 * The key comes from a 0600 key file in the data directory (created on first use), or from a
 * passphrase through scrypt (RFC 7914) with a salt stored in the journal. Either way the journal keeps
 * a check value (HMAC-SHA256 of a fixed label under the key), so a wrong passphrase or a swapped key
 * file is reported as such, before any seed is touched, rather than showing up as tampered rows.
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt, scryptSync, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { readFileSync } from "node:fs";
import { abytes, aint } from "../lib/checks.js";
import { otpbError } from "../lib/errors.js";
import { inputError } from "../lib/errors.js";
import { atext } from "./input.js";
import { assertPrivateFile, createPrivateFile } from "./private-files.js";

export const SEED_KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const AAD_LABEL = Buffer.from("otpbridge/seed/v1", "ascii");
const CHECK_LABEL = Buffer.from("otpbridge/key-check/v1", "ascii");

/** scrypt cost parameters, stored in the journal next to the salt (RFC 7914 §2). */
export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

/**
 * N = 2^17, r = 8, p = 1: the current OWASP minimum for scrypt; about 0.3 s and 128 MiB once per
 * journal open, which only the daemon's start-up pays.
 */
export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 17, r: 8, p: 1 };

/** Where a sealed seed belongs; every field is authenticated with the ciphertext. */
export interface SeedBinding {
  journalId: Uint8Array;
  batchId: number;
  itemId: number;
}

/** A sealed seed as stored in the journal row: nonce, and ciphertext with its 16-byte tag appended. */
export interface SealedSeed {
  nonce: Uint8Array;
  sealed: Uint8Array;
}

/** Holds the journal key; seals and opens seeds. Call {@link SeedVault.destroy} when done. */
export class SeedVault {
  #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /**
   * Loads the 32-byte key from `path`, or creates it (0600, O_EXCL) when it is absent and `create`
   * is set. An existing key file must be owner-only: a key others can read protects nothing.
   * @throws OtpbridgeError KEY_FILE_PERMISSIONS (mode wider than 0600, or not a regular file),
   *   KEY_MISMATCH (absent while `create` is false, or not 32 bytes).
   * @example const vault = SeedVault.fromKeyFile("/var/lib/otpbridge/seed.key", { create: true });
   */
  static fromKeyFile(path: string, options: { create: boolean }): SeedVault {
    let key: Buffer;
    try {
      assertPrivateFile(path, "seed key file", "KEY_FILE_PERMISSIONS");
      key = readFileSync(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      if (!options.create) {
        throw otpbError("KEY_MISMATCH", `seed key file ${path} is missing; the journal's seeds cannot be read without the key it was created with`, {
          detail: { path },
        });
      }
      key = randomBytes(SEED_KEY_BYTES);
      createPrivateFile(path, key);
    }
    if (key.length !== SEED_KEY_BYTES) {
      const length = key.length;
      key.fill(0);
      throw otpbError("KEY_MISMATCH", `seed key file ${path} holds ${length} bytes, expected ${SEED_KEY_BYTES}`, {
        detail: { path, length },
      });
    }
    return new SeedVault(key);
  }

  /**
   * Derives the key from a passphrase with scrypt. The passphrase is NFC-normalised so the same
   * words typed on another system give the same key.
   * @throws TypeError/RangeError (INVALID_INPUT) for an empty passphrase, a salt under 16 bytes or
   *   out-of-range cost parameters.
   */
  static fromPassphrase(passphrase: string, salt: Uint8Array, params: ScryptParams): SeedVault {
    const { secret, options } = scryptInput(passphrase, salt, params);
    try {
      return new SeedVault(scryptSync(secret, salt, SEED_KEY_BYTES, options));
    } finally {
      secret.fill(0);
    }
  }

  /**
   * {@link fromPassphrase} on libuv's thread pool: a daemon deriving a key (about 0.4 s at the
   * default cost) goes on answering its clients and sending its heartbeats meanwhile.
   * @throws as {@link fromPassphrase}.
   */
  static async fromPassphraseAsync(passphrase: string, salt: Uint8Array, params: ScryptParams): Promise<SeedVault> {
    const { secret, options } = scryptInput(passphrase, salt, params);
    try {
      const key = await new Promise<Buffer>((resolve, reject) =>
        scrypt(secret, salt, SEED_KEY_BYTES, options, (error, derived) => (error ? reject(error) : resolve(derived))),
      );
      return new SeedVault(key);
    } finally {
      secret.fill(0);
    }
  }

  /** HMAC-SHA256(key, label ‖ journalId): stored once, proves later that the same key is in use. */
  checkValue(journalId: Uint8Array): Uint8Array {
    return new Uint8Array(createHmac("sha256", this.#live()).update(CHECK_LABEL).update(journalId).digest());
  }

  /** Compares a stored check value in constant time. */
  matches(stored: Uint8Array, journalId: Uint8Array): boolean {
    const mine = this.checkValue(journalId);
    return stored.length === mine.length && timingSafeEqual(stored, mine);
  }

  /**
   * Encrypts a seed for one journal row. The caller still owns (and must zero) `seed`.
   * @throws TypeError/RangeError (INVALID_INPUT) for a seed outside 1..64 bytes.
   */
  seal(seed: Uint8Array, binding: SeedBinding): SealedSeed {
    abytes(seed, "seed", { min: 1, max: 64 });
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv("aes-256-gcm", this.#live(), nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(binding));
    const body = Buffer.concat([cipher.update(seed), cipher.final(), cipher.getAuthTag()]);
    return { nonce: new Uint8Array(nonce), sealed: new Uint8Array(body) };
  }

  /**
   * Decrypts a seed. The returned array is the caller's: zero it (`seed.fill(0)`) as soon as the
   * seed has been used.
   * @throws OtpbridgeError SEED_TAMPERED when the tag does not verify (row altered, or moved from
   *   another batch, item or journal).
   */
  open(sealed: SealedSeed, binding: SeedBinding): Uint8Array {
    const { nonce, sealed: body } = sealed;
    if (nonce.length !== NONCE_BYTES || body.length <= TAG_BYTES) {
      throw otpbError("SEED_TAMPERED", `sealed seed of item ${binding.itemId} has the wrong shape`, {
        detail: { batchId: binding.batchId, itemId: binding.itemId },
      });
    }
    const decipher = createDecipheriv("aes-256-gcm", this.#live(), nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(binding));
    decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
    const head = decipher.update(body.subarray(0, body.length - TAG_BYTES));
    try {
      const tail = decipher.final();
      const seed = new Uint8Array(head.length + tail.length);
      seed.set(head);
      seed.set(tail, head.length);
      tail.fill(0);
      return seed;
    } catch (cause) {
      throw otpbError("SEED_TAMPERED", `sealed seed of item ${binding.itemId} failed authentication`, {
        detail: { batchId: binding.batchId, itemId: binding.itemId },
        cause,
      });
    } finally {
      head.fill(0);
    }
  }

  /**
   * Decrypts `count` sealed seeds for a search, WITHOUT checking their tags: AES-256-GCM's counter
   * mode alone (SP 800-38D §7.2: with a 96-bit nonce, plaintext block i is ciphertext block i XOR
   * CIPH_K(nonce ‖ [i + 1]32), i from 1), every counter block of every seed enciphered in one
   * AES-256-ECB call instead of one GCM context a seed (about 5 µs each, most of a search's time).
   * A seed read this way may have been tampered with: whatever a search reports must first be opened
   * with {@link open}, which checks the tag and the binding. Seed `i` is handed to `use(i, seed)` in
   * a scratch array zeroed when `use` returns; the key stream is zeroed before this returns.
   * @throws OtpbridgeError SEED_TAMPERED for a sealed seed of the wrong shape; whatever `use` throws.
   * @example vault.openForSearch(rows.length, (i) => rows[i], (i, seed) => put(i, seed));
   */
  openForSearch(count: number, sealedAt: (index: number) => SealedSeed, use: (index: number, seed: Uint8Array) => void): void {
    let blocks = 0;
    for (let i = 0; i < count; i++) {
      const { nonce, sealed } = sealedAt(i);
      if (nonce.length !== NONCE_BYTES || sealed.length <= TAG_BYTES || sealed.length > TAG_BYTES + 64) {
        throw otpbError("SEED_TAMPERED", `sealed seed ${i} of the search has the wrong shape`, { detail: { index: i } });
      }
      blocks += Math.ceil((sealed.length - TAG_BYTES) / 16);
    }
    const counters = Buffer.alloc(blocks * 16);
    for (let i = 0, at = 0; i < count; i++) {
      const { nonce, sealed } = sealedAt(i);
      for (let b = 0; b * 16 < sealed.length - TAG_BYTES; b++, at += 16) {
        counters.set(nonce, at);
        counters.writeUInt32BE(b + 2, at + NONCE_BYTES);
      }
    }
    const ecb = createCipheriv("aes-256-ecb", this.#live(), null);
    ecb.setAutoPadding(false);
    const stream = ecb.update(counters);
    ecb.final();
    const scratch = new Uint8Array(64);
    try {
      for (let i = 0, at = 0; i < count; i++) {
        const { sealed } = sealedAt(i);
        const length = sealed.length - TAG_BYTES;
        const seed = scratch.subarray(0, length);
        for (let j = 0; j < length; j++) seed[j] = sealed[j]! ^ stream[at + j]!;
        at += Math.ceil(length / 16) * 16;
        try {
          use(i, seed);
        } finally {
          scratch.fill(0);
        }
      }
    } finally {
      stream.fill(0);
    }
  }

  /** Zeroes the key; the vault is unusable afterwards. */
  destroy(): void {
    this.#key.fill(0);
    this.#key = Buffer.alloc(0);
  }

  #live(): Buffer {
    if (this.#key.length !== SEED_KEY_BYTES) throw new Error("SeedVault used after destroy()");
    return this.#key;
  }
}

/** The checked scrypt input: the passphrase's NFC bytes (the caller zeroes them) and the cost. */
function scryptInput(passphrase: string, salt: Uint8Array, params: ScryptParams): { secret: Buffer; options: ScryptOptions } {
  atext(passphrase, "passphrase", 1, 1024);
  abytes(salt, "salt", { min: 16, max: 64 });
  aint(params.N, "scrypt N", 2 ** 14, 2 ** 22);
  if ((params.N & (params.N - 1)) !== 0) {
    throw inputError("range", "scrypt N must be a power of two");
  }
  aint(params.r, "scrypt r", 1, 32);
  aint(params.p, "scrypt p", 1, 16);
  return {
    secret: Buffer.from(passphrase.normalize("NFC"), "utf8"),
    // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below our default cost.
    options: { N: params.N, r: params.r, p: params.p, maxmem: 256 * params.N * params.r },
  };
}

/** label ‖ journalId ‖ u64 BE batchId ‖ u64 BE itemId: fixed-width fields, so no two bindings collide. */
function aad(binding: SeedBinding): Buffer {
  const ids = Buffer.alloc(16);
  ids.writeBigUInt64BE(BigInt(binding.batchId), 0);
  ids.writeBigUInt64BE(BigInt(binding.itemId), 8);
  return Buffer.concat([AAD_LABEL, binding.journalId, ids]);
}
