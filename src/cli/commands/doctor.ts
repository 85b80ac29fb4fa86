import { parseArgs } from "node:util";
import { formatFindings, hostSystemView, runDoctor } from "../../doctor/index.js";
import type { CommandIo } from "../io.js";

export const DOCTOR_HELP = `Usage: otpbridge doctor [--json]

Checks what otpbridge needs from this machine and prints the exact fix for each problem:
pcscd running and reachable, readers seen, an ACR122U held by the kernel NFC modules, a Molto2
without a PC/SC reader (CCID driver), node-hid and libusb, permission to open Token2 FIDO keys,
and the system clock's synchronisation.

  --json    findings as JSON
Exit status: 0 when nothing failed, 3 when a check failed.`;

/** `otpbridge doctor`. */
export async function runDoctorCommand(argv: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { json: { type: "boolean" }, help: { type: "boolean", short: "h" } }, strict: true });
  if (values.help) {
    io.out(DOCTOR_HELP);
    return 0;
  }
  const findings = await runDoctor(hostSystemView());
  io.out(values.json ? JSON.stringify(findings, null, 2) : formatFindings(findings));
  return findings.some((f) => f.level === "error") ? 3 : 0;
}
