/**
 * Finding 6 of the adversarial review: the daemon trusts only files of its own user. Another local
 * user (uid nobody; the suite runs as root) plants a private-looking data directory, or a token
 * file reached through a symbolic link, and the real daemon process refuses to start on it (exit 77,
 * DATA_DIR_PERMISSIONS).
 */
import { chownSync, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startDaemonProcess } from "../fixtures/daemon.js";
import { CAN_SWITCH_USER, OTHER_GID, OTHER_UID } from "../fixtures/other-user.js";

const MEMORY = { OTPBRIDGE_SIMULATE_LINK: "memory" };
const PLANTED_PAIRING = JSON.stringify({
  version: 2,
  approved: [{ origin: "https://evil.com", capabilities: ["read", "burn", "batch", "export"], approvedAt: 0, id: "x", secretSha256: "0".repeat(64) }],
});

/** A file of the other user, mode 0600. */
function plant(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600 });
  chownSync(path, OTHER_UID, OTHER_GID);
}

describe.skipIf(!CAN_SWITCH_USER)("files another user owns", () => {
  it("refuses a 0700 data directory of another user holding a planted token and pairing file", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "otpb-own-")), "data");
    mkdirSync(dataDir, { mode: 0o700 });
    plant(join(dataDir, "daemon.token"), "planted-token-known-to-the-attacker\n");
    plant(join(dataDir, "pairings.json"), PLANTED_PAIRING);
    chownSync(dataDir, OTHER_UID, OTHER_GID);
    await expect(startDaemonProcess({ env: MEMORY, dataDir })).rejects.toThrow(/exited 77: [\s\S]*belongs to uid 65534/);
  });

  it("refuses a daemon.token that is a symbolic link to another user's 0600 file", async () => {
    const base = mkdtempSync(join(tmpdir(), "otpb-own-"));
    const dataDir = join(base, "data");
    mkdirSync(dataDir, { mode: 0o700 });
    plant(join(base, "their-token"), "planted-token-known-to-the-attacker\n");
    symlinkSync(join(base, "their-token"), join(dataDir, "daemon.token"));
    await expect(startDaemonProcess({ env: MEMORY, dataDir })).rejects.toThrow(/exited 77: [\s\S]*daemon\.token is a symbolic link/);
  });

  it("refuses a planted pairing file in the daemon user's own directory", async () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), "otpb-own-")), "data");
    mkdirSync(dataDir, { mode: 0o700 });
    plant(join(dataDir, "pairings.json"), PLANTED_PAIRING);
    await expect(startDaemonProcess({ env: MEMORY, dataDir })).rejects.toThrow(/exited 77: [\s\S]*pairings\.json belongs to uid 65534/);
  });
});
