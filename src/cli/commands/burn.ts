import { parseArgs } from "node:util";
import type { DaemonClient } from "../../client/daemon-client.js";
import type { DeviceInfo, DeviceManager } from "../../drivers/device-manager.js";
import { describeRetry, holdStill, type HeldToken, type HoldStillOptions, type RetryEvent } from "../../drivers/hold-still.js";
import { safeToRepeat, type SingleProfileSettings } from "../../drivers/single-profile.js";
import type { Logger } from "../../lib/log.js";
import type { ApduTransport } from "../../transports/types.js";
import { DEVICE_OPTIONS_HELP, chooseToken, confirm, devicesFor, withTokenSession } from "../device-context.js";
import type { CommandContext } from "../context.js";
import type { CommandIo } from "../io.js";
import { checkBurnerSeedLength } from "../../input/seed-input.js";
import { readSeedInput, SEED_SOURCE_HELP } from "../secret-source.js";
import { burnOneToken, type OneOffRecords, type OneOffResult } from "../../service/burn.js";
import { daemonFor, refuseLocalFlags } from "../daemon-link.js";
import { dataDirFrom, openJournalWhenFree, JOURNAL_OPTIONS, JOURNAL_OPTIONS_HELP } from "../journal-key.js";
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
  const { values } = parseArgs({
    args: argv,
    options: { ...SEED_OPTIONS, ...TOKEN_OPTIONS, ...JOURNAL_OPTIONS, "forget-seed": { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    io.out(BURN_HELP);
    return 0;
  }
  // The seed and the settings are checked before any device is touched.
  const seed = readSeedInput(values, "single-profile", explicitParameters(values), io.readStdin);
  try {
    checkBurnerSeedLength(seed.secret);
    const request: BurnRequest = {
      seed: seed.secret,
      settings: settingsFrom(values, seed),
      forgetSeed: values["forget-seed"] === true,
      ...(seed.label !== undefined ? { label: seed.label.slice(0, 256) } : {}),
    };
    const dataDir = dataDirFrom(values);
    const daemon = values.simulate === true ? undefined : await daemonFor(dataDir);
    let done: Burned;
    if (daemon === undefined) {
      done = await burnAlone(values, request, io, context);
    } else {
      try {
        refuseLocalFlags(values, ["family"], dataDir);
        done = await burnThroughDaemon(daemon, values, request, io);
      } finally {
        await daemon.close();
      }
    }
    const { reader, result, shown } = done;
    const { settings } = request;
    if (values.json) {
      io.out(JSON.stringify({ reader, ...result, ...settings, ...(shown !== undefined ? { simulatedTokenShows: shown } : {}) }, null, 2));
      return 0;
    }
    io.out(`serial   ${result.serial}`);
    io.out(`model    ${result.model}${result.restrictedSync ? " (a clock sync erases its seed)" : ""}`);
    io.out(`reader   ${reader}`);
    io.out(`clock    ${result.clock.message}`);
    io.out(`code     ${result.codes.current}   (previous ${result.codes.previous}, next ${result.codes.next}; ${settings.algorithm}, ${settings.period} s)`);
    if (shown !== undefined) io.out(`simulated token shows ${shown}`);
    else io.err("Power the token off and on, then compare its code with the one above.");
    io.out(`journal  batch ${result.journal.batchId}, item ${result.journal.itemId}${request.forgetSeed ? " (seed not kept)" : ""}`);
    return 0;
  } finally {
    seed.secret.fill(0);
  }
}

/** What a burn needs besides the token. */
interface BurnRequest {
  seed: Uint8Array;
  settings: SingleProfileSettings;
  forgetSeed: boolean;
  label?: string;
}

/** A burn done, with the reader it was on (and what a simulated token shows). */
interface Burned {
  reader: string;
  result: OneOffResult;
  shown?: string;
}

type BurnValues = Parameters<typeof checkClockBeforeWriting>[0] &
  Parameters<typeof openJournalWhenFree>[0] & {
    reader?: string | undefined;
    family?: string[] | undefined;
    simulate?: boolean | undefined;
    yes?: boolean | undefined;
  };

const question = (target: { model: string | null; serial: string | null; reader: string }): string =>
  `Burn a new seed into the ${target.model} ${target.serial} in reader "${target.reader}"? It replaces the seed the token holds.`;

/** The burn with this process's own devices and journal (no daemon serves the data directory). */
async function burnAlone(values: BurnValues, request: BurnRequest, io: CommandIo, context: CommandContext): Promise<Burned> {
  const devices = await devicesFor(values, context);
  try {
    const target = chooseToken(devices.manager.list(), values.reader);
    await checkClockBeforeWriting(values, io);
    await confirm(io, question(target), values.yes === true);
    // chooseToken returns only "ready" single-profile tokens, which the manager lists with their serial.
    const held = { reader: target.reader, serial: target.serial! };
    const journal = await openJournalWhenFree(values, io);
    let result: OneOffResult;
    try {
      result = await burnHoldingStill(devices.manager, held, { records: journal, ...request }, io, context.logger);
    } finally {
      journal.close();
    }
    const shown = devices.simulation?.cards.get(target.reader)?.code(result.codes.time) ?? undefined;
    return { reader: target.reader, result, ...(shown !== undefined ? { shown } : {}) };
  } finally {
    await devices.close();
  }
}

/** The burn through the daemon's token.burn: the same burn path and journal record, in the daemon. */
async function burnThroughDaemon(daemon: DaemonClient, values: BurnValues, request: BurnRequest, io: CommandIo): Promise<Burned> {
  const { devices } = await daemon.call<{ devices: DeviceInfo[] }>("devices.list");
  const target = chooseToken(devices, values.reader);
  await checkClockBeforeWriting(values, io);
  await confirm(io, question(target), values.yes === true);
  const { session } = await daemon.call<{ session: string }>("device.acquire", { id: target.id, previous: null });
  const stopRetries = daemon.on("token.retrying", (event) => io.err(describeRetry(event as RetryEvent)));
  try {
    const { algorithm, period, display } = request.settings;
    // The local check above already said what --force overrode: the daemon's warnings would repeat it.
    const { warnings: _repeated, ...result } = await daemon.call<OneOffResult & { warnings?: string[] }>("token.burn", {
      session,
      seed: Buffer.from(request.seed).toString("hex"),
      seedEncoding: "hex",
      algorithm,
      period,
      display,
      keepSeed: !request.forgetSeed,
      force: values.force === true,
      ...(request.label !== undefined ? { label: request.label } : {}),
    });
    return { reader: target.reader, result };
  } finally {
    stopRetries();
    await daemon.call("device.release", { session }).catch(() => undefined);
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
  manager: DeviceManager,
  target: HeldToken,
  burn: { records: OneOffRecords; seed: Uint8Array; settings: SingleProfileSettings; forgetSeed?: boolean; label?: string },
  io: CommandIo,
  logger: Logger,
  retry: Pick<HoldStillOptions<ApduTransport>, "attempts" | "waitMs"> = {},
): Promise<OneOffResult> {
  const { records, seed, settings, label } = burn;
  return burnOneToken({
    records,
    log: logger.child({ reader: target.reader }),
    seed,
    ...settings,
    expectSerial: target.serial,
    forgetSeed: burn.forgetSeed === true,
    ...(label !== undefined ? { label } : {}),
    run: (attempt) =>
      holdStill(manager, target, attempt, (error) => safeToRepeat(error, { seedFollows: true }), {
        ...retry,
        connect: (fn) => withTokenSession(manager, target.reader, fn),
        onRetry: (event) => io.err(describeRetry(event)),
      }),
  });
}
