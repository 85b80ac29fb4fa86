import { describe, expect, it } from "vitest";
import { wasmCore } from "../../src/crypto/wasm.js";

describe("WasmCore heap", () => {
  it("allocates aligned, zero-filled blocks and reuses freed ones", () => {
    const core = wasmCore();
    const before = core.allocatedBytes();
    const a = core.alloc(20);
    const b = core.alloc(100);
    expect(a % 16).toBe(0);
    expect(b % 16).toBe(0);
    expect(b).toBeGreaterThanOrEqual(a + 32);
    core.write(a, new Uint8Array(20).fill(0xaa));
    core.release(a);
    const c = core.alloc(16);
    expect(c).toBe(a);
    expect(core.read(c, 20)).toEqual(new Uint8Array(20));
    core.release(c);
    core.release(b);
    expect(core.allocatedBytes()).toBe(before);
  });

  it("grows memory for a large block and keeps earlier contents", () => {
    const core = wasmCore();
    const small = core.alloc(32);
    core.write(small, new Uint8Array(32).fill(7));
    const big = core.alloc(8 * 1024 * 1024);
    core.write(big + 8 * 1024 * 1024 - 1, Uint8Array.of(9));
    expect(core.read(small, 32)).toEqual(new Uint8Array(32).fill(7));
    expect(core.read(big + 8 * 1024 * 1024 - 1, 1)).toEqual(Uint8Array.of(9));
    core.release(big);
    core.release(small);
  });

  it("zeroes and frees scoped blocks even when the body throws", () => {
    const core = wasmCore();
    let seen = 0;
    expect(() =>
      core.scoped([64], (p) => {
        seen = p!;
        core.write(p!, new Uint8Array(64).fill(0x55));
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(core.view().subarray(seen, seen + 64)).toEqual(new Uint8Array(64));
    expect(() => core.release(seen)).toThrow(/not an allocated block/);
  });
});
