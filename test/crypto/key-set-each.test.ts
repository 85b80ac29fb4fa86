import { describe, expect, it } from "vitest";
import { ResidentKeySet, type PutKey } from "../../src/crypto/index.js";
import { wasmCore } from "../../src/crypto/wasm.js";
import { reasonOf } from "../../src/lib/errors.js";
import { thrownBy } from "../fixtures/errors.js";
import { prng } from "../fixtures/prng.js";
import { ALGORITHMS, nodeHotp } from "./reference.js";

const core = wasmCore();

describe("ResidentKeySet.loadEach", () => {
  it("gives node:crypto's codes and searches for keys put one at a time, in any order and of any length", () => {
    const rand = prng(0x10ade4c);
    for (let round = 0; round < 30; round++) {
      const algorithm = ALGORITHMS[round % 3]!;
      // Lengths from empty to past a block (SHA-512: 128 bytes), so some keys are hashed as they are put.
      const keys = Array.from({ length: 1 + rand.int(13) }, () => rand.bytes(rand.int(200)));
      const order = keys.map((_, i) => i).sort(() => rand.int(3) - 1);
      const before = core.allocatedBytes();
      const set = ResidentKeySet.loadEach(algorithm, keys.length, (put) => {
        for (const i of order) put(i, keys[i]!);
      });
      const counter = rand.u64() >> BigInt(rand.int(64));
      const where = `round ${round} ${algorithm}`;
      expect(Array.from(set.codes(counter, 8)), where).toEqual(keys.map((key) => nodeHotp(algorithm, key, counter, 8)));
      const planted = rand.int(keys.length);
      const code = String(nodeHotp(algorithm, keys[planted]!, counter + 1n, 6)).padStart(6, "0");
      expect(set.search(code, counter, 2), where).toContainEqual({ key: planted, offset: 1 });
      const loaded = ResidentKeySet.load(algorithm, keys);
      expect(set.search(code, counter, 2), where).toEqual(loaded.search(code, counter, 2));
      loaded.release();
      set.release();
      expect(core.allocatedBytes(), where).toBe(before);
    }
  });

  it("frees (and so zeroes) the key slots and the states when a put is refused or fill throws", () => {
    const before = core.allocatedBytes();
    const key = new Uint8Array(20).fill(7);
    const cases: Array<[string, (put: PutKey) => void]> = [
      ["never put", (put) => put(0, key)],
      [
        "put twice",
        (put) => {
          put(0, key);
          put(0, key);
        },
      ],
      ["index out of range", (put) => put(2, key)],
      ["not bytes", (put) => put(0, "JBSWY3DPEHPK3PXP" as never)],
    ];
    for (const [name, fill] of cases) {
      const thrown = thrownBy(() => ResidentKeySet.loadEach("SHA1", 2, fill));
      expect(reasonOf(thrown), name).toBe("INVALID_INPUT");
      expect((thrown as Error).message, name).not.toContain("JBSWY3DPEHPK3PXP");
      expect(core.allocatedBytes(), name).toBe(before);
    }
    const own = new Error("source failed");
    expect(
      thrownBy(() =>
        ResidentKeySet.loadEach("SHA256", 1, () => {
          throw own;
        }),
      ),
    ).toBe(own);
    expect(core.allocatedBytes()).toBe(before);

    let kept: PutKey | undefined;
    const set = ResidentKeySet.loadEach("SHA1", 1, (put) => {
      put(0, key);
      kept = put;
    });
    expect(reasonOf(thrownBy(() => kept!(0, key)))).toBe("INVALID_INPUT");
    set.release();
    expect(ResidentKeySet.loadEach("SHA1", 0, () => {}).search("123456", 5, 2)).toEqual([]);
    expect(reasonOf(thrownBy(() => ResidentKeySet.loadEach("MD5" as never, 1, () => {})))).toBe("INVALID_INPUT");
  });
});
