// Token2 secure (CLA 84) command frames, built in batches: TOKEN2.md §1.3 to §1.5.
//
// Every frame has its own key. Four frames run side by side, one per i32 lane: each lane gets its
// own round keys, its own body blocks and its own CBC-MAC chain. A frame is
//   84 INS P1 P2 Lc ‖ E_K(P(body)) ‖ MAC,  Lc = len(enc) + 4,
// and its MAC is SM4-CBC (IV 0) over P(80 INS P1 P2 len(enc) ‖ enc), first 4 bytes of the last block.
// len(enc) = 16n, so the MAC input (5 + 16n bytes) is never block-aligned and is always padded, with
// its 80 marker right after enc: the frame is built in place in a slot laid out as that MAC input.
//
// Record layout (`stride` bytes per frame, written by the facade into zeroed memory):
//   [0, 16)   key
//   16        len(body), 0..239 (so that Lc fits one byte)
//   [32, ...) slot, 16 (n + 1) bytes for n = len(body) / 16 + 1 body blocks:
//             slot[1..4) = INS P1 P2 and slot[5 ..) = body, from the facade; everything else zero.
// On return the slot holds the frame: slot[0 .. 9 + 16n).
//
// Constant time: as in sm4.ts. The branches below depend only on body lengths, which the frame
// length reveals anyway.
import { SM4_DUMMY, SM4_MACOUT, SM4_STATE, loadLanes, sm4ExpandKeys, sm4Rounds, storeLanes } from "./sm4";

const SLOT: usize = 32;

// @ts-ignore: decorator
@inline
function blocks(record: usize): i32 {
  return (<i32>load<u8>(record, 16) >> 4) + 1;
}

/** Writes the padding markers and the MAC-input header of one record (before any encryption). */
function prepare(record: usize): void {
  const len = <usize>load<u8>(record, 16);
  const n = <usize>blocks(record);
  const slot = record + SLOT;
  store<u8>(slot + 5 + len, 0x80); //    §1.3: P(body), always padded
  store<u8>(slot, 0x80); //              §1.4: the MAC input's class byte is 80, not 84
  store<u8>(slot + 4, <u8>(16 * n)); //   L' = len(enc)
  store<u8>(slot + 5 + 16 * n, 0x80); //  §1.4: P(M), M is never aligned
}

/** Turns a slot holding the MAC input into the frame, with the MAC from `mac` (16 bytes). */
function finish(record: usize, mac: usize): void {
  const n = <usize>blocks(record);
  const slot = record + SLOT;
  store<u8>(slot, 0x84);
  store<u8>(slot + 4, <u8>(16 * n + 4)); // Lc counts the MAC (§1.5)
  store<u32>(slot + 5 + 16 * n, load<u32>(mac));
}

/**
 * Builds `count` secure frames in place in the records at `records` (layout above). Frames are
 * taken four at a time; in the last group, missing lanes repeat the last frame (identical inputs,
 * identical stores). Lanes whose body or MAC chain is shorter than the group's longest read and
 * write the scratch dummy block instead of their slot.
 */
export function token2SecureFrames(records: usize, count: i32, stride: i32, scratch: usize): void {
  for (let i = 0; i < count; i++) prepare(records + <usize>(i * stride));
  const st = scratch + SM4_STATE;
  const dummy = scratch + SM4_DUMMY;
  const macOut = scratch + SM4_MACOUT;
  for (let g = 0; g < count; g += 4) {
    const r0 = records + <usize>(g * stride);
    const r1 = records + <usize>(min(g + 1, count - 1) * stride);
    const r2 = records + <usize>(min(g + 2, count - 1) * stride);
    const r3 = records + <usize>(min(g + 3, count - 1) * stride);
    const n0 = blocks(r0);
    const n1 = blocks(r1);
    const n2 = blocks(r2);
    const n3 = blocks(r3);
    const most = max(max(n0, n1), max(n2, n3));
    sm4ExpandKeys(scratch, r0, r1, r2, r3);

    // E_K(P(body)) in place, block b of each lane at slot + 5 + 16b.
    for (let b = 0; b < most; b++) {
      const off = SLOT + 5 + 16 * <usize>b;
      const p0 = b < n0 ? r0 + off : dummy;
      const p1 = b < n1 ? r1 + off : dummy;
      const p2 = b < n2 ? r2 + off : dummy;
      const p3 = b < n3 ? r3 + off : dummy;
      loadLanes(st, p0, p1, p2, p3, false);
      sm4Rounds(scratch, false);
      storeLanes(st, p0, p1, p2, p3);
    }

    // CBC-MAC over the n + 1 blocks of each slot; a lane's last block goes to its macOut block.
    v128.store(st, i32x4.splat(0), 0);
    v128.store(st, i32x4.splat(0), 16);
    v128.store(st, i32x4.splat(0), 32);
    v128.store(st, i32x4.splat(0), 48);
    for (let b = 0; b <= most; b++) {
      const off = SLOT + 16 * <usize>b;
      loadLanes(st, b <= n0 ? r0 + off : dummy, b <= n1 ? r1 + off : dummy, b <= n2 ? r2 + off : dummy, b <= n3 ? r3 + off : dummy, true);
      sm4Rounds(scratch, false);
      if (b == n0 || b == n1 || b == n2 || b == n3) {
        storeLanes(
          st,
          b == n0 ? macOut : dummy,
          b == n1 ? macOut + 16 : dummy,
          b == n2 ? macOut + 32 : dummy,
          b == n3 ? macOut + 48 : dummy,
        );
      }
    }
    const real = min(count - g, 4);
    finish(r0, macOut);
    if (real > 1) finish(r1, macOut + 16);
    if (real > 2) finish(r2, macOut + 32);
    if (real > 3) finish(r3, macOut + 48);
  }
}
