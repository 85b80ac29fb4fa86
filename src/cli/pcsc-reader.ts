import { setTimeout as sleep } from "node:timers/promises";
import { otpbError } from "../lib/errors.js";
import { PcscManager } from "../transports/pcsc.js";
import type { ApduTransport } from "../transports/types.js";

/** How long pcscd may take to report its readers after the context comes up. */
const READERS_WAIT_MS = 1_500;

/**
 * Runs `fn` in an exclusive session on the one reader whose name contains `needle` (case
 * insensitive). Only that reader is opened; nothing is sent to any other card.
 * @throws OtpbridgeError PCSC_UNAVAILABLE (no pcscd), NO_DEVICE (no reader matches),
 *   AMBIGUOUS_DEVICE (several match: the message lists them), CARD_REMOVED, DEVICE_BUSY; what `fn` throws.
 */
export async function withMatchingReader<T>(needle: string, fn: (transport: ApduTransport, reader: string) => Promise<T>): Promise<T> {
  const manager = await PcscManager.start();
  try {
    const lower = needle.toLowerCase();
    let names: string[] = [];
    for (let waited = 0; names.length === 0 && waited <= READERS_WAIT_MS; waited += 100) {
      names = manager
        .readers()
        .map((r) => r.name)
        .filter((n) => n.toLowerCase().includes(lower));
      if (names.length === 0) await sleep(100);
    }
    if (manager.status.state !== "ready") throw otpbError("PCSC_UNAVAILABLE", manager.status.message ?? "PC/SC is not available");
    // The same reasons as for single-profile tokens (device-context.ts chooseToken): one per situation.
    if (names.length === 0) throw otpbError("NO_DEVICE", `no reader name contains ${JSON.stringify(needle)}`, { detail: { reader: needle } });
    if (names.length > 1) {
      throw otpbError("AMBIGUOUS_DEVICE", `several readers match ${JSON.stringify(needle)} (${names.join(", ")}): name one with --reader`, {
        detail: { readers: names },
      });
    }
    const reader = names[0]!;
    return await manager.withCard(reader, (transport) => fn(transport, reader));
  } finally {
    await manager.close();
  }
}
