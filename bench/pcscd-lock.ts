import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const LOCK_DIR = "/tmp/otpbridge-pcscd.lock";

/**
 * The machine-wide PC/SC test lock, the same directory lock as test/fixtures/pcscd.ts: pcscd, its
 * vpcd readers and their ports are shared by every test and benchmark on the machine. mkdir is
 * atomic; a lock whose process is gone is taken over. Returns the release function.
 */
export async function lockPcscd(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, "pid"), String(process.pid));
      return () => rmSync(LOCK_DIR, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    let owner = 0;
    try {
      owner = Number(readFileSync(join(LOCK_DIR, "pid"), "utf8"));
      process.kill(owner, 0);
    } catch {
      if (owner > 0) rmSync(LOCK_DIR, { recursive: true, force: true });
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
