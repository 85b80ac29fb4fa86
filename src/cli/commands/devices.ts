import { parseArgs } from "node:util";
import type { DeviceInfo } from "../../drivers/device-manager.js";
import { DEVICE_OPTIONS_HELP, openDevices, parseFamilyRules } from "../device-context.js";
import type { CommandContext } from "../context.js";
import type { CommandIo } from "../io.js";

export const DEVICES_HELP = `Usage: otpbridge devices [--json] [--family READER=FAMILY]... [--simulate]

Lists the PC/SC readers and USB HID keys attached, with the family, model and serial of the
token in each. Cards are identified with GET INFO only, a Molto2 with its Info command only:
nothing is selected, authenticated or written. Connecting to a Molto2 can reset its card
state, ending an authenticated session another program left open: a daemon never reads a
Molto2 while it lists.

  --json                 one JSON array instead of a table
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
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    io.out(DEVICES_HELP);
    return 0;
  }
  const devices = await openDevices({
    simulate: values.simulate === true,
    families: parseFamilyRules(values.family),
    logger: context.logger,
    hid: true,
    readMolto2Info: true,
  });
  try {
    const list = devices.manager.list();
    const status = devices.manager.status();
    if (values.json) {
      io.out(JSON.stringify({ devices: list, status, simulated: devices.simulation?.link ?? null }, null, 2));
      return 0;
    }
    if (devices.simulation !== undefined)
      io.err(`simulated tokens behind ${devices.simulation.link === "vpcd" ? "vpcd readers of pcscd" : "in-memory readers"}`);
    if (status.pcsc === "unavailable") io.err(`PC/SC: unavailable (${status.pcscMessage ?? "no service"})`);
    if (status.hid === "unavailable") io.err(`USB HID: unavailable (${status.hidMessage ?? "error"})`);
    if (list.length === 0) {
      io.out("no readers or devices found");
      return 0;
    }
    for (const line of table([["READER/PATH", "FAMILY", "MODEL", "SERIAL", "STATE"], ...list.map(row)])) io.out(line);
    return 0;
  } finally {
    await devices.close();
  }
}
