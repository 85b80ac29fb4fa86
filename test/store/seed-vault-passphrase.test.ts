/**
 * SeedVault's two passphrase derivations: fromPassphraseAsync (on the thread pool, for a station
 * daemon opening shared batches) gives the very key fromPassphrase gives (same check value, opens
 * what the other sealed, NFC-normalised alike), refuses what it refuses, and leaves the event loop
 * free while it derives.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { SeedVault } from "../../src/store/seed-vault.js";
import { rejection } from "../fixtures/errors.js";
import { TEST_SCRYPT } from "./helpers.js";

const salt = new Uint8Array(randomBytes(16));
const journalId = new Uint8Array(randomBytes(16));

describe("SeedVault.fromPassphraseAsync", () => {
  it("derives the key fromPassphrase derives", async () => {
    const sync = SeedVault.fromPassphrase("Cafe\u0301 au lait", salt, TEST_SCRYPT);
    // The same words typed precomposed: NFC makes them one key.
    const pooled = await SeedVault.fromPassphraseAsync("Caf\u00e9 au lait", salt, TEST_SCRYPT);
    expect(pooled.matches(sync.checkValue(journalId), journalId)).toBe(true);
    const seed = new Uint8Array(randomBytes(20));
    const binding = { journalId, batchId: 1, itemId: 7 };
    expect(pooled.open(sync.seal(seed, binding), binding)).toEqual(seed);
    const other = await SeedVault.fromPassphraseAsync("cafe au lait", salt, TEST_SCRYPT);
    expect(other.matches(sync.checkValue(journalId), journalId)).toBe(false);
    for (const vault of [sync, pooled, other]) vault.destroy();
  });

  it("refuses what fromPassphrase refuses", async () => {
    expect(reasonOf(await rejection(SeedVault.fromPassphraseAsync("", salt, TEST_SCRYPT)))).toBe("INVALID_INPUT");
    expect(reasonOf(await rejection(SeedVault.fromPassphraseAsync("words", salt.subarray(0, 8), TEST_SCRYPT)))).toBe("INVALID_INPUT");
    expect(reasonOf(await rejection(SeedVault.fromPassphraseAsync("words", salt, { ...TEST_SCRYPT, N: 3 * 2 ** 14 })))).toBe("INVALID_INPUT");
  });

  it("leaves the event loop free while it derives", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    try {
      // 2^17 as in production: hundreds of milliseconds, during which the timer keeps firing.
      const vault = await SeedVault.fromPassphraseAsync("words", salt, { N: 2 ** 17, r: 8, p: 1 });
      vault.destroy();
    } finally {
      clearInterval(timer);
    }
    expect(ticks).toBeGreaterThan(5);
  });
});
