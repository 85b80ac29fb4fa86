import { parseArgs } from "node:util";
import type { DeviceInfo, DeviceManager } from "../../drivers/device-manager.js";
import { DEVICE_OPTIONS_HELP, devicesFor } from "../device-context.js";
import type { CommandContext } from "../context.js";
import { daemonFor, refuseLocalFlags } from "../daemon-link.js";
import type { CommandIo } from "../io.js";
import { dataDirFrom } from "../journal-key.js";

export const DEVICES_HELP = `Usage: otpbridge devices [--json] [--family READER=FAMILY]... [--simulate] [--data-dir DIR]

Lists the PC/SC readers and USB HID keys attached, with the family, model and serial of the
token in each. Cards are identified with GET INFO only, a Molto2 with its Info command only:
nothing is selected, authenticated or written. Connecting to a Molto2 can reset its card
state, ending an authenticated session another program left open: a daemon never reads a
Molto2 while it lists.

While a daemon serves DIR (default $XDG_DATA_HOME/otpbridge) the list is the daemon's (its
devices.list), so the CLI does not compete with it for the readers: the same lines, each device
with the session holding it in --json, and a Molto2 without its serial (the daemon reads
them only when a client opens the token).

  --json                 one JSON array instead of a table
  --data-dir DIR         the data directory whose daemon, if one runs, lists the devices
${DEVICE_OPTIONS_HELP}`;

function row(d: DeviceInfo): string[] {
  return [d.reader ?? d.path ?? d.id, d.family ?? "-", d.model ?? "-", d.serial ?? "-", d.state + (d.message ? ` (${d.message})` : "")];
}

/** Columns padded to their widest cell. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  "));
}

/** `otpbridge devices`: list, print, exit. */
export async function runDevices(argv: string[], io: CommandIo, context: CommandContext): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: "boolean" },
      family: { type: "string", multiple: true },
      simulate: { type: "boolean" },
      "data-dir": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(DEVICES_HELP);
    return 0;
  }
  const daemon = values.simulate === true ? undefined : await daemonFor(dataDirFrom(values));
  if (daemon !== undefined) {
    try {
      refuseLocalFlags(values, ["family"], dataDirFrom(values));
      const listed = await daemon.call<Listing>("devices.list");
      return print(listed, values.json === true, io);
    } finally {
      await daemon.close();
    }
  }
  const devices = await devicesFor(values, context, { hid: true, readMolto2Info: true });
  try {
    return print({ devices: devices.manager.list(), status: devices.manager.status(), simulated: devices.simulation?.link ?? null }, values.json === true, io);
  } finally {
    await devices.close();
  }
}

/** What is listed: the devices, the state of the links behind them, and the simulation's link (null: real devices). */
interface Listing {
  devices: DeviceInfo[];
  status: ReturnType<DeviceManager["status"]>;
  simulated: "vpcd" | "memory" | null;
}

function print({ devices: list, status, simulated }: Listing, json: boolean, io: CommandIo): number {
  if (json) {
    io.out(JSON.stringify({ devices: list, status, simulated }, null, 2));
    return 0;
  }
  if (simulated !== null) io.err(`simulated tokens behind ${simulated === "vpcd" ? "vpcd readers of pcscd" : "in-memory readers"}`);
  if (status.pcsc === "unavailable") io.err(`PC/SC: unavailable (${status.pcscMessage ?? "no service"})`);
  if (status.hid === "unavailable") io.err(`USB HID: unavailable (${status.hidMessage ?? "error"})`);
  if (list.length === 0) {
    io.out("no readers or devices found");
    return 0;
  }
  for (const line of table([["READER/PATH", "FAMILY", "MODEL", "SERIAL", "STATE"], ...list.map(row)])) io.out(line);
  return 0;
}
