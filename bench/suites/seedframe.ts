// Seed frames, docs/PROTOCOL.md §1.3 to §1.5 and §2.7: 20-byte seeds, each frame under its own key
// (worst case for the WASM core: a key schedule per frame). Baseline: node:crypto, one frame at a
// time, exactly the full frame (pad, sm4-ecb, MAC input, sm4-cbc MAC, APDU). Against it: the WASM
// SIMD batch builder, buildSeedFrames, called once per batch (validation and copies included).
import { createCipheriv, randomBytes } from "node:crypto";
import type { BenchGroup } from "../harness.js";
import type { Suite } from "../main.js";
import { buildSeedFrames, type SeedFrameRequest } from "../../src/crypto/token2-frame.js";

const SIZES = [1, 100, 10_000];
const IV0 = Buffer.alloc(16);

function nodeFrame(r: SeedFrameRequest): Buffer {
  const padded = Buffer.alloc(32); // P(seed) for a 20-byte seed (§1.3)
  padded.set(r.seed);
  padded[20] = 0x80;
  const ecb = createCipheriv("sm4-ecb", r.key, null);
  ecb.setAutoPadding(false);
  const enc = Buffer.concat([ecb.update(padded), ecb.final()]);
  const macInput = Buffer.alloc(48); // P(80 INS P1 P2 20 ‖ enc), 37 bytes padded (§1.4)
  macInput.set([0x80, r.ins, r.p1, r.p2, enc.length]);
  macInput.set(enc, 5);
  macInput[37] = 0x80;
  const cbc = createCipheriv("sm4-cbc", r.key, IV0);
  cbc.setAutoPadding(false);
  const mac = Buffer.concat([cbc.update(macInput), cbc.final()]).subarray(32, 36);
  return Buffer.concat([Buffer.of(0x84, r.ins, r.p1, r.p2, enc.length + 4), enc, mac]);
}

function requests(n: number): SeedFrameRequest[] {
  return Array.from({ length: n }, (_, i) => ({ key: randomBytes(16), ins: 0xc5, p1: 0x01, p2: i % 100, seed: randomBytes(20) }));
}

export const suite: Suite = () => {
  const groups: BenchGroup[] = [];
  for (const n of SIZES) {
    const batch = requests(n);
    // Guard: both sides must build the same bytes, or the comparison means nothing (first 100 frames).
    const check = buildSeedFrames(batch);
    batch.slice(0, 100).forEach((r, i) => {
      if (!nodeFrame(r).equals(check[i]!)) throw new Error(`bench seedframe: WASM and node:crypto frames differ (n=${n}, i=${i})`);
    });
    groups.push({
      title: `seed frames (20-byte seeds, one key per frame), ${n} per call`,
      unit: "frames",
      baseline: `seedframe-node-${n}`,
      cases: [
        {
          name: `seedframe-node-${n}`,
          label: "node:crypto sm4-ecb + sm4-cbc, one frame at a time",
          ops: n,
          fn: () => {
            for (const r of batch) nodeFrame(r);
          },
        },
        { name: `seedframe-sm4-${n}`, label: "WASM buildSeedFrames (2 x 4 SIMD lanes)", ops: n, fn: () => void buildSeedFrames(batch) },
      ],
    });
  }
  return groups;
};
