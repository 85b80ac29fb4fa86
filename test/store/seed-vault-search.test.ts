/**
 * SeedVault.openForSearch, the tag-less decryption a find runs over every seed: byte for byte what
 * the authenticated open() gives, for every seed length a seal takes; its scratch and key stream
 * zeroed; a tampered tag not noticed by it (by design) but by open(); a sealed seed of the wrong
 * shape refused.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { SeedVault, type SealedSeed } from "../../src/store/seed-vault.js";
import { thrownBy } from "../fixtures/errors.js";
import { TEST_SCRYPT } from "./helpers.js";

const journalId = new Uint8Array(randomBytes(16));
const vault = SeedVault.fromPassphrase("search test", new Uint8Array(randomBytes(16)), TEST_SCRYPT);

describe("SeedVault.openForSearch", () => {
  it("gives exactly what open() gives, for seeds of 1 to 64 bytes, and zeroes its scratch after each", () => {
    const seeds = Array.from({ length: 64 }, (_, i) => new Uint8Array(randomBytes(i + 1)));
    const bindings = seeds.map((_, i) => ({ journalId, batchId: 1 + (i % 3), itemId: 100 + i }));
    const sealed = seeds.map((seed, i) => vault.seal(seed, bindings[i]!));
    const seen: Array<{ bytes: number[]; view: Uint8Array }> = [];
    vault.openForSearch(
      sealed.length,
      (i) => sealed[i]!,
      (i, seed) => {
        expect(i).toBe(seen.length);
        seen.push({ bytes: [...seed], view: seed });
      },
    );
    seen.forEach(({ bytes, view }, i) => {
      expect(bytes, `seed ${i}`).toEqual([...vault.open(sealed[i]!, bindings[i]!)]);
      expect(bytes, `seed ${i}`).toEqual([...seeds[i]!]);
      expect(
        view.every((b) => b === 0),
        `scratch of seed ${i}`,
      ).toBe(true);
    });
  });

  it("does not check tags (open() does), and refuses sealed seeds of the wrong shape", () => {
    const seed = new Uint8Array(randomBytes(20));
    const binding = { journalId, batchId: 1, itemId: 7 };
    const good = vault.seal(seed, binding);
    const tampered: SealedSeed = { nonce: good.nonce, sealed: good.sealed.slice() };
    tampered.sealed[tampered.sealed.length - 1]! ^= 1;
    let got: number[] = [];
    vault.openForSearch(
      1,
      () => tampered,
      (_, s) => (got = [...s]),
    );
    expect(got).toEqual([...seed]);
    expect(reasonOf(thrownBy(() => vault.open(tampered, binding)))).toBe("SEED_TAMPERED");
    // Moved to another item: the search reads it, open() refuses it.
    expect(reasonOf(thrownBy(() => vault.open(good, { ...binding, itemId: 8 })))).toBe("SEED_TAMPERED");

    const shapes: SealedSeed[] = [
      { nonce: good.nonce.subarray(0, 11), sealed: good.sealed },
      { nonce: good.nonce, sealed: good.sealed.subarray(0, 16) },
      { nonce: good.nonce, sealed: new Uint8Array(16 + 65) },
    ];
    for (const shape of shapes) {
      const error = thrownBy(() =>
        vault.openForSearch(
          1,
          () => shape,
          () => {},
        ),
      );
      expect(reasonOf(error)).toBe("SEED_TAMPERED");
    }
    const own = new Error("use failed");
    expect(
      thrownBy(() =>
        vault.openForSearch(
          1,
          () => good,
          () => {
            throw own;
          },
        ),
      ),
    ).toBe(own);
  });
});
