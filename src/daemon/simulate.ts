/**
 * `otpbridge daemon --simulate`: emulated tokens of every family, so the whole API can be shown
 * without hardware, attached by the one simulation mechanism (src/drivers/simulation.ts).
 *
 * On vpcd (pcscd running with the extra readers of test/fixtures/reader.conf): one token of each
 * family in fixed readers, "Virtual PCD C 00 00" (single-profile), "C 00 01" (Molto2) and "D 00 01"
 * (OTP applet over PC/SC); "D 00 00" stays empty for a card inserted by hand or by a test.
 * In memory: `singleProfileTokens` single-profile tokens, a Molto2 and a FIDO key.
 */
import { startSimulation, type SimulatedCard, type Simulation } from "../drivers/simulation.js";
import { Molto2Token } from "../emulator/molto2-token.js";
import { OtpAppletKey } from "../emulator/otp-applet-key.js";
import { SingleProfileToken } from "../emulator/single-profile-token.js";
import type { Logger } from "../lib/log.js";

const VPCD_SLOTS = ["Virtual PCD C 00 00", "Virtual PCD C 00 01", "Virtual PCD D 00 01"];

/**
 * Alternately an OTPC-P2-i, which erases its seed on a clock sync, and a C302-i, which keeps it
 * (TOKEN2.md §2.1), then a Molto2 and a FIDO key.
 */
function cards(singleProfile: number): SimulatedCard[] {
  const tokens = Array.from({ length: singleProfile }, (_, i): SimulatedCard => ({
    family: "single-profile",
    name: `Simulated Reader ${i + 1}`,
    card: new SingleProfileToken({ serial: `${i % 2 === 0 ? "86596221" : "86596321"}${String(i + 1).padStart(6, "0")}` }),
  }));
  return [
    ...tokens,
    { family: "molto2", name: "Simulated Molto2", card: new Molto2Token({ serial: "SIM000000000001" }) },
    { family: "otp-applet", name: "Simulated FIDO Key", card: new OtpAppletKey({ serial: Uint8Array.of(0x51, 0x4d, 0x00, 0x01) }) },
  ];
}

/**
 * Starts the simulation (see the module comment); `OTPBRIDGE_SIMULATE_LINK=memory|vpcd` forces the link.
 * @throws OtpbridgeError PCSC_UNAVAILABLE when vpcd is forced and its readers are not free.
 */
export async function startDaemonSimulation(log: Logger, singleProfileTokens = 2): Promise<Simulation> {
  const forced = process.env.OTPBRIDGE_SIMULATE_LINK;
  if (forced !== "memory") {
    try {
      return await startSimulation(cards(1), { logger: log, link: "vpcd", slots: VPCD_SLOTS });
    } catch (error) {
      if (forced === "vpcd") throw error;
    }
  }
  return startSimulation(cards(singleProfileTokens), { logger: log, link: "memory" });
}
