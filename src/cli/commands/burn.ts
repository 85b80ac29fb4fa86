import { parseArgs } from "node:util";
import type { DeviceManager } from "../../drivers/device-manager.js";
import { describeRetry, holdStill, type HeldToken, type HoldStillOptions } from "../../drivers/hold-still.js";
import { safeToRepeat, type SingleProfileSettings } from "../../drivers/single-profile.js";
import type { Logger } from "../../lib/log.js";
import type { ApduTransport } from "../../transports/types.js";
import { DEVICE_OPTIONS_HELP, chooseToken, confirm, openDevices, parseFamilyRules, withTokenSession } from "../device-context.js";
import type { CommandContext } from "../context.js";
import type { CommandIo } from "../io.js";
import { checkBurnerSeedLength } from "../../input/seed-input.js";
import { readSeedInput, SEED_SOURCE_HELP } from "../secret-source.js";
import { burnOneToken, type OneOffRecords, type OneOffResult } from "../../service/burn.js";
import { openJournal, JOURNAL_OPTIONS, JOURNAL_OPTIONS_HELP } from "../journal-key.js";
import { checkClockBeforeWriting, explicitParameters, SEED_OPTIONS, SETTINGS_HELP, settingsFrom, TOKEN_OPTIONS } from "./_token-options.js";

export const BURN_HELP = `Usage: otpbridge burn [--reader NAME] (SEED SOURCE) [--algorithm SHA1|SHA256] [--period 30|60]
                      [--display 15|30|60|120] [--ntp HOST[:PORT]] [--force] [--yes] [--json] [--simulate]
                      [--data-dir DIR] [--forget-seed]

Burns a seed into a single-profile Token2 token (OTPC-P1-i, OTPC-P2-i, miniOTP-2-i/3-i,
C301-i, C302-i) on an NFC reader: authenticates, writes the settings with the current UTC
time, then the seed. Prints the token's serial, model and the code it should now show.
Tokens whose serial matches no known model are refused before anything is sent. If the token
leaves the field during the burn, "hold the token still, retrying" is printed and the burn runs
again once the same token is back (twice at most, 5 s each); another token never gets it.
Every burn is recorded in the journal exactly as the daemon's token.burn records it: the seed is
sealed and bound to the token's serial before anything is written, and the item is committed once
the token's clock reads back within 2 s. --forget-seed erases the sealed seed from the journal once
the burn is committed (keep your own copy: \`otpbridge batch export\` will not have it).

${SETTINGS_HELP}
  --yes, -y                burn without asking (required when there is no terminal)
  --json                   print the result as JSON
  --forget-seed            do not keep the seed in the journal after the burn
${JOURNAL_OPTIONS_HELP}
${DEVICE_OPTIONS_HELP}

${SEED_SOURCE_HELP}`;

/** `otpbridge burn`. */
export async function runBurn(argv: string[], io: CommandIo, context: CommandContext): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { ...SEED_OPTIONS, ...TOKEN_OPTIONS, ...JOURNAL_OPTIONS, "forget-seed": { type: "boolean" } }, strict: true });
  if (values.help) {
    io.out(BURN_HELP);
    return 0;
  }
  // The seed and the settings are checked before any device is touched.
  const seed = readSeedInput(values, "single-profile", explicitParameters(values), io.readStdin);
  try {
    checkBurnerSeedLength(seed.secret);
    const settings = settingsFrom(values, seed);
    const families = parseFamilyRules(values.family);
    const devices = await openDevices({ simulate: values.simulate === true, families, logger: context.logger, hid: false, reader: values.reader });
    try {
      const target = chooseToken(devices.manager.list(), values.reader);
      await checkClockBeforeWriting(values, io);
      await confirm(io, `Burn a new seed into the ${target.model} ${target.serial} in reader "${target.reader}"? It replaces the seed the token holds.`, values.yes === true);
      // chooseToken returns only "ready" single-profile tokens, which the manager lists with their serial.
      const held = { reader: target.reader, serial: target.serial! };
      const journal = openJournal(values, io);
      let result: OneOffResult;
      try {
        result = await burnHoldingStill(devices.manager, held, { records: journal, seed: seed.secret, settings, forgetSeed: values["forget-seed"] === true }, io, context.logger);
      } finally {
        journal.close();
      }
      const shown = devices.simulation?.cards.get(target.reader)?.code(result.codes.time) ?? undefined;
      if (values.json) {
        io.out(JSON.stringify({ reader: target.reader, ...result, ...settings, ...(shown !== undefined ? { simulatedTokenShows: shown } : {}) }, null, 2));
        return 0;
      }
      io.out(`serial   ${result.serial}`);
      io.out(`model    ${result.model}${result.restrictedSync ? " (a clock sync erases its seed)" : ""}`);
      io.out(`reader   ${target.reader}`);
      io.out(`clock    ${result.clock.message}`);
      io.out(`code     ${result.codes.current}   (previous ${result.codes.previous}, next ${result.codes.next}; ${settings.algorithm}, ${settings.period} s)`);
      if (shown !== undefined) io.out(`simulated token shows ${shown}`);
      else io.err("Power the token off and on, then compare its code with the one above.");
      io.out(`journal  batch ${result.journal.batchId}, item ${result.journal.itemId}${values["forget-seed"] === true ? " (seed not kept)" : ""}`);
      return 0;
    } finally {
      await devices.close();
    }
  } finally {
    seed.secret.fill(0);
  }
}

/**
 * The one burn path (src/service/burn.ts) on the chosen token, through the journal, with the
 * device manager's hold-still retries: every step of a burn is safe to repeat from the start, since
 * the seed write always follows the config write (`safeToRepeat`, src/drivers/single-profile.ts).
 * Only the same serial gets the retry; after the burn went through, a retry only reads the clock.
 * @throws OtpbridgeError as burnOneToken, after the retries.
 */
export async function burnHoldingStill(
  manager: DeviceManager, target: HeldToken, burn: { records: OneOffRecords; seed: Uint8Array; settings: SingleProfileSettings; forgetSeed?: boolean },
  io: CommandIo, logger: Logger, retry: Pick<HoldStillOptions<ApduTransport>, "attempts" | "waitMs"> = {},
): Promise<OneOffResult> {
  const { records, seed, settings } = burn;
  return burnOneToken({
    records, log: logger.child({ reader: target.reader }), seed, ...settings, expectSerial: target.serial, forgetSeed: burn.forgetSeed === true,
    run: (attempt) => holdStill(manager, target, attempt, (error) => safeToRepeat(error, { seedFollows: true }), {
      ...retry,
      connect: (fn) => withTokenSession(manager, target.reader, fn),
      onRetry: (event) => io.err(describeRetry(event)),
    }),
  });
}
