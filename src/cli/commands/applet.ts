import { parseArgs } from "node:util";
import { OtpAppletSession } from "../../drivers/otp-applet.js";
import type { HashAlgorithm } from "../../crypto/hash.js";
import { otpbError } from "../../lib/errors.js";
import type { OtpEntryRecord, OtpEntryWrite } from "../../protocol/otp-entries.js";
import { listToken2HidDevices, openHidTransport } from "../../transports/hid.js";
import type { DaemonClient } from "../../client/daemon-client.js";
import type { DeviceInfo } from "../../drivers/device-manager.js";
import { daemonFor } from "../daemon-link.js";
import type { CommandIo } from "../io.js";
import { dataDirFrom } from "../journal-key.js";
import { withMatchingReader } from "../pcsc-reader.js";
import { readSeedInput, SECRET_SOURCE_HELP } from "../secret-source.js";
import { simulatedOtpKey } from "../../simulation/simulation.js";
import { parseInteger } from "./code.js";
import { nowSeconds } from "../../lib/time.js";

export const APPLET_HELP = `Usage: otpbridge applet <list|add|delete|code> [options]

The OTP applet of Token2 FIDO keys (PIN+, T2F2): TOTP/HOTP entries kept on the key.
  list                              every entry, with the codes for --time (default now)
  add --account A [--app I]         adds (or replaces) an entry; the seed is sealed to the key (SEED SOURCE)
  delete --account A [--app I]      deletes an entry
  code --account A [--app I]        the entry's code for --time; entries that need a touch wait for it

Options:
  --hid PATH        the key's hidraw path (default: the one Token2 FIDO key attached over USB HID)
  --reader NAME     use PC/SC instead: the reader whose name contains NAME (NFC or the key's CCID)
  --simulate        use an emulated key, empty on every run, over an in-memory HID link
  --data-dir DIR    while a daemon serves DIR (default $XDG_DATA_HOME/otpbridge), the key is reached through it
  --app ISSUER      issuer name, ASCII, up to 64 characters (default empty)
  --account NAME    account name, ASCII, 1 to 64 characters
  --algorithm SHA1|SHA256 (default SHA1)   --digits 4-10 (default 6)   --period S (default 30)
  --hotp            a counter-based (HOTP) entry instead of TOTP
  --touch           the entry's code needs a touch of the key
  --time UNIX       the time codes are computed for (default now)

${SECRET_SOURCE_HELP}`;

const SUBCOMMANDS = ["list", "add", "delete", "code"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

const OPTIONS = {
  hid: { type: "string" },
  reader: { type: "string" },
  simulate: { type: "boolean" },
  "data-dir": { type: "string" },
  app: { type: "string" },
  account: { type: "string" },
  algorithm: { type: "string" },
  digits: { type: "string" },
  period: { type: "string" },
  hotp: { type: "boolean" },
  touch: { type: "boolean" },
  time: { type: "string" },
  secret: { type: "string" },
  uri: { type: "string" },
  "secret-stdin": { type: "boolean" },
  "secret-file": { type: "string" },
  "secret-env": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>["values"];
/** What a sub-command does with the key's applet: a session here, or the daemon's otpApplet.* methods. */
type Applet = Pick<OtpAppletSession, "list" | "code" | "add" | "delete">;
type Operation = ((session: Applet) => Promise<void>) & { wipe?: () => void };

/** `otpbridge applet <sub-command>`. */
export async function runApplet(argv: string[], io: CommandIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    io.out(APPLET_HELP);
    return sub === undefined ? 2 : 0;
  }
  if (!(SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw otpbError("INVALID_INPUT", `unknown applet sub-command ${JSON.stringify(sub)} (one of ${SUBCOMMANDS.join(", ")})`);
  }
  const { values } = parseArgs({ args: rest, options: OPTIONS, strict: true });
  if (values.help) {
    io.out(APPLET_HELP);
    return 0;
  }
  if ([values.hid !== undefined, values.reader !== undefined, values.simulate === true].filter(Boolean).length > 1) {
    throw otpbError("INVALID_INPUT", "choose one of --hid, --reader and --simulate");
  }
  const operation = prepare(sub as Subcommand, values, io);
  try {
    const dataDir = dataDirFrom(values);
    const daemon = values.simulate === true ? undefined : await daemonFor(dataDir);
    if (daemon === undefined) {
      await withSession(values, io, operation);
    } else {
      try {
        await operation(await appletThroughDaemon(daemon, values));
      } finally {
        await daemon.close();
      }
    }
  } finally {
    operation.wipe?.();
  }
  return 0;
}

/**
 * The key's applet through the daemon's otpApplet.* methods, on a session that ends with the
 * connection: the key --reader or --hid names, else the one the daemon lists.
 * @throws OtpbridgeError DEVICE_GONE (no key), INVALID_INPUT (several: name one).
 */
async function appletThroughDaemon(daemon: DaemonClient, values: Values): Promise<Applet> {
  const keys = (await daemon.call<{ devices: DeviceInfo[] }>("devices.list")).devices.filter(
    (d) =>
      d.family === "otp-applet" &&
      d.state === "ready" &&
      (values.reader === undefined || (d.reader ?? "").includes(values.reader)) &&
      (values.hid === undefined || d.path === values.hid),
  );
  if (keys.length === 0) throw otpbError("DEVICE_GONE", "no Token2 FIDO key is attached (the daemon lists none)");
  if (keys.length > 1)
    throw otpbError(
      "INVALID_INPUT",
      `several Token2 FIDO keys are attached (${keys.map((k) => k.reader ?? k.path).join(", ")}): name one with --reader or --hid`,
    );
  const { session } = await daemon.call<{ session: string }>("device.acquire", { id: keys[0]!.id, previous: null });
  return {
    list: async (time) => (await daemon.call<{ entries: OtpEntryRecord[] }>("otpApplet.list", { session, ...(time !== undefined ? { time } : {}) })).entries,
    code: (app, account, time) => daemon.call("otpApplet.code", { session, app, account, ...(time !== undefined ? { time } : {}) }),
    add: async (entry) => {
      await daemon.call("otpApplet.add", {
        session,
        app: entry.app,
        account: entry.account,
        type: entry.type,
        algorithm: entry.algorithm,
        digits: entry.digits,
        ...(entry.type === "TOTP" ? { period: entry.period } : {}),
        buttonRequired: entry.buttonRequired,
        seed: Buffer.from(entry.seed).toString("hex"),
        seedEncoding: "hex",
      });
    },
    delete: async (app, account) => {
      await daemon.call("otpApplet.delete", { session, app, account });
    },
  };
}

function time(values: Values): number {
  return values.time === undefined ? nowSeconds() : parseInteger(values.time, "--time", 0, Number.MAX_SAFE_INTEGER);
}

function names(values: Values): { app: string; account: string } {
  if (values.account === undefined) throw otpbError("INVALID_INPUT", "--account NAME is required");
  return { app: values.app ?? "", account: values.account };
}

function prepare(sub: Subcommand, values: Values, io: CommandIo): Operation {
  switch (sub) {
    case "list":
      return async (session) => {
        const entries = await session.list(time(values));
        for (const e of entries) io.out(describe(e));
        io.out(`${entries.length} entr${entries.length === 1 ? "y" : "ies"}`);
      };
    case "delete": {
      const { app, account } = names(values);
      return async (session) => {
        await session.delete(app, account);
        io.out(`deleted ${label(app, account)}`);
      };
    }
    case "code": {
      const { app, account } = names(values);
      return async (session) => {
        io.out((await session.code(app, account, time(values))).code);
      };
    }
    case "add":
      return prepareAdd(values, io);
  }
}

function prepareAdd(values: Values, io: CommandIo): Operation {
  const { app, account } = names(values);
  const explicit = {
    ...(values.algorithm !== undefined ? { algorithm: values.algorithm.toUpperCase().replace("-", "") as HashAlgorithm } : {}),
    ...(values.digits !== undefined ? { digits: parseInteger(values.digits, "--digits", 1, 99) } : {}),
    ...(values.period !== undefined ? { period: parseInteger(values.period, "--period", 1, 65535) } : {}),
  };
  // The seed rules check the parameters (from the URI or the flags) against the applet's table.
  const seed = readSeedInput(values, "otp-applet", explicit, io.readStdin);
  if (seed.fromUri && values.hotp) {
    seed.secret.fill(0);
    throw otpbError("INVALID_INPUT", "--hotp cannot be given with an otpauth URI, which is a TOTP account");
  }
  const entry: OtpEntryWrite = {
    type: values.hotp ? "HOTP" : "TOTP",
    algorithm: seed.algorithm as OtpEntryWrite["algorithm"],
    period: values.hotp ? 0 : seed.period,
    digits: seed.digits,
    buttonRequired: values.touch === true,
    app,
    account,
    seed: seed.secret,
  };
  const op: Operation = async (session) => {
    await session.add(entry);
    io.out(`added ${label(app, account)} (${entry.type} ${entry.algorithm} ${entry.digits} digits${entry.type === "TOTP" ? `, ${entry.period} s` : ""})`);
  };
  op.wipe = () => entry.seed.fill(0);
  return op;
}

function label(app: string, account: string): string {
  return app === "" ? account : `${app}:${account}`;
}

function describe(e: OtpEntryRecord): string {
  const params = `${e.type} ${e.algorithm} ${e.digits}${e.type === "TOTP" ? ` ${e.period}s` : ""}${e.buttonRequired ? " touch" : ""}`;
  return `${(e.code ?? "-").padStart(10)}  ${params.padEnd(22)}  ${label(e.app, e.account)}`;
}

/** Opens the session the flags ask for, runs `op`, closes everything. */
async function withSession(values: Values, io: CommandIo, op: Operation): Promise<void> {
  const onTouch = (): void => io.out("touch your key");
  if (values.simulate) {
    const { key, hid } = simulatedOtpKey();
    io.err("simulated Token2 FIDO key (in-memory HID)");
    const session = await OtpAppletSession.openHid(hid, {
      onTouch: () => {
        onTouch();
        setTimeout(() => key.touch(), 300); // the simulated user touches it after reading the prompt
      },
    });
    try {
      await op(session);
    } finally {
      await session.close();
      await hid.close();
    }
    return;
  }
  if (values.reader !== undefined) {
    await withMatchingReader(values.reader, async (transport) => op(await OtpAppletSession.openPcsc(transport)));
    return;
  }
  let path = values.hid;
  if (path === undefined) {
    const keys = await listToken2HidDevices();
    if (keys.length === 0) throw otpbError("DEVICE_GONE", "no Token2 FIDO key is attached over USB HID (use --reader for NFC)");
    if (keys.length > 1) throw otpbError("INVALID_INPUT", `several Token2 FIDO keys are attached (${keys.map((k) => k.path).join(", ")}): name one with --hid`);
    path = keys[0]!.path;
  }
  const hid = await openHidTransport(path);
  try {
    const session = await OtpAppletSession.openHid(hid, { onTouch });
    try {
      await op(session);
    } finally {
      await session.close();
    }
  } finally {
    await hid.close();
  }
}
