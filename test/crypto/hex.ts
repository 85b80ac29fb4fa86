/** Hex (upper case, as docs/PROTOCOL.md Appendix A prints it) to bytes and back. */
export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ""), "hex"));
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex").toUpperCase();
