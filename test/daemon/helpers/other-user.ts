/**
 * Another local user for the attacker's side of the security tests: the suite runs as root, so the
 * attacker is test/daemon/helpers/other-user.mjs in a child process with the uid and gid of
 * `nobody`, which cannot read the daemon's 0700 data directory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { REPO_ROOT } from "../../fixtures/pcscd.js";

/** nobody:nogroup on Debian. */
export const OTHER_UID = 65534;
export const OTHER_GID = 65534;

/** True when the tests can drop to another uid (they run as root). */
export const CAN_SWITCH_USER = process.getuid?.() === 0;

export interface OtherUser {
  child: ChildProcess;
  /** The first line whose `step` is `step`. */
  next(step: string, timeoutMs?: number): Promise<any>;
  /** Tells a holding scenario to let go, and waits for the process to end. */
  finish(): Promise<void>;
}

/** Starts a scenario of other-user.mjs as uid {@link OTHER_UID}. */
export function asOtherUser(plan: Record<string, unknown>): OtherUser {
  const child = spawn(process.execPath, [join(REPO_ROOT, "test/daemon/helpers/other-user.mjs"), JSON.stringify(plan)], {
    cwd: "/", uid: OTHER_UID, gid: OTHER_GID, stdio: ["pipe", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
  });
  const lines: any[] = [];
  const stderr: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(JSON.parse(line)));
  createInterface({ input: child.stderr! }).on("line", (line) => stderr.push(line));
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  return {
    child,
    async next(step, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = lines.find((l) => l.step === step);
        if (found !== undefined) return found;
        if (Date.now() > deadline || child.exitCode !== null && !lines.some((l) => l.step === step)) {
          await new Promise((r) => setTimeout(r, 50));
          const late = lines.find((l) => l.step === step);
          if (late !== undefined) return late;
          throw new Error(`no "${step}" from the other user; stderr: ${stderr.join("\n")}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async finish() {
      child.stdin!.end("go\n");
      await closed;
    },
  };
}
