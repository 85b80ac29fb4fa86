/**
 * A small seeded PRNG (sfc32) so random suites reproduce: a failure message that names the seed and the
 * case index can be replayed exactly.
 */
export interface Prng {
  /** Uniform 32-bit unsigned integer. */
  u32(): number;
  /** Integer in [0, n), n <= 2^32 (bias below 2^-32 * n, irrelevant for tests). */
  int(n: number): number;
  /** Uniform 64-bit unsigned bigint. */
  u64(): bigint;
  bytes(length: number): Uint8Array;
}

export function prng(seed: number): Prng {
  let a = 0x9e3779b9, b = 0x243f6a88, c = 0xb7e15162, d = seed >>> 0;
  const u32 = (): number => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return t >>> 0;
  };
  for (let i = 0; i < 16; i++) u32();
  return {
    u32,
    int: (n) => Math.floor((u32() / 2 ** 32) * n),
    u64: () => (BigInt(u32()) << 32n) | BigInt(u32()),
    bytes(length) {
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) out[i] = u32() & 0xff;
      return out;
    },
  };
}
