/** `otpbridge pair list|approve CODE|revoke ORIGIN`: the user's side of browser pairing. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { otpbError } from "../../lib/errors.js";
import { CAPABILITIES, PairingStore, parseCapabilities } from "../../daemon/auth.js";
import { defaultDataDir } from "../../lib/daemon-paths.js";
import type { CommandIo } from "../io.js";

export const PAIR_HELP = `Usage: otpbridge pair list [--data-dir DIR]
       otpbridge pair approve CODE [--capabilities LIST] [--data-dir DIR]
       otpbridge pair revoke ORIGIN [--data-dir DIR]

A web page that connects to the daemon asks for pairing and shows a short code; approve it here
(check that the origin shown is the site you expect). --capabilities narrows what the page asked
for: a comma-separated subset of ${CAPABILITIES.join(", ")}. The running daemon sees changes at once.`;

/** `otpbridge pair`. */
export function runPair(argv: string[], io: CommandIo): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      capabilities: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(PAIR_HELP);
    return 0;
  }
  const store = new PairingStore(resolve(values["data-dir"] ?? defaultDataDir()));
  const [action, arg] = positionals;
  if (action === "list" && arg === undefined) {
    const { pending, approved } = store.list();
    for (const p of pending) io.out(`pending   ${p.code}  ${p.origin}  ${p.capabilities.join(",")}  (since ${new Date(p.createdAt).toISOString()})`);
    for (const a of approved) io.out(`approved  ${a.origin}  ${a.capabilities.join(",")}  (since ${new Date(a.approvedAt).toISOString()})`);
    if (pending.length + approved.length === 0) io.out("no pairings");
    return 0;
  }
  if (action === "approve" && arg !== undefined) {
    const capabilities = values.capabilities === undefined ? undefined : parseCapabilities(values.capabilities.split(",").map((c) => c.trim()));
    const approved = store.approve(arg, capabilities);
    io.out(`approved ${approved.origin} with ${approved.capabilities.join(",")}`);
    return 0;
  }
  if (action === "revoke" && arg !== undefined) {
    store.revoke(arg);
    io.out(`revoked ${arg}`);
    return 0;
  }
  throw otpbError("INVALID_INPUT", `expected list, approve CODE or revoke ORIGIN\n${PAIR_HELP}`);
}
