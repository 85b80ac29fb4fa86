import { parseArgs } from "node:util";
import type { DeviceManager } from "../../drivers/device-manager.js";
import { describeRetry, holdStill, type HeldToken, type HoldStillOptions } from "../../drivers/hold-still.js";
import { SingleProfileSession, safeToRepeat, type SingleProfileInfo, type SyncTimeOptions, type SyncTimeResult } from "../../drivers/single-profile.js";
import type { Logger } from "../../lib/log.js";
import type { ApduTransport } from "../../transports/types.js";
import { otpbError } from "../../lib/errors.js";
import { DEVICE_OPTIONS_HELP, chooseToken, confirm, openDevices, parseFamilyRules, withTokenSession } from "../device-context.js";
import type { CommandContext } from "../context.js";
import type { CommandIo } from "../io.js";
import type { DeviceSeed } from "../../input/seed-input.js";
import { checkBurnerSeedLength } from "../../input/seed-input.js";
import { readSeedInput, SEED_SOURCE_HELP } from "../secret-source.js";
import { checkClockBeforeWriting, explicitParameters, SEED_OPTIONS, SETTINGS_HELP, settingsFrom, TOKEN_OPTIONS } from "./_token-options.js";

export const SYNC_TIME_HELP = `Usage: otpbridge sync-time [--reader NAME] [--check] [--algorithm ...] [--period ...] [--display ...]
                          [--wipe-seed [SEED SOURCE]] [--ntp HOST[:PORT]] [--force] [--yes] [--json] [--simulate]

Reads a single-profile token's clock drift, and sets its clock to the current UTC time.

Setting the clock is a full settings write: nothing can be read back from these tokens, so
give the algorithm, period and display the token was burned with (defaults SHA1, 30, 30).
On OTPC-P2-i, OTPC-P2-i-NB, miniOTP-3-i, miniOTP-3-i-NB and C301-i it ALSO ERASES THE SEED
(so that winding the clock back cannot replay codes): this is refused unless you pass
--wipe-seed or confirm on the terminal. Give the seed too and it is burned again right after.
If the token leaves the field, "hold the token still, retrying" is printed and the sync goes on
once the same token is back, but only from a step that is safe to repeat (a clock write that
erased the seed is not sent again unless the seed follows).

  --check                  only print the drift; write nothing
  --wipe-seed              accept that a restricted model loses its seed
${SETTINGS_HELP}
  --yes, -y                write without asking (required when there is no terminal)
  --json                   print the result as JSON
${DEVICE_OPTIONS_HELP}

Seed (optional, to burn again after the clock on a restricted model):
${SEED_SOURCE_HELP}`;

const SOURCES = ["secret", "hex", "uri", "qr", "secret-stdin", "secret-file", "secret-env"] as const;

/** `otpbridge sync-time`. */
export async function runSyncTime(argv: string[], io: CommandIo, context: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...SEED_OPTIONS, ...TOKEN_OPTIONS, check: { type: "boolean" }, "wipe-seed": { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    io.out(SYNC_TIME_HELP);
    return 0;
  }
  const seed: DeviceSeed | undefined = SOURCES.some((key) => values[key] !== undefined) ? readSeedInput(values, "single-profile", explicitParameters(values), io.readStdin) : undefined;
  try {
    if (seed !== undefined) checkBurnerSeedLength(seed.secret);
    if (seed !== undefined && values.check) throw otpbError("INVALID_INPUT", "--check writes nothing: it takes no seed");
    const settings = settingsFrom(values, seed);
    const devices = await openDevices({ simulate: values.simulate === true, families: parseFamilyRules(values.family), logger: context.logger, hid: false, reader: values.reader });
    try {
      const target = chooseToken(devices.manager.list(), values.reader);
      const logger = context.logger.child({ reader: target.reader });
      const info: SingleProfileInfo = await withTokenSession(devices.manager, target.reader, async (t) =>
        (await SingleProfileSession.open(t, { logger, expectSerial: target.serial! })).info);
      const drift = `${info.driftSeconds >= 0 ? "+" : ""}${info.driftSeconds} s`;
      if (values.check) {
        if (values.json) io.out(JSON.stringify({ reader: target.reader, serial: info.serial, model: info.model.name, clock: info.clock, driftSeconds: info.driftSeconds }, null, 2));
        else io.out(`${info.model.name} ${info.serial}: clock ${new Date(info.clock * 1000).toISOString()}, drift ${drift}`);
        return 0;
      }
      await checkClockBeforeWriting(values, io);
      let confirmSeedWipe = values["wipe-seed"] === true;
      if (info.restrictedSync && !confirmSeedWipe && io.isInteractive?.() === true) {
        await confirm(io, `The ${info.model.name} ${info.serial} ERASES ITS SEED when its clock is set${seed === undefined ? ", and no seed was given to burn again" : ""}. Continue?`, false);
        confirmSeedWipe = true;
      } else {
        await confirm(io, `Set the clock of the ${info.model.name} ${info.serial} (drift ${drift}) and re-send ${settings.algorithm}, ${settings.period} s, display ${settings.display} s?`, values.yes === true);
      }
      const held = { reader: target.reader, serial: target.serial! };
      const result = await syncHoldingStill(devices.manager, held, { ...settings, confirmSeedWipe, ...(seed !== undefined ? { reseed: seed.secret } : {}) }, io, logger);
      if (values.json) {
        io.out(JSON.stringify({ reader: target.reader, ...result }, null, 2));
        return 0;
      }
      io.out(`${result.model} ${result.serial}: clock set to ${new Date(result.time * 1000).toISOString()} (drift was ${drift})`);
      if (result.seed === "wiped") io.out("the token now holds NO seed: burn one with `otpbridge burn`");
      if (result.seed === "kept") io.out("the seed was kept");
      if (result.codes !== undefined) io.out(`seed burned again; code ${result.codes.current} (previous ${result.codes.previous}, next ${result.codes.next})`);
      return 0;
    } finally {
      await devices.close();
    }
  } finally {
    seed?.secret.fill(0);
  }
}

/**
 * The clock write on the chosen token, repeated when the token leaves the field and comes back
 * within seconds, but only from a step that is safe to repeat: a clock write that may have erased
 * the seed of a restricted model is sent again only when the seed follows (`reseed`; safeToRepeat).
 * Another token put in the reader meanwhile is refused (CARD_REMOVED {swapped}) before anything is sent.
 * @throws OtpbridgeError as SingleProfileSession.syncTime, after the retries.
 */
export function syncHoldingStill(
  manager: DeviceManager, target: HeldToken, options: SyncTimeOptions, io: CommandIo, logger: Logger,
  retry: Pick<HoldStillOptions<ApduTransport>, "attempts" | "waitMs"> = {},
): Promise<SyncTimeResult> {
  return holdStill(manager, target, async (transport: ApduTransport) => {
    const session = await SingleProfileSession.open(transport, { logger, expectSerial: target.serial });
    return session.syncTime(options);
  }, (error) => safeToRepeat(error, { seedFollows: options.reseed !== undefined }), {
    ...retry,
    connect: (fn) => withTokenSession(manager, target.reader, fn),
    onRetry: (event) => io.err(describeRetry(event)),
  });
}
