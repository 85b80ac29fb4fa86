import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import type { CommandIo } from "./io.js";

/**
 * Waits for the user to press a token's button. The token says nothing when it happens, so on a
 * terminal the user confirms with Enter; without one (stdin piped, e.g. a key read from it) the
 * command gives the user `waitSeconds` and then goes on.
 */
export async function waitForPress(io: CommandIo, message: string, waitSeconds: number): Promise<void> {
  if (process.stdin.isTTY) {
    io.out(`${message}, then press Enter here`);
    const rl = createInterface({ input: process.stdin });
    try {
      await new Promise<void>((resolve) => rl.once("line", () => resolve()));
    } finally {
      rl.close();
    }
    return;
  }
  io.out(`${message} (within ${waitSeconds} s)`);
  await sleep(waitSeconds * 1000);
}
