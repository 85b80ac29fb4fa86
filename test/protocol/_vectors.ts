import { readFileSync } from "node:fs";

/** The `ID.field = HEX` lines of docs/PROTOCOL.md appendices A and B, as one map ("S1.apdu" -> value). */
export const VECTORS: ReadonlyMap<string, string> = new Map(
  readFileSync(new URL("../vectors/token2-appendix.txt", import.meta.url), "utf8")
    .split("\n")
    .filter((line) => /^[A-Z][A-Z0-9]*\.[a-z0-9_]+ = /.test(line))
    .map((line) => {
      const [key, value] = line.split(" = ") as [string, string];
      return [key, value.trim()];
    }),
);

/** The vector named `key` as a string; throws if the file lacks it, so a typo cannot pass silently. */
export function vec(key: string): string {
  const value = VECTORS.get(key);
  if (value === undefined) throw new Error(`no vector ${key}`);
  return value;
}

/** The vector named `key` as bytes. */
export function vbytes(key: string): Uint8Array {
  return hex(vec(key));
}

/** Hex (any case, spaces allowed) to bytes. */
export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
}

/** Bytes to upper-case hex, as the appendix writes them. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("hex").toUpperCase();
}
