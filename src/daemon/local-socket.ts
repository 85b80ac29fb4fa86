/**
 * The daemon's Unix domain socket in the data directory (src/lib/daemon-paths.ts). The directory is
 * 0700 and owned by the daemon's user, so only that user can connect, and a client that connects
 * knows the daemon's user made the socket: no token crosses it, and no other user can squat it.
 */
import { connect } from "node:net";
import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import { otpbError } from "../lib/errors.js";

/** sun_path holds 108 bytes with its terminating NUL on Linux (104 on the BSDs and macOS). */
export const MAX_SOCKET_PATH_BYTES = process.platform === "linux" ? 107 : 103;

/** Resolves true when something accepts connections on the socket at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path });
    probe.once("connect", () => {
      probe.destroy();
      resolve(true);
    });
    probe.once("error", () => resolve(false));
  });
}

/**
 * Makes `path` free for the daemon's socket: a socket file nobody answers on (a daemon that died) is
 * removed; one a live daemon answers on is refused.
 * @throws OtpbridgeError INVALID_INPUT for a path longer than a socket path may be; JOURNAL_BUSY when
 *   a daemon answers there; DATA_DIR_PERMISSIONS when something other than a socket has the name.
 */
export async function freeSocketPath(path: string): Promise<void> {
  const bytes = Buffer.byteLength(path);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw otpbError(
      "INVALID_INPUT",
      `the daemon's socket path ${path} is ${bytes} bytes, over the ${MAX_SOCKET_PATH_BYTES} a Unix socket path may have; give the daemon a shorter --data-dir`,
      { detail: { path } },
    );
  }
  let isSocket: boolean;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw otpbError("DATA_DIR_PERMISSIONS", `${path} exists and is not a socket; move it away`, { detail: { path } });
  if (await answers(path)) {
    throw otpbError("JOURNAL_BUSY", `another otpbridge daemon answers on ${path} and serves this data directory; stop it first`, { detail: { path } });
  }
  unlinkSync(path);
}

/** Narrows the socket's own mode to its owner (the 0700 directory already keeps others out). */
export function privateSocket(path: string): void {
  chmodSync(path, 0o600);
}
