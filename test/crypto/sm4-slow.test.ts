// GB/T 32907-2016 Appendix A, example 2: K1 encrypted 1,000,000 times under its own key. Calls the
// WASM export directly (the facade's per-call copies would triple the time). 1 to 2.5 s here, so it
// runs only with OTPB_SLOW_TESTS=1 (`OTPB_SLOW_TESTS=1 npx vitest run test/crypto/sm4-slow.test.ts`).
import { describe, expect, it } from "vitest";
import { cipherCore } from "../../src/crypto/cipher-exports.js";
import { hex, toHex } from "./hex.js";

describe("SM4, slow", () => {
  it.skipIf(process.env.OTPB_SLOW_TESTS !== "1")("GM/T 0002 / GB/T 32907 example 2: 1,000,000 encryptions", () => {
    const core = cipherCore();
    const k = hex("0123456789ABCDEFFEDCBA9876543210");
    const out = core.scoped([16, 16, core.exports.sm4ScratchSize()], (keyPtr, dataPtr, scratch) => {
      core.write(keyPtr!, k);
      core.write(dataPtr!, k);
      for (let i = 0; i < 1_000_000; i++) core.exports.sm4Ecb(keyPtr!, dataPtr!, 16, 0, scratch!);
      return core.read(dataPtr!, 16);
    });
    expect(toHex(out)).toBe("595298C7C6FD271F0402F804C33D3F66");
  });
});
