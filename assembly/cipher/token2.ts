// Token2 secure (CLA 84) command frames, built in batches: docs/PROTOCOL.md §1.3 to §1.5.
//
// Every frame has its own key. Frames run side by side, one per i32 lane, eight at a time as two
// interleaved groups of four (sm4.ts explains why): each lane gets its own round keys, its own body
// blocks and its own CBC-MAC chain. A last group of four or fewer runs alone. A frame is
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
import {
  SM4_DUMMY,
  SM4_LANES,
  SM4_MACOUT,
  SM4_RK,
  SM4_RK_B,
  SM4_STATE,
  SM4_STATE_B,
  loadLanes,
  sm4ExpandKeys,
  sm4ExpandKeys2,
  sm4Rounds,
  sm4Rounds2,
  storeLanes,
} from "./sm4";

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

// Lane table in scratch: lane l's record pointer at SM4_LANES + 8l, its body block count at + 4.
// @ts-ignore: decorator
@inline
function laneRecord(scratch: usize, lane: usize): usize {
  return <usize>load<u32>(scratch + SM4_LANES + 8 * lane);
}
// @ts-ignore: decorator
@inline
function laneBlocks(scratch: usize, lane: usize): i32 {
  return load<i32>(scratch + SM4_LANES + 8 * lane, 4);
}

/** Block b of lane l at `offset` in its record if the lane has such a block (b < limit), else the dummy. */
// @ts-ignore: decorator
@inline
function at(scratch: usize, lane: usize, b: i32, limitExtra: i32, offset: usize): usize {
  return b < laneBlocks(scratch, lane) + limitExtra ? laneRecord(scratch, lane) + offset : scratch + SM4_DUMMY;
}

/** loadLanes for the four lanes from `first`, each at its block b (see `at`). */
// @ts-ignore: decorator
@inline
function loadQuad(scratch: usize, st: usize, first: usize, b: i32, limitExtra: i32, offset: usize, xorIn: bool): void {
  loadLanes(
    st,
    at(scratch, first, b, limitExtra, offset),
    at(scratch, first + 1, b, limitExtra, offset),
    at(scratch, first + 2, b, limitExtra, offset),
    at(scratch, first + 3, b, limitExtra, offset),
    xorIn,
  );
}

/** storeLanes for the four lanes from `first`, each at its block b (see `at`). */
// @ts-ignore: decorator
@inline
function storeQuad(scratch: usize, st: usize, first: usize, b: i32, offset: usize): void {
  storeLanes(
    st,
    at(scratch, first, b, 0, offset),
    at(scratch, first + 1, b, 0, offset),
    at(scratch, first + 2, b, 0, offset),
    at(scratch, first + 3, b, 0, offset),
  );
}

/** Lane l's MAC block if block b was its last MAC block (b == n), else the dummy. */
// @ts-ignore: decorator
@inline
function macTarget(scratch: usize, lane: usize, b: i32): usize {
  return b == laneBlocks(scratch, lane) ? scratch + SM4_MACOUT + 16 * lane : scratch + SM4_DUMMY;
}

// @ts-ignore: decorator
@inline
function zeroState(st: usize): void {
  v128.store(st, i32x4.splat(0), 0);
  v128.store(st, i32x4.splat(0), 16);
  v128.store(st, i32x4.splat(0), 32);
  v128.store(st, i32x4.splat(0), 48);
}

/**
 * Builds `count` secure frames in place in the records at `records` (layout above). In a group,
 * missing lanes repeat the last frame (identical inputs, identical stores). Lanes whose body or
 * MAC chain is shorter than the group's longest read and write the scratch dummy block instead.
 */
export function token2SecureFrames(records: usize, count: i32, stride: i32, scratch: usize): void {
  for (let i = 0; i < count; i++) prepare(records + <usize>(i * stride));
  const rkA = scratch + SM4_RK;
  const rkB = scratch + SM4_RK_B;
  const stA = scratch + SM4_STATE;
  const stB = scratch + SM4_STATE_B;
  for (let g = 0; g < count; g += 8) {
    const two = count - g > 4;
    let most = 0;
    for (let l = 0; l < 8; l++) {
      const record = records + <usize>(min(g + l, count - 1) * stride);
      const n = blocks(record);
      store<u32>(scratch + SM4_LANES + 8 * <usize>l, <u32>record);
      store<i32>(scratch + SM4_LANES + 8 * <usize>l, n, 4);
      if (l < 4 || two) most = max(most, n);
    }

    // Keys: lane l's key is the first 16 bytes of its record.
    loadQuad(scratch, stA, 0, 0, 1, 0, false);
    if (two) {
      loadQuad(scratch, stB, 4, 0, 1, 0, false);
      sm4ExpandKeys2(rkA, stA, rkB, stB);
    } else {
      sm4ExpandKeys(rkA, stA);
    }

    // E_K(P(body)) in place, block b of each lane at slot + 5 + 16b.
    for (let b = 0; b < most; b++) {
      const offset = SLOT + 5 + 16 * <usize>b;
      loadQuad(scratch, stA, 0, b, 0, offset, false);
      if (two) {
        loadQuad(scratch, stB, 4, b, 0, offset, false);
        sm4Rounds2(rkA, stA, rkB, stB);
        storeQuad(scratch, stB, 4, b, offset);
      } else {
        sm4Rounds(rkA, stA, false);
      }
      storeQuad(scratch, stA, 0, b, offset);
    }

    // CBC-MAC over the n + 1 blocks of each slot; the chain of a lane ends at b == n.
    zeroState(stA);
    zeroState(stB);
    for (let b = 0; b <= most; b++) {
      const offset = SLOT + 16 * <usize>b;
      loadQuad(scratch, stA, 0, b, 1, offset, true);
      if (two) {
        loadQuad(scratch, stB, 4, b, 1, offset, true);
        sm4Rounds2(rkA, stA, rkB, stB);
        storeLanes(stB, macTarget(scratch, 4, b), macTarget(scratch, 5, b), macTarget(scratch, 6, b), macTarget(scratch, 7, b));
      } else {
        sm4Rounds(rkA, stA, false);
      }
      storeLanes(stA, macTarget(scratch, 0, b), macTarget(scratch, 1, b), macTarget(scratch, 2, b), macTarget(scratch, 3, b));
    }
    const real = min(count - g, 8);
    for (let l = 0; l < real; l++) finish(laneRecord(scratch, l), scratch + SM4_MACOUT + 16 * <usize>l);
  }
}
