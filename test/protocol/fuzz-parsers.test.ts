/**
 * Random and mutated byte strings into every parser of src/protocol (seeded, reproducible): each one
 * either returns or throws an OtpbridgeError whose reason is MALFORMED_RESPONSE / MALFORMED_COMMAND
 * and whose detail names a field. Never anything else. A read past the buffer yields undefined in
 * JS, which would surface as an undefined or NaN field in a result: {@link assertDefined} looks.
 */
import { describe, expect, it } from "vitest";
import { OtpbridgeError } from "../../src/lib/errors.js";
import { decodeCommandApdu, decodeResponseApdu } from "../../src/protocol/apdu.js";
import { HidReassembler } from "../../src/protocol/hid-frame.js";
import { parsePublicRead } from "../../src/protocol/molto2.js";
import { parseDeviceConfig, parseSerialResponse } from "../../src/protocol/otp-applet.js";
import { decodeEntryCommand, decodeEnumRequest, decodeHotpSlot, parseEntryPage, parseEntryRecord } from "../../src/protocol/otp-entries.js";
import { parseSingleProfileInfo } from "../../src/protocol/single-profile.js";
import { decodeSingleTlv, decodeTlvs } from "../../src/protocol/tlv.js";
import { parseTokenInfo } from "../../src/protocol/token-info.js";
import { parseChallenge } from "../../src/protocol/token2-auth.js";
import { IV_WRITE_SEED } from "../../src/protocol/otp-applet.js";
import { p256KeyPair, seal, unseal } from "../../src/protocol/otp-seal.js";
import { mutate } from "../emulator/_fuzz.js";
import { prng } from "../fixtures/prng.js";
import { hex, vbytes } from "./_vectors.js";

const PER_PARSER = 20_000;

/** Fails on any undefined or NaN reachable in a parse result (the trace of an out-of-bounds read). */
function assertDefined(value: unknown, path: string): void {
  if (value === undefined || (typeof value === "number" && Number.isNaN(value))) throw new Error(`${path} is ${String(value)}`);
  if (value instanceof Uint8Array || value === null || typeof value !== "object") return;
  for (const [key, inner] of Object.entries(value)) assertDefined(inner, `${path}.${key}`);
}

const hid = { response: new HidReassembler("response"), command: new HidReassembler("command") };
function frame(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(64);
  out.set(bytes.subarray(0, 64));
  return out;
}

const device = p256KeyPair(new Uint8Array(32).fill(7));
const sealed = seal(device.publicKey, hex("01C1001E0600045465737405616C6963650548656C6C6F"), IV_WRITE_SEED, new Uint8Array(32).fill(9));

const PARSERS: Array<[string, (b: Uint8Array) => unknown, Uint8Array[], number?]> = [
  ["decodeCommandApdu", decodeCommandApdu, [hex(`80CE000010${"00".repeat(16)}`), hex("80C50502000002AABB")]],
  ["decodeResponseApdu", decodeResponseApdu, [hex("9000")]],
  ["decodeTlvs", (b) => decodeTlvs(b), [vbytes("S2.tlv"), vbytes("M8.tlv")]],
  ["decodeSingleTlv", (b) => decodeSingleTlv(b, 0x81, 17, "command"), [vbytes("S2.tlv")]],
  ["parseTokenInfo", parseTokenInfo, [vbytes("S7.resp").subarray(0, 24)]],
  ["parseSingleProfileInfo", parseSingleProfileInfo, [vbytes("S7.resp").subarray(0, 24)]],
  ["parseChallenge", parseChallenge, [hex("1122334455667788")]],
  ["parsePublicRead", parsePublicRead, [vbytes("M9.resp").subarray(0, 33)]],
  ["parseDeviceConfig", parseDeviceConfig, [new Uint8Array(10), hex("04")]],
  ["parseSerialResponse", parseSerialResponse, [vbytes("O5.resp")]],
  ["parseEntryPage", parseEntryPage, [vbytes("O4.page")]],
  ["parseEntryRecord", parseEntryRecord, [hex("01C1001E0601045465737405616C696365063132333435")]],
  ["decodeEntryCommand", decodeEntryCommand, [vbytes("O2.cleartext"), vbytes("O3.cleartext")]],
  ["decodeHotpSlot", decodeHotpSlot, [vbytes("E1.cleartext"), hex("0000")]],
  ["decodeEnumRequest", decodeEnumRequest, [vbytes("O1.read_all_t0").subarray(5), hex(`01${"00".repeat(8)}01540161`)]],
  ["HidReassembler(response)", (b) => hid.response.push(frame(b)), [hex("2120020102"), hex("2101030390 00".replace(" ", "")), hex("21C0")]],
  // ECDH per call: fewer rounds keep the suite short.
  ["unseal", (b) => unseal(device.privateKey, b, IV_WRITE_SEED), [sealed], 3_000],
  ["HidReassembler(command)", (b) => hid.command.push(b.length === 65 ? b : frame(b)), [hex("21000580C5010000"), hex("21203D")]],
];

describe("fuzzing every parser", () => {
  for (const [index, [name, parse, seeds, rounds = PER_PARSER]] of PARSERS.entries()) {
    it(`${name}: ${rounds} random and mutated inputs give results or typed errors only`, () => {
      const r = prng(0xf00d + index);
      let failures = 0;
      for (let i = 0; i < rounds; i++) {
        const input = r.chance(0.4) ? r.bytes(r.int(r.chance(0.5) ? 40 : 300)) : mutate(r, r.pick(seeds));
        try {
          assertDefined(parse(input), name);
        } catch (error) {
          if (!(error instanceof OtpbridgeError) || !error.reason.startsWith("MALFORMED_") || typeof error.detail.field !== "string") {
            throw new Error(`${name}, input ${i} (${Buffer.from(input).toString("hex")}): ${String(error)}`);
          }
          failures++;
        }
      }
      // Both outcomes must occur, or the corpus is not exercising the parser.
      expect(failures).toBeGreaterThan(0);
      expect(failures).toBeLessThan(rounds);
    });
  }
});
