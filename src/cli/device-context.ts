/**
 * What the device commands share: opening PC/SC (or the --simulate tokens) and the device
 * manager, waiting until the first listing has settled, choosing the one token to work on, and
 * the confirmation prompt.
 */
import { DeviceManager, type DeviceFamily, type DeviceInfo, type FamilyRule } from "../drivers/device-manager.js";
import type { SingleProfileSimulation } from "../simulation/simulation.js";
import { otpbError, reasonOf } from "../lib/errors.js";
import type { Logger } from "../lib/log.js";
import { PcscManager } from "../transports/pcsc.js";
import type { ApduTransport } from "../transports/types.js";
import type { CommandContext } from "./context.js";
import type { CommandIo } from "./io.js";

export const DEVICE_OPTIONS_HELP = `  --reader NAME          the reader whose name contains NAME (needed when several tokens are present)
  --family READER=FAMILY the family behind a reader (name or part of it): single-profile, molto2 or
                         otp-applet; repeatable. Virtual readers cannot be told apart otherwise.
  --simulate             attach emulated tokens (OTPC-P1-i, OTPC-P2-i, miniOTP-3-i, C302-i): two behind
                         vsmartcard-vpcd's readers if pcscd runs with them free, the rest in memory;
                         nothing real is touched
  --verbose, --debug     log each device step to stderr as JSON lines (never seeds or APDUs)`;

export interface DeviceContext {
  manager: DeviceManager;
  simulation: SingleProfileSimulation | undefined;
  close(): Promise<void>;
}

const FAMILIES: readonly DeviceFamily[] = ["single-profile", "molto2", "otp-applet"];

/**
 * Parses `--family READER=FAMILY` values.
 * @throws OtpbridgeError INVALID_INPUT on a malformed value or an unknown family.
 */
export function parseFamilyRules(values: readonly string[] | undefined): FamilyRule[] {
  return (values ?? []).map((value) => {
    const at = value.lastIndexOf("=");
    const reader = value.slice(0, at);
    const family = value.slice(at + 1) as DeviceFamily;
    if (at <= 0 || !FAMILIES.includes(family)) {
      throw otpbError("INVALID_INPUT", `--family must be READER=${FAMILIES.join("|")}, got ${JSON.stringify(value)}`);
    }
    return { reader, family };
  });
}

/**
 * Opens PC/SC (or the simulation) and the device manager, and waits for the first listing.
 * `OTPBRIDGE_SIMULATE_LINK=memory|vpcd` forces the simulation's link (tests).
 */
export async function openDevices(options: {
  simulate: boolean;
  families: FamilyRule[];
  logger: Logger;
  hid: boolean;
  reader?: string | undefined;
  /** Read each Molto2's serial (DeviceManagerOptions.readMolto2Info): `devices` only. */
  readMolto2Info?: boolean;
}): Promise<DeviceContext> {
  // The emulators and the vpcd bridge are loaded only for --simulate.
  const simulation = options.simulate
    ? await import("../simulation/simulation.js").then((sim) => sim.startSimulation(sim.singleProfileCards(), { logger: options.logger }))
    : undefined;
  const pcsc = simulation?.pcsc ?? (await PcscManager.start());
  const manager = new DeviceManager({
    pcsc,
    families: [...(simulation?.families ?? []), ...options.families],
    logger: options.logger,
    readMolto2Info: options.readMolto2Info === true,
    // A card another program holds for its own identification is free again within a few ms; the
    // command waits for one look again before it lists.
    busyRetryMs: 100,
    // With --reader, other readers (and whatever another process does with them) are left alone.
    ...(options.reader !== undefined ? { readerFilter: (name: string) => name.includes(options.reader!) } : {}),
    // HID is listed once per command; node-hid is loaded only then.
    ...(options.hid && !options.simulate
      ? { hid: { list: async () => (await import("../transports/hid.js")).listToken2HidDevices(), intervalMs: 60_000 } }
      : {}),
  });
  // pcscd lists its readers some tens of ms after a context starts (then settled() waits for each
  // one's status and GET INFO); in-memory readers are there at once.
  await manager.settled(simulation?.link === "memory" ? 0 : 150, 5_000);
  return {
    manager,
    simulation,
    close: async () => {
      manager.close();
      if (simulation !== undefined) await simulation.close();
      else await (pcsc as PcscManager).close();
    },
  };
}

/** The flags the device commands (burn, sync-time, devices) share; `devices` has no --reader. */
export interface DeviceFlags {
  simulate?: boolean | undefined;
  family?: string[] | undefined;
  reader?: string | undefined;
}

/**
 * {@link openDevices} as a device command's flags ask: --simulate, --family and --reader, logged
 * to the command's logger. PC/SC only unless `listing` asks for HID and the Molto2 serials too.
 * @throws OtpbridgeError INVALID_INPUT on a malformed --family; what openDevices throws.
 */
export function devicesFor(values: DeviceFlags, context: CommandContext, listing: { hid?: boolean; readMolto2Info?: boolean } = {}): Promise<DeviceContext> {
  return openDevices({
    simulate: values.simulate === true,
    families: parseFamilyRules(values.family),
    logger: context.logger,
    hid: listing.hid === true,
    reader: values.reader,
    readMolto2Info: listing.readMolto2Info === true,
  });
}

/**
 * The one single-profile token to work on: the only one present, or the one in the reader whose
 * name contains `reader`.
 * @throws OtpbridgeError NO_DEVICE (none), AMBIGUOUS_DEVICE (several: name one with --reader).
 */
export function chooseToken(devices: readonly DeviceInfo[], reader: string | undefined): DeviceInfo & { reader: string } {
  const inReaders = devices.filter((d): d is DeviceInfo & { reader: string } => d.link === "pcsc" && d.reader !== undefined);
  const named = reader === undefined ? inReaders : inReaders.filter((d) => d.reader.includes(reader));
  const tokens = named.filter((d) => d.family === "single-profile" && d.state === "ready");
  if (tokens.length === 1) return tokens[0]!;
  if (tokens.length > 1) {
    throw otpbError(
      "AMBIGUOUS_DEVICE",
      `${tokens.length} single-profile tokens are present; choose one with --reader: ${tokens.map((d) => JSON.stringify(d.reader)).join(", ")}`,
      {
        detail: { readers: tokens.map((d) => d.reader) },
      },
    );
  }
  const seen = named.filter((d) => d.state !== "no-card").map((d) => `${d.reader}: ${d.state}${d.message ? ` (${d.message})` : ""}`);
  const where = reader === undefined ? "" : ` in a reader matching ${JSON.stringify(reader)}`;
  throw otpbError("NO_DEVICE", `no single-profile token ready${where}${seen.length > 0 ? `; seen: ${seen.join("; ")}` : ""}`, {
    detail: { reader },
  });
}

/**
 * {@link DeviceManager.withReader}, retried for up to `waitMs` while the card is held by another
 * PC/SC client at connect time (another otpbridge listing devices holds a card for a few ms).
 * Once `fn` has started, nothing is retried.
 * @throws as DeviceManager.withReader.
 */
export async function withTokenSession<T>(manager: DeviceManager, reader: string, fn: (transport: ApduTransport) => Promise<T>, waitMs = 2_000): Promise<T> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    let started = false;
    try {
      return await manager.withReader(reader, (transport) => {
        started = true;
        return fn(transport);
      });
    } catch (error) {
      if (started || reasonOf(error) !== "DEVICE_BUSY" || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * Asks for a yes; `assumeYes` skips the question.
 * @throws OtpbridgeError CONFIRMATION_REQUIRED without a terminal (CI, pipes) and without --yes;
 *   INVALID_INPUT when the person answers anything but yes.
 */
export async function confirm(io: CommandIo, question: string, assumeYes: boolean): Promise<void> {
  if (assumeYes) return;
  if (io.isInteractive?.() !== true || io.ask === undefined) {
    throw otpbError("CONFIRMATION_REQUIRED", `${question} There is no terminal to ask on: pass --yes to confirm.`);
  }
  const answer = (await io.ask(`${question} [y/N] `)).trim().toLowerCase();
  if (answer !== "y" && answer !== "yes") throw otpbError("INVALID_INPUT", "not confirmed; nothing was written");
}
