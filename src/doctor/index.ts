/** `otpbridge doctor`: every check in order, and their findings as text. */
import { checkAddons, checkClock, checkFidoPermissions, checkHid, checkMolto2, checkPcscd, checkPn533, checkReaders, type Finding } from "./checks.js";
import type { SystemView } from "./system-view.js";
import { packageRoot } from "../lib/package-info.js";

export type { Finding, Level } from "./checks.js";
export { hostSystemView, type AddonProbe, type SystemView } from "./system-view.js";
export { checkHostClock, describeDeviceDrift, type HostClockOptions, type HostClockReport } from "./clock.js";

/**
 * Runs every check. Readers are asked only when pcscd answers (asking a dead service can hang
 * bindings; docs/TESTING.md).
 */
export async function runDoctor(view: SystemView): Promise<Finding[]> {
  const findings: Finding[] = [];
  const pcscd = await checkPcscd(view);
  findings.push(pcscd);
  let readers: string[] = [];
  if (pcscd.level === "ok") {
    const r = await checkReaders(view);
    readers = r.readers;
    findings.push(r.finding);
  }
  findings.push(checkPn533(view), checkMolto2(view, readers));
  findings.push(...(await checkHid(view)));
  findings.push(await checkAddons(view, packageRoot()));
  findings.push(checkFidoPermissions(view), checkClock(view));
  return findings;
}

const MARK: Record<Finding["level"], string> = { ok: "ok  ", info: "info", warn: "WARN", error: "FAIL" };

/** Findings as lines: a mark, the title, and the fix indented under it. */
export function formatFindings(findings: readonly Finding[]): string {
  return findings
    .map(
      (f) =>
        `[${MARK[f.level]}] ${f.title}${
          f.fix
            ? `\n${f.fix
                .split("\n")
                .map((l) => `       ${l}`)
                .join("\n")}`
            : ""
        }`,
    )
    .join("\n");
}
