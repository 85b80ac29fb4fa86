// Derives the constant tables of assembly/cipher/sbox.ts from the algebraic definitions of the
// S-boxes and prints them as AssemblyScript; run `node scripts/gen-sbox-tables.mjs` to check them.
// Not part of the build: the tables are committed; the tests (K1, FIPS 197, differential against
// node:crypto) check the result.
//
// AES (FIPS 197 §5.1.1): S(x) = affine(x^-1) in GF(2^8) mod x^8+x^4+x^3+x+1.
// SM4 (GB/T 32907-2016): S(x) = A·I(A·x ⊕ D3) ⊕ D3, I = inversion mod x^8+x^7+x^6+x^5+x^4+x^2+1,
// A = the circulant bit matrix with first row 11010011. The SM4 tables evaluate I in the tower field
// GF(16)[t]/(t^2 + a·t + a) with the inversion of M. Hamburg, "Accelerating AES with vector permute
// instructions" (CHES 2009): with x = i·t + k, j = i ⊕ k,
//   io = j ⊕ 1/(1/i ⊕ a/k),  jo = i ⊕ 1/(1/j ⊕ a/k)
// (1/0 is "infinity", encoded 0x80 so that a swizzle of it returns 0), and x^-1 is GF(2)-linear in
// 1/io and 1/jo, so the output transform is two 16-entry tables. Every table is 16 entries: one swizzle.

const gmul = (a, b, poly, bits) => {
  let r = 0;
  for (; b; b >>= 1) {
    if (b & 1) r ^= a;
    a <<= 1;
    if (a & (1 << bits)) a ^= poly;
  }
  return r;
};
const inverse = (x, mul, size) => (x === 0 ? 0 : [...Array(size).keys()].find((y) => mul(x, y) === 1));
const parity = (v) => [...v.toString(2)].filter((c) => c === "1").length & 1;
const rotl8 = (v, n) => ((v << n) | (v >>> (8 - n))) & 0xff;

// AES
const aesInv = (x) => inverse(x, (a, b) => gmul(a, b, 0x11b, 8), 256);
const AES = [...Array(256).keys()].map((x) => {
  const b = aesInv(x);
  return b ^ rotl8(b, 1) ^ rotl8(b, 2) ^ rotl8(b, 3) ^ rotl8(b, 4) ^ 0x63;
});
const AES_INV = [];
AES.forEach((v, i) => (AES_INV[v] = i));

// SM4: the linear part of its affine map, bit 7 first (the standard's bit order).
const sm4A = (x) => {
  let out = 0;
  for (let i = 0; i < 8; i++) out |= parity(((0xd3 >>> i) | (0xd3 << (8 - i))) & 0xff & x) << (7 - i);
  return out;
};
const sm4Inv = (x) => inverse(x, (a, b) => gmul(a, b, 0x1f5, 8), 256);
const SM4 = [...Array(256).keys()].map((x) => sm4A(sm4Inv(sm4A(x) ^ 0xd3)) ^ 0xd3);

// The tower field. GF(16) mod x^4+x+1; a = 2 makes t^2 + a·t + a irreducible over GF(16).
const m16 = (x, y) => gmul(x, y, 0x13, 4);
const inv16 = (x) => inverse(x, m16, 16);
const A = 2;
const tmul = (x, y) => {
  const [i, k, i2, k2] = [x >> 4, x & 15, y >> 4, y & 15];
  const ii = m16(i, i2);
  return ((m16(ii, A) ^ m16(i, k2) ^ m16(k, i2)) << 4) | (m16(ii, A) ^ m16(k, k2));
};
// phi: SM4's field -> tower, x^b -> beta^b for a root beta of SM4's field polynomial.
function towerMap() {
  for (let beta = 2; beta < 256; beta++) {
    const pow = [1];
    for (let b = 1; b <= 8; b++) pow.push(tmul(pow[b - 1], beta));
    if ((pow[8] ^ pow[7] ^ pow[6] ^ pow[5] ^ pow[4] ^ pow[2] ^ pow[0]) !== 0) continue;
    const phi = (y) => pow.slice(0, 8).reduce((acc, p, b) => ((y >> b) & 1 ? acc ^ p : acc), 0);
    const back = [];
    for (let y = 0; y < 256; y++) back[phi(y)] = y;
    if (back.filter((v) => v !== undefined).length === 256) return { phi, back };
  }
  throw new Error("no root of the SM4 field polynomial in the tower field");
}
const { phi, back } = towerMap();
const nib = [...Array(16).keys()];
const INF = 0x80;
const GF16_INV = nib.map((n) => (n === 0 ? INF : inv16(n)));
const SM4_AK = nib.map((n) => (n === 0 ? INF : m16(A, inv16(n))));
// Input: y = phi(A·x ⊕ D3) = byte (i << 4 | k), split by nibbles of x (the map is affine).
const SM4_IN_LO = nib.map((n) => phi(sm4A(n)) ^ phi(0xd3));
const SM4_IN_HI = nib.map((n) => phi(sm4A(n << 4)));
// Output: with u = 1/io, w = 1/jo: x^-1 = (u/a + (u ⊕ w)/a^2)·t + u; then A·phi^-1(.) (D3 added apart).
const ia = inv16(A);
const ia2 = m16(ia, ia);
const SM4_OUT_IO = nib.map((n) => (n === 0 ? 0 : sm4A(back[((m16(inv16(n), ia) ^ m16(inv16(n), ia2)) << 4) | inv16(n)])));
const SM4_OUT_JO = nib.map((n) => (n === 0 ? 0 : sm4A(back[m16(inv16(n), ia2) << 4])));

// Self-check: the exact sequence of assembly/cipher/sbox.ts (swizzle = 0 for indices >= 16).
const sw = (t, i) => (i < 16 ? t[i] : 0);
for (let x = 0; x < 256; x++) {
  const y = sw(SM4_IN_LO, x & 15) ^ sw(SM4_IN_HI, x >> 4);
  const [i, k] = [y >> 4, y & 15];
  const [ak, j] = [sw(SM4_AK, k), i ^ k];
  const io = sw(GF16_INV, sw(GF16_INV, i) ^ ak) ^ j;
  const jo = sw(GF16_INV, sw(GF16_INV, j) ^ ak) ^ i;
  if ((sw(SM4_OUT_IO, io) ^ sw(SM4_OUT_JO, jo) ^ 0xd3) !== SM4[x]) throw new Error(`SM4 tower S-box wrong at ${x}`);
}
if (SM4[0] !== 0xd6 || SM4[255] !== 0x48 || AES[0] !== 0x63 || AES[255] !== 0x16) throw new Error("S-box spot check");

const hex = (t) => t.map((v) => `0x${v.toString(16).padStart(2, "0")}`);
const rows = (t) => [...Array(t.length / 16).keys()].map((r) => `  ${hex(t.slice(16 * r, 16 * r + 16)).join(", ")},`).join("\n");
for (const [name, table] of Object.entries({ AES_SBOX: AES, AES_INV_SBOX: AES_INV })) {
  console.log(`${name}:\n${rows(table)}`);
}
console.log(`SM4_TOWER (IN_LO, IN_HI, AK, GF16_INV, OUT_IO, OUT_JO):`);
console.log(rows([...SM4_IN_LO, ...SM4_IN_HI, ...SM4_AK, ...GF16_INV, ...SM4_OUT_IO, ...SM4_OUT_JO]));
