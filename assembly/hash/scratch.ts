// Static scratch shared by every hash function. The facade makes one call at a time (JS is single-threaded
// and never re-enters the core), so one set of regions suffices and nothing is allocated. Every exported
// function that puts key material (or anything derived from it) here calls wipeScratch() before returning.

/** Message schedule: up to 80 words of 16 bytes (4-lane v128); the scalar code uses 4- or 8-byte words. */
export const W: usize = memory.data(80 * 16, 16);
/** A second schedule: the inner HMAC block when every key shares one counter, expanded once per call. */
export const WI: usize = memory.data(80 * 16, 16);
/** Schedule of the second group when two 4-lane groups run interleaved. */
export const W2: usize = memory.data(80 * 16, 16);
/** Chaining state of the running compression: up to 8 words of 16 bytes. */
export const ST: usize = memory.data(8 * 16, 16);
/** Chaining state of the second interleaved group. */
export const ST2: usize = memory.data(8 * 16, 16);
/** Two groups of 4 keys transposed into lanes, 16 words each (the HMAC key blocks, before the pads). */
export const KT: usize = memory.data(2 * 16 * 16, 16);
/** HMAC key block K0 (RFC 2104 §2): the key, or its hash when longer than a block, zero-padded. */
export const KB: usize = memory.data(128, 16);
/** The last one or two padded blocks of a message (FIPS 180-4 §5.1). */
export const PAD: usize = memory.data(256, 16);
/** An inner HMAC digest on its way into the outer hash. */
export const DIG: usize = memory.data(64, 16);

/** Zeroes every scratch region. */
export function wipeScratch(): void {
  memory.fill(W, 0, 80 * 16);
  memory.fill(WI, 0, 80 * 16);
  memory.fill(W2, 0, 80 * 16);
  memory.fill(ST2, 0, 8 * 16);
  memory.fill(KT, 0, 2 * 16 * 16);
  memory.fill(ST, 0, 8 * 16);
  memory.fill(KB, 0, 128);
  memory.fill(PAD, 0, 256);
  memory.fill(DIG, 0, 64);
}
