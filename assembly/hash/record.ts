// Search results: (key index, step) u32 pairs, counted past the buffer's capacity so the facade can
// rerun a search with a buffer of the exact size.

/** Appends (key, step) to `out` while under `cap` pairs; returns the new match count. */
@inline
export function record(out: usize, cap: u32, found: u32, key: u32, step: u32): u32 {
  if (found < cap) {
    store<u32>(out + (<usize>found << 3), key);
    store<u32>(out + (<usize>found << 3), step, 4);
  }
  return found + 1;
}
