import { parseArgs } from "node:util";
import { SingleProfileSession, type BurnResult } from "../../drivers/single-profile.js";
import { otpbError } from "../../lib/errors.js";
import { DEVICE_OPTIONS_HELP, chooseToken, confirm, openDevices, parseFamilyRules, withTokenSession } from "../device-context.js";
import type { CommandContext } from "../context.js";
import type { CommandIo } from "../io.js";
import { readSeedInput, SEED_SOURCE_HELP } from "../secret-source.js";
import { describeDeviceDrift } from "../../doctor/index.js";
import { checkClockBeforeWriting, checkSeedLength, SEED_OPTIONS, SETTINGS_HELP, settingsFrom, TOKEN_OPTIONS } from "./_token-options.js";

export const BURN_HELP = `Usage: otpbridge burn [--reader NAME] (SEED SOURCE) [--algorithm SHA1|SHA256] [--period 30|60]
                      [--display 15|30|60|120] [--ntp HOST[:PORT]] [--force] [--yes] [--json] [--simulate]

Burns a seed into a single-profile Token2 token (OTPC-P1-i, OTPC-P2-i, miniOTP-2-i/3-i,
C301-i, C302-i) on an NFC reader: authenticates, writes the settings with the current UTC
time, then the seed. Prints the token's serial, model and the code it should now show.
Tokens whose serial matches no known model are refused before anything is sent.

${SETTINGS_HELP}
  --yes, -y                burn without asking (required when there is no terminal)
  --json                   print the result as JSON
${DEVICE_OPTIONS_HELP}

${SEED_SOURCE_HELP}`;

/** `otpbridge burn`. */
export async function runBurn(argv: string[], io: CommandIo, context: CommandContext): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...SEED_OPTIONS, ...TOKEN_OPTIONS }, strict: true });
  if (values.help) {
    io.out(BURN_HELP);
    return 0;
  }
  // The seed and the settings are checked before any device is touched.
  const seed = readSeedInput(values, io.readStdin);
  try {
    checkSeedLength(seed.secret);
    const settings = settingsFrom(values, seed);
    const families = parseFamilyRules(values.family);
    const devices = await openDevices({ simulate: values.simulate === true, families, logger: context.logger, hid: false, reader: values.reader });
    try {
      const target = chooseToken(devices.manager.list(), values.reader);
      await checkClockBeforeWriting(values, io);
      await confirm(io, `Burn a new seed into the ${target.model} ${target.serial} in reader "${target.reader}"? It replaces the seed the token holds.`, values.yes === true);
      const result: BurnResult & { drift: { driftSeconds: number; message: string } } = await withTokenSession(devices.manager, target.reader, async (transport) => {
        const session = await SingleProfileSession.open(transport, { logger: context.logger.child({ reader: target.reader }) });
        if (session.info().serial !== target.serial) {
          throw otpbError("CARD_REMOVED", `the token in reader "${target.reader}" was swapped (now ${session.info().serial}); nothing was written`);
        }
        const burned = await session.burn({ seed: seed.secret, ...settings });
        // Read the clock back: the token now runs on its own RTC, so this is the drift to report.
        const after = await session.readInfo();
        return { ...burned, drift: describeDeviceDrift(after.clock, Date.now()) };
      });
      const shown = devices.simulation?.cards.get(target.reader)?.code(result.codes.time) ?? undefined;
      if (values.json) {
        io.out(JSON.stringify({ reader: target.reader, ...result, ...settings, ...(shown !== undefined ? { simulatedTokenShows: shown } : {}) }, null, 2));
        return 0;
      }
      io.out(`serial   ${result.serial}`);
      io.out(`model    ${result.model}${result.restrictedSync ? " (a clock sync erases its seed)" : ""}`);
      io.out(`reader   ${target.reader}`);
      io.out(`clock    ${result.drift.message}`);
      io.out(`code     ${result.codes.current}   (previous ${result.codes.previous}, next ${result.codes.next}; ${settings.algorithm}, ${settings.period} s)`);
      if (shown !== undefined) io.out(`simulated token shows ${shown}`);
      else io.err("Power the token off and on, then compare its code with the one above.");
      return 0;
    } finally {
      await devices.close();
    }
  } finally {
    seed.secret.fill(0);
  }
}
