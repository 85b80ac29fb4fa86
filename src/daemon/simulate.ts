/**
 * `otpbridge daemon --simulate`: emulated tokens of every family in several readers, so the whole
 * API can be shown without hardware. When pcscd runs with the extra vpcd readers of
 * test/fixtures/reader.conf, the tokens go into vpcd slots and the daemon reaches them through the
 * real PC/SC stack (PcscManager, pcscd, vpcd); otherwise into in-memory readers.
 * `OTPBRIDGE_SIMULATE_LINK=memory|vpcd` forces one (tests, the load benchmark).
 *
 * Readers used on vpcd: "Virtual PCD C 00 00" (single-profile), "Virtual PCD C 00 01" (Molto2),
 * "Virtual PCD D 00 01" (OTP applet over PC/SC); "Virtual PCD D 00 00" is left empty for a card
 * inserted by hand (or by a test). vpcd readers cannot be told apart, hence the exact family rules.
 */
import { existsSync } from "node:fs";
import type { FamilyRule, PcscSource } from "../drivers/device-manager.js";
import { MemoryReaders } from "../drivers/memory-readers.js";
import { Molto2Token } from "../emulator/molto2-token.js";
import { OtpAppletKey } from "../emulator/otp-applet-key.js";
import { SingleProfileToken } from "../emulator/single-profile-token.js";
import type { Logger } from "../lib/log.js";
import { PcscManager } from "../transports/pcsc.js";
import type { VirtualCard } from "../transports/types.js";
import { insertCard, type InsertedCard } from "../transports/vpcd-bridge.js";

export interface DaemonSimulation {
  link: "vpcd" | "memory";
  pcsc: PcscSource;
  families: FamilyRule[];
  close(): Promise<void>;
}

interface SimCard {
  reader: string;
  family: FamilyRule["family"];
  card: () => VirtualCard;
  port: number;
}

/** An OTPC-P2-i keeps its seed on a clock sync; a miniOTP-3-i erases it (TOKEN2.md §2.1). */
const VPCD_CARDS: SimCard[] = [
  { reader: "Virtual PCD C 00 00", family: "single-profile", card: () => new SingleProfileToken({ serial: "86596221000002" }), port: 35967 },
  { reader: "Virtual PCD C 00 01", family: "molto2", card: () => new Molto2Token({ serial: "SIM000000000001" }), port: 35968 },
  { reader: "Virtual PCD D 00 01", family: "otp-applet", card: () => new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x01) }), port: 35970 },
];

/**
 * In memory: `singleProfile` single-profile tokens (alternately an OTPC-P2-i, which keeps its seed
 * on a clock sync, and a C302-i, which erases it: TOKEN2.md §2.1), a Molto2 and a FIDO key.
 */
function memoryCards(singleProfile: number): Array<Omit<SimCard, "port">> {
  const tokens = Array.from({ length: singleProfile }, (_, i) => {
    const serial = `${i % 2 === 0 ? "86596221" : "86596321"}${String(i + 1).padStart(6, "0")}`;
    return { reader: `Simulated Reader ${i + 1}`, family: "single-profile" as const, card: () => new SingleProfileToken({ serial }) };
  });
  return [
    ...tokens,
    { reader: "Simulated Molto2", family: "molto2", card: () => new Molto2Token({ serial: "SIM000000000001" }) },
    { reader: "Simulated FIDO Key", family: "otp-applet", card: () => new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x01) }) },
  ];
}

/** pcscd sees a vpcd card 100-420 ms after it connects (TEST-INFRA.md). */
const CARD_WAIT_MS = 3_000;

/**
 * Starts the simulation (see the module comment). `singleProfileTokens` (default 2) applies to
 * the in-memory readers; vpcd has its fixed slots.
 * @throws OtpbridgeError READER_GONE when vpcd is forced and its readers are not there.
 */
export async function startSimulation(log: Logger, singleProfileTokens = 2): Promise<DaemonSimulation> {
  const forced = process.env.OTPBRIDGE_SIMULATE_LINK;
  const socket = process.env.PCSCLITE_CSOCK_NAME ?? "/run/pcscd/pcscd.comm";
  if (forced !== "memory" && (forced === "vpcd" || existsSync(socket))) {
    const vpcd = await onVpcd(log, forced === "vpcd");
    if (vpcd !== undefined) return vpcd;
  }
  const readers = new MemoryReaders();
  const cards = memoryCards(singleProfileTokens);
  for (const sim of cards) {
    readers.addReader(sim.reader);
    readers.insert(sim.reader, sim.card());
  }
  log.info("simulation: in-memory readers", { readers: cards.length });
  return {
    link: "memory", pcsc: readers,
    families: cards.map((c) => ({ reader: c.reader, match: "exact", family: c.family })),
    close: async () => {},
  };
}

async function onVpcd(log: Logger, required: boolean): Promise<DaemonSimulation | undefined> {
  const pcsc = await PcscManager.start();
  const inserted: InsertedCard[] = [];
  try {
    for (const sim of VPCD_CARDS) inserted.push(await insertCard(sim.card(), { port: sim.port }));
    const deadline = Date.now() + CARD_WAIT_MS;
    while (Date.now() < deadline && !VPCD_CARDS.every((c) => pcsc.readers().some((r) => r.name === c.reader && r.cardPresent))) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  } catch (error) {
    log.warn("simulation: vpcd readers not usable, using in-memory readers", { error });
    for (const card of inserted) await card.remove();
    await pcsc.close();
    if (required) throw error;
    return undefined;
  }
  log.info("simulation: vpcd readers", { readers: VPCD_CARDS.map((c) => c.reader) });
  return {
    link: "vpcd", pcsc,
    families: VPCD_CARDS.map((c) => ({ reader: c.reader, match: "exact", family: c.family })),
    close: async () => {
      for (const card of inserted) await card.remove();
      await pcsc.close();
    },
  };
}
