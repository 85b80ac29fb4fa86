/**
 * TOTP codes per second for N keys at one time step, and raw hash throughput, against node:crypto.
 *
 * Every OTP group computes the same codes (checked before timing) with: node:crypto createHmac one code
 * at a time (the baseline, dynamic truncation included), @noble/hashes hmac, otpauth TOTP.generate,
 * the WASM batch with keys copied in (hotpBatchInto: copy, derive HMAC states, 2 compressions a code,
 * zero), and the WASM batch over resident key states (ResidentKeySet.codesInto: 2 compressions a code).
 * The WASM cases write into one reused Uint32Array, as a server recomputing codes would: a fresh 40 KB
 * array per call costs 0.1-0.3 ms of page faults on these VMs, which would measure the VM, not the core.
 * Names: totp-<alg>-<method>-<n>; raw groups: <alg>-raw-1MiB-<node|wasm>.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { hmac as nobleHmac } from "@noble/hashes/hmac.js";
import { sha1 as nobleSha1 } from "@noble/hashes/legacy.js";
import { sha256 as nobleSha256, sha512 as nobleSha512 } from "@noble/hashes/sha2.js";
import * as OTPAuth from "otpauth";
import { type HashAlgorithm, ResidentKeySet, hash, hotpBatch, hotpBatchInto, totpCounter } from "../../src/crypto/index.js";
import type { BenchCase, BenchGroup } from "../harness.js";
import type { Suite } from "../main.js";

// A fixed instant, so every run hashes the same counter.
const TIME = 1_700_000_000;
const COUNTER = totpCounter({ time: TIME });
const KEY_BYTES: Record<HashAlgorithm, number> = { SHA1: 20, SHA256: 32, SHA512: 64 };
const NOBLE = { SHA1: nobleSha1, SHA256: nobleSha256, SHA512: nobleSha512 } as const;

/** Keeps results observable so no engine can drop the work. */
// biome-ignore lint/correctness/noUnusedVariables: written by every case and never read, on purpose (see above)
let sink = 0;

function truncate(mac: Uint8Array): number {
  const offset = mac[mac.length - 1]! & 0x0f;
  const bin = ((mac[offset]! & 0x7f) << 24) | (mac[offset + 1]! << 16) | (mac[offset + 2]! << 8) | mac[offset + 3]!;
  return bin % 1_000_000;
}

/** `everyMethod` false keeps node, copyin and resident only (the one-at-a-time libraries' rates do not depend on n). */
function otpGroup(algorithm: HashAlgorithm, n: number, everyMethod: boolean): BenchGroup {
  const keys = Array.from({ length: n }, () => randomBytes(KEY_BYTES[algorithm]));
  const nodeAlg = algorithm.toLowerCase();
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(COUNTER));
  const secrets = keys.map((key) => new OTPAuth.Secret({ buffer: key.buffer.slice(key.byteOffset, key.byteOffset + key.length) }));
  const noble = NOBLE[algorithm];
  // Loaded once for the life of the bench process (bench keys are random, not secrets).
  const resident = ResidentKeySet.load(algorithm, keys);
  const name = (method: string) => `totp-${algorithm.toLowerCase()}-${method}-${n}`;
  const out = new Uint32Array(n);

  const node = (i: number) => truncate(createHmac(nodeAlg, keys[i]!).update(message).digest());
  const viaNoble = (i: number) => truncate(nobleHmac(noble, keys[i]!, message));
  const viaOtpauth = (i: number) => OTPAuth.TOTP.generate({ secret: secrets[i]!, algorithm, digits: 6, period: 30, timestamp: TIME * 1000 });

  // Every method must give the node:crypto codes before any of them is timed.
  const sample = Math.min(n, 100);
  const copyin = hotpBatch(algorithm, keys, COUNTER);
  const fromSet = resident.codes(COUNTER);
  for (let i = 0; i < sample; i++) {
    const want = node(i);
    const got = [viaNoble(i), Number(viaOtpauth(i)), copyin[i], fromSet[i]];
    if (got.some((code) => code !== want)) throw new Error(`bench ${name("*")}: methods disagree at key ${i}`);
  }

  const libraries: BenchCase[] = [
    {
      name: name("noble"),
      label: "@noble/hashes hmac",
      ops: n,
      fn: () => {
        for (let i = 0; i < n; i++) sink ^= viaNoble(i);
      },
    },
    {
      name: name("otpauth"),
      label: "otpauth TOTP.generate",
      ops: n,
      fn: () => {
        for (let i = 0; i < n; i++) sink ^= viaOtpauth(i).length;
      },
    },
  ];
  const cases: BenchCase[] = [
    {
      name: name("node"),
      label: "node:crypto createHmac, one at a time",
      ops: n,
      fn: () => {
        for (let i = 0; i < n; i++) sink ^= node(i);
      },
    },
    ...(everyMethod ? libraries : []),
    {
      name: name("copyin"),
      label: "WASM batch, keys copied in",
      ops: n,
      fn: () => {
        sink ^= hotpBatchInto(out, algorithm, keys, COUNTER)[n - 1]!;
      },
    },
    {
      name: name("resident"),
      label: "WASM batch, resident key states",
      ops: n,
      fn: () => {
        sink ^= resident.codesInto(out, COUNTER)[n - 1]!;
      },
    },
  ];
  return {
    title: `TOTP ${algorithm}, ${KEY_BYTES[algorithm]}-byte keys, ${n.toLocaleString("en")} codes a call`,
    unit: "codes",
    baseline: name("node"),
    cases,
  };
}

function rawGroup(algorithm: HashAlgorithm): BenchGroup {
  const data = randomBytes(1 << 20);
  const name = (method: string) => `${algorithm.toLowerCase()}-raw-1MiB-${method}`;
  if (!Buffer.from(hash(algorithm, data)).equals(createHash(algorithm.toLowerCase()).update(data).digest())) {
    throw new Error(`bench ${name("*")}: digests disagree`);
  }
  return {
    title: `${algorithm} of 1 MiB`,
    unit: "bytes",
    baseline: name("node"),
    cases: [
      {
        name: name("node"),
        label: "node:crypto createHash",
        ops: data.length,
        fn: () => {
          sink ^= createHash(algorithm.toLowerCase()).update(data).digest()[0]!;
        },
      },
      {
        name: name("wasm"),
        label: "WASM (copy in, hash, zero)",
        ops: data.length,
        fn: () => {
          sink ^= hash(algorithm, data)[0]!;
        },
      },
    ],
  };
}

// The one-at-a-time libraries (noble, otpauth) run at 1 to 10,000 codes only: their rate does not depend on
// n, and at 100,000 each of their samples takes about a second (the 100,000 groups took 5 min with them).
// --quick keeps the whole bench (this suite and the others) well under a minute: no 100,000-code groups,
// the libraries only at 10,000, no SHA-512 raw group.
export const suite: Suite = ({ quick }) => {
  const sizes = quick ? [1, 100, 10_000] : [1, 100, 10_000, 100_000];
  const groups: BenchGroup[] = [];
  for (const algorithm of ["SHA1", "SHA256", "SHA512"] as const) {
    for (const n of sizes) groups.push(otpGroup(algorithm, n, quick ? n === 10_000 : n <= 10_000));
  }
  const raw = quick ? (["SHA1", "SHA256"] as const) : (["SHA1", "SHA256", "SHA512"] as const);
  for (const algorithm of raw) groups.push(rawGroup(algorithm));
  return groups;
};
