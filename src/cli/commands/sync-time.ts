import { parseArgs } from "node:util";
import type { DaemonClient } from "../../client/daemon-client.js";
import type { DeviceInfo, DeviceManager } from "../../drivers/device-manager.js";
import { describeRetry, holdStill, type HeldToken, type HoldStillOptions, type RetryEvent } from "../../drivers/hold-still.js";
import {
  SingleProfileSession,
  safeToRepeat,
  type SingleProfileInfo,
  type SingleProfileSettings,
  type SyncTimeOptions,
  type SyncTimeResult,
} from "../../drivers/single-profile.js";
import { daemonFor, refuseLocalFlags } from "../daemon-link.js";
import { dataDirFrom } from "../journal-key.js";
import type { Logger } from "../../lib/log.js";
import type { ApduTransport } from "../../transports/types.js";
import { otpbError } from "../../lib/errors.js";
import { DEVICE_OPTIONS_HELP, chooseToken, confirm, devicesFor, withTokenSession } from "../device-context.js";
import type { CommandContext } from "../context.js";
import type { CommandIo } from "../io.js";
import type { DeviceSeed } from "../../input/seed-input.js";
import { checkBurnerSeedLength } from "../../input/seed-input.js";
import { readSeedInput, SEED_SOURCE_HELP } from "../secret-source.js";
import { checkClockBeforeWriting, explicitParameters, SEED_OPTIONS, SETTINGS_HELP, settingsFrom, TOKEN_OPTIONS } from "./_token-options.js";

export const SYNC_TIME_HELP = `Usage: otpbridge sync-time [--reader NAME] [--check] [--algorithm ...] [--period ...] [--display ...]
                          [--wipe-seed [SEED SOURCE]] [--ntp HOST[:PORT]] [--force] [--yes] [--json] [--simulate]
                          [--data-dir DIR]

Reads a single-profile token's clock drift, and sets its clock to the current UTC time.

Setting the clock is a full settings write: nothing can be read back from these tokens, so
give the algorithm, period and display the token was burned with (defaults SHA1, 30, 30).
On OTPC-P2-i, OTPC-P2-i-NB, miniOTP-3-i, miniOTP-3-i-NB and C301-i it ALSO ERASES THE SEED
(so that winding the clock back cannot replay codes): this is refused unless you pass
--wipe-seed or confirm on the terminal. Give the seed too and it is burned again right after.
If the token leaves the field, "hold the token still, retrying" is printed and the sync goes on
once the same token is back, but only from a step that is safe to repeat (a clock write that
erased the seed is not sent again unless the seed follows). While a daemon serves --data-dir
(default $XDG_DATA_HOME/otpbridge), the token is reached through it.

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
    options: { ...SEED_OPTIONS, ...TOKEN_OPTIONS, "data-dir": { type: "string" }, check: { type: "boolean" }, "wipe-seed": { type: "boolean" } },
    strict: true,
  });
  if (values.help) {
    io.out(SYNC_TIME_HELP);
    return 0;
  }
  const seed: DeviceSeed | undefined = SOURCES.some((key) => values[key] !== undefined)
    ? readSeedInput(values, "single-profile", explicitParameters(values), io.readStdin)
    : undefined;
  try {
    if (seed !== undefined) checkBurnerSeedLength(seed.secret);
    if (seed !== undefined && values.check) throw otpbError("INVALID_INPUT", "--check writes nothing: it takes no seed");
    const settings = settingsFrom(values, seed);
    const dataDir = dataDirFrom(values);
    const daemon = values.simulate === true ? undefined : await daemonFor(dataDir);
    if (daemon !== undefined) {
      try {
        refuseLocalFlags(values, ["family"], dataDir);
        return await syncTime(await tokenThroughDaemon(daemon, values.reader, values.force === true, io), values, settings, seed, io);
      } finally {
        await daemon.close();
      }
    }
    const devices = await devicesFor(values, context);
    try {
      return await syncTime(await tokenAlone(devices.manager, values.reader, io, context.logger), values, settings, seed, io);
    } finally {
      await devices.close();
    }
  } finally {
    seed?.secret.fill(0);
  }
}

/** The chosen token as sync-time sees it: what GET INFO said, and the clock write. */
interface SyncTarget {
  reader: string;
  info: { serial: string; model: string; restrictedSync: boolean; clock: number; driftSeconds: number };
  sync(options: SyncTimeOptions): Promise<SyncTimeResult>;
}

async function tokenAlone(manager: DeviceManager, reader: string | undefined, io: CommandIo, log: Logger): Promise<SyncTarget> {
  const target = chooseToken(manager.list(), reader);
  const logger = log.child({ reader: target.reader });
  const info: SingleProfileInfo = await withTokenSession(
    manager,
    target.reader,
    async (t) => (await SingleProfileSession.open(t, { logger, expectSerial: target.serial! })).info,
  );
  const held = { reader: target.reader, serial: target.serial! };
  return { reader: target.reader, info: { ...info, model: info.model.name }, sync: (options) => syncHoldingStill(manager, held, options, io, logger) };
}

/**
 * The same through the daemon's token.info and token.syncTime, on a session that ends with the
 * connection when the command ends.
 */
async function tokenThroughDaemon(daemon: DaemonClient, reader: string | undefined, force: boolean, io: CommandIo): Promise<SyncTarget> {
  const target = chooseToken((await daemon.call<{ devices: DeviceInfo[] }>("devices.list")).devices, reader);
  const { session } = await daemon.call<{ session: string }>("device.acquire", { id: target.id, previous: null });
  const info = await daemon.call<SyncTarget["info"]>("token.info", { session });
  return {
    reader: target.reader,
    info,
    sync: async (options) => {
      const stopRetries = daemon.on("token.retrying", (event) => io.err(describeRetry(event as RetryEvent)));
      try {
        // The local check before the confirmation already said what --force overrode.
        const { warnings: _repeated, ...result } = await daemon.call<SyncTimeResult & { warnings?: string[] }>("token.syncTime", {
          session,
          algorithm: options.algorithm,
          period: options.period,
          display: options.display,
          confirmSeedWipe: options.confirmSeedWipe === true,
          force,
          ...(options.reseed !== undefined ? { seed: Buffer.from(options.reseed).toString("hex"), seedEncoding: "hex" } : {}),
        });
        return result;
      } finally {
        stopRetries();
      }
    },
  };
}

type SyncValues = Parameters<typeof checkClockBeforeWriting>[0] & {
  check?: boolean | undefined;
  json?: boolean | undefined;
  yes?: boolean | undefined;
  "wipe-seed"?: boolean | undefined;
};

/** `sync-time` on the chosen token: --check, or the confirmed clock write. */
async function syncTime(target: SyncTarget, values: SyncValues, settings: SingleProfileSettings, seed: DeviceSeed | undefined, io: CommandIo): Promise<number> {
  const { info } = target;
  const drift = `${info.driftSeconds >= 0 ? "+" : ""}${info.driftSeconds} s`;
  if (values.check) {
    if (values.json)
      io.out(JSON.stringify({ reader: target.reader, serial: info.serial, model: info.model, clock: info.clock, driftSeconds: info.driftSeconds }, null, 2));
    else io.out(`${info.model} ${info.serial}: clock ${new Date(info.clock * 1000).toISOString()}, drift ${drift}`);
    return 0;
  }
  await checkClockBeforeWriting(values, io);
  let confirmSeedWipe = values["wipe-seed"] === true;
  if (info.restrictedSync && !confirmSeedWipe && io.isInteractive?.() === true) {
    await confirm(
      io,
      `The ${info.model} ${info.serial} ERASES ITS SEED when its clock is set${seed === undefined ? ", and no seed was given to burn again" : ""}. Continue?`,
      false,
    );
    confirmSeedWipe = true;
  } else {
    await confirm(
      io,
      `Set the clock of the ${info.model} ${info.serial} (drift ${drift}) and re-send ${settings.algorithm}, ${settings.period} s, display ${settings.display} s?`,
      values.yes === true,
    );
  }
  const result = await target.sync({ ...settings, confirmSeedWipe, ...(seed !== undefined ? { reseed: seed.secret } : {}) });
  if (values.json) {
    io.out(JSON.stringify({ reader: target.reader, ...result }, null, 2));
    return 0;
  }
  io.out(`${result.model} ${result.serial}: clock set to ${new Date(result.time * 1000).toISOString()} (drift was ${drift})`);
  if (result.seed === "wiped") io.out("the token now holds NO seed: burn one with `otpbridge burn`");
  if (result.seed === "kept") io.out("the seed was kept");
  if (result.codes !== undefined) io.out(`seed burned again; code ${result.codes.current} (previous ${result.codes.previous}, next ${result.codes.next})`);
  return 0;
}

/**
 * The clock write on the chosen token, repeated when the token leaves the field and comes back
 * within seconds, but only from a step that is safe to repeat: a clock write that may have erased
 * the seed of a restricted model is sent again only when the seed follows (`reseed`; safeToRepeat).
 * Another token put in the reader meanwhile is refused (CARD_REMOVED {swapped}) before anything is sent.
 * @throws OtpbridgeError as SingleProfileSession.syncTime, after the retries.
 */
export function syncHoldingStill(
  manager: DeviceManager,
  target: HeldToken,
  options: SyncTimeOptions,
  io: CommandIo,
  logger: Logger,
  retry: Pick<HoldStillOptions<ApduTransport>, "attempts" | "waitMs"> = {},
): Promise<SyncTimeResult> {
  return holdStill(
    manager,
    target,
    async (transport: ApduTransport) => {
      const session = await SingleProfileSession.open(transport, { logger, expectSerial: target.serial });
      return session.syncTime(options);
    },
    (error) => safeToRepeat(error, { seedFollows: options.reseed !== undefined }),
    {
      ...retry,
      connect: (fn) => withTokenSession(manager, target.reader, fn),
      onRetry: (event) => io.err(describeRetry(event)),
    },
  );
}
