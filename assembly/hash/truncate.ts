// RFC 4226 §5.3 dynamic truncation, on digests still held as big-endian words.

/** 10^d for d = 0..9; 10 digits need no reduction, as a 31-bit value is below 10^10. */
const POW10 = memory.data<u32>([1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000]);

@inline
export function reduce(bin: u32, digits: u32): u32 {
  // 6 and 8 digits (what tokens use) get a constant divisor, which V8 compiles to a multiply instead
  // of a division: the branch depends on the public digit count only.
  if (digits == 6) return bin % 1000000;
  if (digits == 8) return bin % 100000000;
  return digits >= 10 ? bin : bin % load<u32>(POW10 + (<usize>digits << 2));
}

/**
 * The HOTP code of a digest whose big-endian 32-bit word i is at `base + i * stride` (SHA-1, SHA-256).
 * The offset is the low nibble of the last digest byte, that is of the last word.
 */
@inline
export function truncate32(base: usize, stride: usize, last: u32, digits: u32): u32 {
  const offset = load<u32>(base + last * stride) & 15;
  const i = <usize>(offset >> 2);
  const pair = (<u64>load<u32>(base + i * stride) << 32) | <u64>load<u32>(base + (i + 1) * stride);
  // The 4 bytes at `offset` start (offset & 3) bytes into word i.
  const bin = <u32>(pair >> (32 - ((offset & 3) << 3))) & 0x7fffffff;
  return reduce(bin, digits);
}

/** The HOTP code of a SHA-512 digest held as 8 big-endian u64 words at `st`. */
@inline
export function truncate64(st: usize, digits: u32): u32 {
  const offset = <u32>load<u64>(st, 56) & 15;
  const i = <usize>(offset >> 3);
  const shift = <u64>((offset & 7) << 3);
  const w0 = load<u64>(st + (i << 3));
  // Offsets up to 15 end within word i + 1 (byte 18 at most), so two words always suffice.
  const x = shift == 0 ? w0 : (w0 << shift) | (load<u64>(st + (i << 3), 8) >> (64 - shift));
  return reduce(<u32>(x >> 32) & 0x7fffffff, digits);
}
