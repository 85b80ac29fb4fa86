/** Seeded, reproducible random inputs and mutations for the fuzz suites. */
import type { Prng } from "../fixtures/prng.js";

/** Values that sit on the boundaries the parsers check. */
const INTERESTING = [
  0x00, 0x01, 0x02, 0x04, 0x08, 0x0f, 0x10, 0x1d, 0x1e, 0x1f, 0x20, 0x3c, 0x40, 0x41, 0x4b, 0x61, 0x63, 0x70, 0x7f, 0x80, 0x81, 0x82, 0x84, 0x86, 0x95, 0xa4,
  0xc0, 0xc1, 0xc2, 0xc5, 0xce, 0xd4, 0xd5, 0xd7, 0xe6, 0xff,
];

/** One to three mutations of `input`: bit flips, byte sets, truncation, extension, insertion, deletion. */
export function mutate(r: Prng, input: Uint8Array): Uint8Array {
  let out = Array.from(input);
  const rounds = 1 + r.int(3);
  for (let k = 0; k < rounds; k++) {
    const at = out.length === 0 ? 0 : r.int(out.length);
    switch (r.int(7)) {
      case 0:
        if (out.length > 0) out[at] = out[at]! ^ (1 << r.int(8));
        break;
      case 1:
        if (out.length > 0) out[at] = r.pick(INTERESTING);
        break;
      case 2:
        out = out.slice(0, r.int(out.length + 1));
        break;
      case 3:
        out.push(...r.bytes(1 + r.int(20)));
        break;
      case 4:
        out.splice(at, 0, r.pick(INTERESTING));
        break;
      case 5:
        out.splice(at, 1);
        break;
      default:
        if (out.length > 4) out[4] = r.pick(INTERESTING); // the Lc byte
    }
  }
  return Uint8Array.from(out);
}

/** A random APDU-ish byte string: mostly header-shaped, sometimes anything. */
export function randomApdu(r: Prng, classes: readonly number[], inss: readonly number[]): Uint8Array {
  if (r.chance(0.2)) return r.bytes(r.int(300));
  const body = r.bytes(r.int(r.chance(0.5) ? 40 : 270));
  const header = [
    r.chance(0.8) ? r.pick(classes) : r.int(256),
    r.chance(0.8) ? r.pick(inss) : r.int(256),
    r.pick([0, 1, 2, 5, 8, 0x0c, r.int(256)]),
    r.pick([0, 1, 2, 7, 49, 50, 99, 100, r.int(256)]),
  ];
  const lc = r.chance(0.85) ? Math.min(body.length, 255) : r.int(256);
  const tail = r.chance(0.2) ? [r.int(256)] : [];
  return Uint8Array.from([...header, ...(body.length > 0 || r.chance(0.3) ? [lc] : []), ...body.subarray(0, 255), ...tail]);
}
