import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { checkNewCustomerKey } from "../../drivers/molto2-keys.js";
import { Molto2Session, type Molto2ButtonHandler, type Molto2ButtonPrompt, type Molto2ProfileConfig, type Molto2ProfileEntry } from "../../drivers/molto2.js";
import type { HashAlgorithm } from "../../crypto/hash.js";
import { otpbError } from "../../lib/errors.js";
import type { ApduTransport } from "../../transports/types.js";
import { waitForPress } from "../button.js";
import type { DaemonClient } from "../../client/daemon-client.js";
import type { DeviceInfo } from "../../drivers/device-manager.js";
import { daemonFor } from "../daemon-link.js";
import type { CommandIo } from "../io.js";
import { dataDirFrom } from "../journal-key.js";
import { withMatchingReader } from "../pcsc-reader.js";
import { keySourceHelp, readCustomerKey } from "../key-source.js";
import { readSeedInput, SECRET_SOURCE_HELP } from "../secret-source.js";
import { withSimulatedMolto2 } from "../../simulation/simulation.js";
import { parseInteger } from "./code.js";

export const MOLTO2_HELP = `Usage: otpbridge molto2 <list|write|delete|sync|set-key|reset|lock|unlock> [options]

Programs a Token2 Molto2 / Molto2v2 (50 or 100 TOTP profiles) on a USB CCID reader.
  list                      every profile's public block (no key needed); --all shows empty ones
  write --profile N         seed (SEED SOURCE), --title TEXT and the TOTP config, in that order;
                            refuses a profile holding a seed unless --overwrite
  delete --profile N        deletes the profile's seed (its title stays)
  sync (--profile N|--all)  sets the token's clock to this computer's, through one or every profile
  set-key                   changes the customer key (new key from --new-key-*); press ▲ to confirm
  reset                     factory reset: every profile deleted, factory key back; press ▲ to confirm,
                            then the token is checked (FACTORY_RESET_NOT_APPLIED when it was not reset)
  lock | unlock             screen lock (firmware 2.1 and later)

Options:
  --reader NAME     reader whose name contains NAME (default: the one reader with "molto" in its name)
  --simulate        use an emulated Molto2, factory-fresh on every run (behind pcscd and vpcd when they run)
  --data-dir DIR    while a daemon serves DIR (default $XDG_DATA_HOME/otpbridge), the token is reached
                    through it (set-key and reset too: the press is confirmed to the daemon)
  --algorithm       SHA1 (default) or SHA256        --digits 4|6|8|10 (default 6)
  --period 30|60    (default 30)                    --display 0-3: screen off after 15/30/60/120 s (default 1)
  --button-wait S   without a terminal, seconds allowed for the ▲ press (default 20)
The customer key (default: the factory key TOKEN2MOLTO1-KEY):
${keySourceHelp("key", "the customer key")}
The new key of set-key:
${keySourceHelp("new-key", "the new customer key")}
A wrong key costs one of the token's tries: the command stops at the first refusal and says how
many are left; it never tries again by itself. While the token still has the factory key, every
command that authenticates warns about it. set-key refuses the factory key as the new key and
warns about one shorter than 16 bytes. reset needs no key at all.

${SECRET_SOURCE_HELP}`;

const SUBCOMMANDS = ["list", "write", "delete", "sync", "set-key", "reset", "lock", "unlock"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const OPTIONS = {
  reader: { type: "string" },
  simulate: { type: "boolean" },
  "data-dir": { type: "string" },
  all: { type: "boolean" },
  profile: { type: "string" },
  title: { type: "string" },
  overwrite: { type: "boolean" },
  algorithm: { type: "string" },
  digits: { type: "string" },
  period: { type: "string" },
  display: { type: "string" },
  "button-wait": { type: "string" },
  secret: { type: "string" },
  uri: { type: "string" },
  "secret-stdin": { type: "boolean" },
  "secret-file": { type: "string" },
  "secret-env": { type: "string" },
  "key-stdin": { type: "boolean" },
  "key-file": { type: "string" },
  "key-env": { type: "string" },
  "key-hex": { type: "boolean" },
  "new-key-stdin": { type: "boolean" },
  "new-key-file": { type: "string" },
  "new-key-env": { type: "string" },
  "new-key-hex": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];

/** `otpbridge molto2 <sub-command>`. */
export async function runMolto2(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.out(MOLTO2_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw otpbError("INVALID_INPUT", `unknown molto2 sub-command ${JSON.stringify(sub)} (one of ${SUBCOMMANDS.join(", ")})`);
  }
  const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(MOLTO2_HELP);
    return 0;
  }
  if (values["key-stdin"] && (values["new-key-stdin"] || values["secret-stdin"])) {
    throw otpbError("INVALID_INPUT", "only one thing can come from standard input");
  }
  const buttonWait = parseInteger(values["button-wait"] ?? "20", "--button-wait", 1, 600);
  // Everything from the user is read and checked before the token is touched.
  const operation = prepare(sub as Subcommand, values, io);
  const customerKey = readCustomerKey(
    "key",
    { stdin: values["key-stdin"], file: values["key-file"], env: values["key-env"], hex: values["key-hex"] },
    io.readStdin,
  );
  try {
    const daemon = values.simulate === true ? undefined : await daemonFor(dataDirFrom(values));
    if (daemon !== undefined) {
      try {
        await operation(await molto2ThroughDaemon(daemon, values.reader, customerKey, buttonWait, io), ({ message }) => waitForPress(io, message, buttonWait));
      } finally {
        await daemon.close();
      }
      return 0;
    }
    const run = async (transport: ApduTransport, onButton: Molto2ButtonHandler): Promise<void> => {
      const session = await Molto2Session.open(transport, {
        ...(customerKey === undefined ? {} : { customerKey }),
        onWarning: ({ message }) => io.err(`warning: ${message}`),
      });
      try {
        await operation(session, onButton);
      } finally {
        await session.close();
      }
    };
    if (values.simulate) {
      await withSimulatedMolto2(async (transport, token, via) => {
        io.err(`simulated Molto2 (${via})`);
        await run(transport, async ({ message }) => {
          io.out(message);
          await sleep(300);
          token.pressButton(); // the simulated user presses it after reading the prompt
        });
      });
    } else {
      // Default: the one reader with "molto" in its name, never "TOKEN2", which FIDO keys share (§3.1).
      // Only that reader is opened and nothing is probed (§3.1, §5).
      await withMatchingReader(values.reader ?? "molto", (transport) => run(transport, ({ message }) => waitForPress(io, message, buttonWait)));
    }
  } finally {
    customerKey?.fill(0);
    operation.wipe?.();
  }
  return 0;
}

/** What a sub-command does with the token: a session here, or the daemon's molto2.* methods. */
type Molto2 = Pick<
  Molto2Session,
  "info" | "listProfiles" | "readProfile" | "writeProfile" | "deleteProfile" | "syncTime" | "setScreenLock" | "changeCustomerKey" | "factoryReset"
>;
type Operation = ((session: Molto2, onButton: Molto2ButtonHandler) => Promise<void>) & { wipe?: () => void };

/** A profile's public block as the daemon sends it. */
type RemoteProfile = Pick<Molto2ProfileEntry, "profile" | "title" | "flag" | "seedPresent" | "algorithm" | "digits" | "period">;

const asEntry = (p: RemoteProfile): Molto2ProfileEntry => ({ ...p, titleBytes: new TextEncoder().encode(p.title), timeA: 0, timeB: 0 });

/**
 * The Molto2 through the daemon's molto2.* methods, on a session that ends with the connection:
 * the device in the reader --reader names, else the one Molto2 the daemon lists. Its warnings (the
 * factory key in use) are printed as a session here prints them. set-key and reset prompt as here
 * when the daemon says the token waits for ▲ (molto2.button), and confirm the press to it.
 * @throws OtpbridgeError NO_DEVICE, AMBIGUOUS_DEVICE.
 */
async function molto2ThroughDaemon(
  daemon: DaemonClient,
  reader: string | undefined,
  customerKey: Uint8Array | undefined,
  buttonWait: number,
  io: CommandIo,
): Promise<Molto2> {
  const found = (await daemon.call<{ devices: DeviceInfo[] }>("devices.list")).devices.filter(
    (d) => d.family === "molto2" && d.state === "ready" && (reader === undefined || (d.reader ?? "").includes(reader)),
  );
  if (found.length === 0) throw otpbError("NO_DEVICE", "the daemon lists no Molto2");
  if (found.length > 1)
    throw otpbError("AMBIGUOUS_DEVICE", `the daemon lists several Molto2 (${found.map((d) => d.reader).join(", ")}): name one with --reader`);
  const { session } = await daemon.call<{ session: string }>("device.acquire", { id: found[0]!.id, previous: null });
  const key = customerKey === undefined ? {} : { customerKey: Buffer.from(customerKey).toString("hex") };
  const call = async <T>(method: string, params: object): Promise<T> => {
    const result = await daemon.call<T & { warnings?: Array<{ message: string }> }>(method, { session, ...key, ...params });
    for (const warning of result.warnings ?? []) io.err(`warning: ${warning.message}`);
    return result;
  };
  // Read when a sub-command lists (the public blocks of every profile take one read each).
  type Listed = { serial: string; clock: number; profiles: RemoteProfile[] };
  let listed: Listed | undefined;
  const list = async (): Promise<Listed> => (listed ??= await call<Listed>("molto2.list", {}));
  let written: RemoteProfile | undefined;
  // The daemon waits longer than the prompt here, which without a terminal waits buttonWait seconds.
  const daemonWait = Math.min(600, Math.max(120, buttonWait + 30));
  /** `method`, with the prompt `onButton` shows when the daemon says the token waits for ▲, then the confirmation. */
  const withButton = async (method: string, params: object, onButton: Molto2ButtonHandler): Promise<void> => {
    const prompted: Promise<void>[] = [];
    const off = daemon.on("molto2.button", (event) => {
      const { session: on, action, message } = event as Molto2ButtonPrompt & { session: string };
      if (on !== session) return;
      prompted.push(
        (async () => {
          await onButton({ action, message });
          await daemon.call("molto2.buttonPressed", { session });
        })(),
      );
    });
    try {
      await call(method, { ...params, buttonWait: daemonWait });
    } finally {
      off();
      // A confirmation the daemon no longer awaits (it timed out) is NOT_ACQUIRED: its own error says more.
      await Promise.allSettled(prompted);
    }
  };
  return {
    get info(): Molto2["info"] {
      if (listed === undefined) throw otpbError("INTERNAL", "the Molto2's info is read with its profiles");
      return { serial: listed.serial, clock: listed.clock } as Molto2["info"];
    },
    listProfiles: async () => (await list()).profiles.map(asEntry),
    readProfile: async (profile) => asEntry(written?.profile === profile ? written : (await list()).profiles.find((p) => p.profile === profile)!),
    writeProfile: async (profile, write, options) => {
      const { entry } = await call<{ entry: RemoteProfile }>("molto2.write", {
        profile,
        overwrite: options?.overwrite === true,
        ...(write.title !== undefined ? { title: write.title } : {}),
        ...(write.seed !== undefined ? { seed: Buffer.from(write.seed).toString("hex"), seedEncoding: "hex" } : {}),
        ...(write.config !== undefined ? { config: write.config } : {}),
      });
      written = entry;
    },
    deleteProfile: async (profile) => {
      await call("molto2.delete", { profile });
    },
    syncTime: (target) => call("molto2.syncTime", target === "all" ? {} : { profile: target.profile }),
    setScreenLock: async (locked) => {
      await call("molto2.screenLock", { locked });
    },
    changeCustomerKey: async (next, options) => {
      const hex = Buffer.from(next).toString("hex");
      await withButton("molto2.changeKey", { newCustomerKey: hex }, options.onButton);
    },
    factoryReset: async (options) => {
      await withButton("molto2.factoryReset", {}, options.onButton);
    },
  };
}

function profileOf(values: Values): number {
  if (values.profile === undefined) throw otpbError("INVALID_INPUT", "--profile N is required");
  return parseInteger(values.profile, "--profile", 0, 99);
}

function prepare(sub: Subcommand, values: Values, io: CommandIo): Operation {
  switch (sub) {
    case "list":
      return async (session) => {
        const profiles = await session.listProfiles();
        io.out(`Molto2 ${session.info.serial}, ${profiles.length} profiles, clock ${new Date(session.info.clock * 1000).toISOString()}`);
        const shown = values.all ? profiles : profiles.filter(used);
        for (const p of shown) io.out(describe(p));
        if (!values.all) io.out(`${shown.length} of ${profiles.length} profiles in use`);
      };
    case "write":
      return prepareWrite(values, io);
    case "delete": {
      const profile = profileOf(values);
      return async (session) => {
        await session.deleteProfile(profile);
        io.out(`profile ${profile}: seed deleted`);
      };
    }
    case "sync": {
      if (values.all === (values.profile !== undefined)) throw otpbError("INVALID_INPUT", "give --profile N or --all");
      const target = values.all ? ("all" as const) : { profile: profileOf(values) };
      return async (session) => {
        const { profiles, time } = await session.syncTime(target);
        io.out(`clock set to ${new Date(time * 1000).toISOString()} through ${profiles.length} profile(s)`);
      };
    }
    case "set-key": {
      const newKey = readCustomerKey(
        "new-key",
        {
          stdin: values["new-key-stdin"],
          file: values["new-key-file"],
          env: values["new-key-env"],
          hex: values["new-key-hex"],
        },
        io.readStdin,
      );
      if (newKey === undefined) throw otpbError("INVALID_INPUT", "set-key needs the new key: --new-key-stdin, --new-key-file or --new-key-env");
      try {
        // Refused before the token is touched; the session repeats the check and prints its warnings.
        checkNewCustomerKey(newKey);
      } catch (error) {
        newKey.fill(0);
        throw error;
      }
      const op: Operation = async (session, onButton) => {
        await session.changeCustomerKey(newKey, { onButton });
        io.out("customer key changed (the token accepted the new key)");
      };
      op.wipe = () => newKey.fill(0);
      return op;
    }
    case "reset":
      return async (session, onButton) => {
        await session.factoryReset({ onButton });
        io.out("factory reset confirmed: every profile is empty and the factory key is back");
      };
    case "lock":
    case "unlock":
      return async (session) => {
        await session.setScreenLock(sub === "lock");
        io.out(sub === "lock" ? "screen locked" : "screen unlocked");
      };
  }
}

function prepareWrite(values: Values, io: CommandIo): Operation {
  const profile = profileOf(values);
  const seedGiven = ["secret", "uri", "secret-stdin", "secret-file", "secret-env"].some((k) => values[k as keyof Values] !== undefined);
  const configGiven = ["algorithm", "digits", "period", "display"].some((k) => values[k as keyof Values] !== undefined);
  let seed: Uint8Array | undefined;
  let config: Molto2ProfileConfig | undefined;
  if (seedGiven) {
    const explicit = {
      ...(values.algorithm !== undefined ? { algorithm: values.algorithm.toUpperCase().replace("-", "") as HashAlgorithm } : {}),
      ...(values.digits !== undefined ? { digits: parseInteger(values.digits, "--digits", 1, 99) } : {}),
      ...(values.period !== undefined ? { period: parseInteger(values.period, "--period", 1, 86400) } : {}),
    };
    // The seed rules check the parameters (from the URI or the flags) against the Molto2's table.
    const input = readSeedInput(values, "molto2", explicit, io.readStdin);
    try {
      config = molto2Config(input.algorithm, String(input.digits), String(input.period), values.display);
    } catch (error) {
      input.secret.fill(0);
      throw error;
    }
    seed = input.secret;
  }
  // A seed always goes with its config: the codes depend on it, and it sets the clock (§3.9).
  if (config === undefined && configGiven) config = molto2Config(values.algorithm ?? "SHA1", values.digits ?? "6", values.period ?? "30", values.display);
  const write = { ...(seed ? { seed } : {}), ...(values.title !== undefined ? { title: values.title } : {}), ...(config ? { config } : {}) };
  const op: Operation = async (session) => {
    await session.writeProfile(profile, write, { overwrite: values.overwrite === true });
    io.out(describe(await session.readProfile(profile)));
  };
  op.wipe = () => seed?.fill(0);
  return op;
}

function molto2Config(algorithm: string, digits: string, period: string, display: string | undefined): Molto2ProfileConfig {
  const alg = algorithm.toUpperCase().replace("-", "");
  if (alg !== "SHA1" && alg !== "SHA256") throw otpbError("INVALID_INPUT", `a Molto2 computes SHA1 or SHA256 codes, not ${algorithm}`);
  const d = parseInteger(digits, "--digits", 4, 10);
  if (![4, 6, 8, 10].includes(d)) throw otpbError("INVALID_INPUT", `a Molto2 shows 4, 6, 8 or 10 digits, not ${d}`);
  const p = parseInteger(period, "--period", 1, 86400);
  if (p !== 30 && p !== 60) throw otpbError("INVALID_INPUT", `a Molto2 steps every 30 or 60 s, not ${p}`);
  return {
    algorithm: alg,
    digits: d as 4 | 6 | 8 | 10,
    period: p,
    display: parseInteger(display ?? "1", "--display", 0, 3) as 0 | 1 | 2 | 3,
  };
}

function used(p: Molto2ProfileEntry): boolean {
  return p.seedPresent || p.flag !== 0 || p.titleBytes.length > 0;
}

function describe(p: Molto2ProfileEntry): string {
  const params = p.algorithm === null ? "-" : `${p.algorithm} ${p.period}s ${p.digits} digits`;
  return `${String(p.profile).padStart(3)}  ${p.seedPresent ? "seed " : "empty"}  ${params.padEnd(20)}  ${JSON.stringify(p.title)}`;
}
