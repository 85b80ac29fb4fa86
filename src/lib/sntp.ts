/**
 * A minimal SNTP client (RFC 4330): one 48-byte mode-3 request, the reply's four timestamps, the
 * clock offset and round-trip delay. No well-kept SNTP client is on npm (the `sntp` package is an
 * unmaintained 2017 hapi module with deprecated dependencies), so these few lines are ours.
 */
import { createSocket } from "node:dgram";
import { isIPv6 } from "node:net";
import { otpbError } from "./errors.js";

/** Seconds from the NTP era (1900-01-01) to the Unix epoch (RFC 4330 §3). */
const NTP_UNIX_OFFSET = 2_208_988_800;
const PACKET_BYTES = 48;

export interface SntpOptions {
  port?: number;
  /** Give up after this long without a valid reply (default 3000 ms). */
  timeoutMs?: number;
  /** The local clock, in Unix milliseconds (tests may shift it). */
  now?: () => number;
}

export interface SntpResult {
  /** Server clock minus local clock, ms: positive means the local clock is behind. */
  offsetMs: number;
  /** Round-trip delay, ms, minus the server's processing time. */
  delayMs: number;
  stratum: number;
}

function writeTimestamp(buf: Buffer, offset: number, unixMs: number): void {
  const seconds = Math.floor(unixMs / 1000) + NTP_UNIX_OFFSET;
  const fraction = Math.round(((unixMs % 1000) / 1000) * 2 ** 32) >>> 0;
  buf.writeUInt32BE(seconds >>> 0, offset);
  buf.writeUInt32BE(fraction, offset + 4);
}

function readTimestamp(buf: Buffer, offset: number): number {
  return (buf.readUInt32BE(offset) - NTP_UNIX_OFFSET) * 1000 + (buf.readUInt32BE(offset + 4) / 2 ** 32) * 1000;
}

/**
 * Asks `host` for the time once.
 * @throws OtpbridgeError NTP_UNAVAILABLE on timeout, a name that does not resolve, or a reply that
 *   RFC 4330 §5 says to discard (wrong mode, stratum 0 "kiss-o'-death", originate timestamp not ours,
 *   zero transmit timestamp, leap indicator 3 = server unsynchronised).
 * @example const { offsetMs } = await sntpQuery("pool.ntp.org");
 */
export function sntpQuery(host: string, options: SntpOptions = {}): Promise<SntpResult> {
  const port = options.port ?? 123;
  const timeoutMs = options.timeoutMs ?? 3000;
  const now = options.now ?? Date.now;
  const socket = createSocket(isIPv6(host) ? "udp6" : "udp4");
  return new Promise<SntpResult>((resolve, reject) => {
    const request = Buffer.alloc(PACKET_BYTES);
    request[0] = (0 << 6) | (4 << 3) | 3; // LI 0, version 4, mode 3 (client)
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      socket.close();
      return true;
    };
    const fail = (message: string, cause?: unknown): void => {
      if (!finish()) return;
      reject(otpbError("NTP_UNAVAILABLE", `NTP server ${host}: ${message}`, { detail: { host, port }, ...(cause ? { cause } : {}) }));
    };
    const timer = setTimeout(() => fail(`no valid answer within ${timeoutMs} ms`), timeoutMs);
    socket.on("error", (error) => fail((error as NodeJS.ErrnoException).code ?? error.message, error));
    socket.on("message", (reply) => {
      const t4 = now();
      if (reply.length < PACKET_BYTES) return;
      // The originate timestamp must echo our transmit timestamp (RFC 4330 §5), else it is not our answer.
      if (!reply.subarray(24, 32).equals(request.subarray(40, 48))) return;
      const leap = reply[0]! >> 6;
      const mode = reply[0]! & 7;
      const stratum = reply[1]!;
      if (mode !== 4) return fail(`answered in mode ${mode}, not 4 (server)`);
      if (stratum === 0 || stratum > 15) return fail(`sent a kiss-o'-death or invalid stratum (${stratum})`);
      if (leap === 3) return fail("says its own clock is not synchronised");
      if (reply.readUInt32BE(40) === 0 && reply.readUInt32BE(44) === 0) return fail("sent a zero transmit timestamp");
      const t1 = readTimestamp(request, 40);
      const t2 = readTimestamp(reply, 32);
      const t3 = readTimestamp(reply, 40);
      if (!finish()) return;
      // RFC 4330 §5: d = (T4 - T1) - (T3 - T2), t = ((T2 - T1) + (T3 - T4)) / 2.
      resolve({ offsetMs: (t2 - t1 + (t3 - t4)) / 2, delayMs: t4 - t1 - (t3 - t2), stratum });
    });
    writeTimestamp(request, 40, now());
    socket.send(request, port, host, (error) => {
      if (error) fail((error as NodeJS.ErrnoException).code ?? error.message, error);
    });
  });
}

/**
 * An NTP server as given on the command line: `host`, `host:port`, `[v6]` or `[v6]:port`.
 * @throws OtpbridgeError INVALID_INPUT, naming `flag`.
 * @example parseServerAddress("127.0.0.1:1123", "--ntp") // { host: "127.0.0.1", port: 1123 }
 */
export function parseServerAddress(text: string, flag: string): { host: string; port?: number } {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(text.trim());
  const port = match?.[3] === undefined ? undefined : Number(match[3]);
  if (!match || (port !== undefined && (port < 1 || port > 65535))) {
    throw otpbError("INVALID_INPUT", `${flag} must be HOST, HOST:PORT or [IPv6]:PORT, got ${JSON.stringify(text)}`);
  }
  const host = match[1] ?? match[2]!;
  return port === undefined ? { host } : { host, port };
}
