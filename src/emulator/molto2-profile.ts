/**
 * One Molto2 profile as the emulator holds it, and its 33-byte public block (docs/PROTOCOL.md §3.5, §3.16).
 */

/** A profile's state; `touched` becomes true on the first write, so untouched slots read as zeros. */
export interface Molto2Profile {
  seed: Uint8Array;
  /** 16 bytes, zero-filled. */
  title: Uint8Array;
  alg: number;
  digits: number;
  step: number;
  timeB: number;
  touched: boolean;
}

/** A factory-fresh profile. */
export function emptyProfile(): Molto2Profile {
  return { seed: new Uint8Array(0), title: new Uint8Array(16), alg: 0, digits: 0, step: 0, timeB: 0, touched: false };
}

/**
 * `95 1F 70 1D ‖ flag title(16) timeA timeB alg step digits present` (§3.5). flag = 20 if the profile
 * holds a seed or a title, else 00; timeA = the device clock; an untouched profile is 29 zero bytes [EMU].
 */
export function publicBlock(profile: Molto2Profile, rtc: number): Uint8Array {
  const out = new Uint8Array(33);
  out.set([0x95, 0x1f, 0x70, 0x1d], 0);
  if (!profile.touched) return out;
  const v = out.subarray(4);
  const hasTitle = profile.title.some((b) => b !== 0);
  v[0] = profile.seed.length > 0 || hasTitle ? 0x20 : 0x00;
  v.set(profile.title, 1);
  const view = new DataView(out.buffer, 4);
  view.setUint32(17, rtc >>> 0);
  view.setUint32(21, profile.timeB >>> 0);
  v[25] = profile.alg;
  v[26] = profile.step;
  v[27] = profile.digits;
  v[28] = profile.seed.length > 0 ? 1 : 0;
  return out;
}
