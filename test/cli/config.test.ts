/**
 * The daemon's configuration file: read from XDG_CONFIG_HOME (or --config), overridden by flags,
 * shown by --print-config with where each value comes from, used by a real daemon process, and an
 * invalid file refused with its path, line and reason (exit 78, nothing started).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { runCli } from "../fixtures/cli.js";
import { RpcClient, startDaemonProcess } from "../fixtures/daemon.js";

const work = mkdtempSync(join(tmpdir(), "otpb-config-"));
const saved = process.env.XDG_CONFIG_HOME;
const configDir = join(work, "xdg", "otpbridge");
const defaultFile = join(configDir, "config.toml");

function write(path: string, text: string): string {
  writeFileSync(path, text);
  return path;
}

/** The --print-config lines, as key → [value text, source]. */
function printed(out: string[]): Map<string, [string, string]> {
  return new Map(
    out.slice(1).flatMap((line) => {
      const m = /^(?:# )?([a-z-]+)(?: = (.*?)| is not set)\s+# (.+)$/.exec(line);
      return m ? [[m[1]!, [m[2] ?? "", m[3]!] as [string, string]]] : [];
    }),
  );
}

describe("daemon configuration file", () => {
  beforeAll(() => {
    process.env.XDG_CONFIG_HOME = join(work, "xdg");
    mkdirSync(configDir, { recursive: true });
  });
  afterEach(() => rmSync(defaultFile, { force: true }));
  afterAll(() => {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
    rmSync(work, { recursive: true, force: true });
  });

  it("without a file, every setting is the default", async () => {
    const r = await runCli(["daemon", "--print-config"]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toBe(`# otpbridge daemon settings in effect; configuration file: ${defaultFile}`);
    expect([...printed(r.out).values()].map(([, source]) => source)).toEqual(Array(15).fill("default"));
    expect(printed(r.out).get("port")).toEqual(["21630", "default"]);
  });

  it("reads the file in XDG_CONFIG_HOME; a flag overrides it; --print-config names each source with its line", async () => {
    write(defaultFile, '# a station\nport = 4100\nlog-level = "warn"\ndata-dir = "state"\n\nfamily = ["ACS ACR1252=single-profile"]\nntp = "127.0.0.1:1123"\n');
    const r = await runCli(["daemon", "--print-config", "--port", "4200", "--max-rate", "7"]);
    expect(r.code).toBe(0);
    const p = printed(r.out);
    expect(p.get("port")).toEqual(["4200", "--port"]);
    expect(p.get("max-rate")).toEqual(["7", "--max-rate"]);
    expect(p.get("log-level")).toEqual(['"warn"', `${defaultFile}:3`]);
    expect(p.get("data-dir")).toEqual([JSON.stringify(join(configDir, "state")), `${defaultFile}:4`]);
    expect(p.get("family")).toEqual(['["ACS ACR1252=single-profile"]', `${defaultFile}:6`]);
    expect(p.get("ntp")).toEqual(['"127.0.0.1:1123"', `${defaultFile}:7`]);
    expect(p.get("max-sockets")).toEqual(["256", "default"]);
  });

  it("a station's settings: the store, its name, the batch to join and the passphrase's file (a path, never the passphrase)", async () => {
    write(defaultFile, 'store = "postgresql://station:secret@db.example/enrol"\nstation = "desk-1"\nshared-batch = 3\nbatch-passphrase-file = "pass.txt"\n');
    const r = await runCli(["daemon", "--print-config", "--station", "desk-2"]);
    expect(r.code).toBe(0);
    const p = printed(r.out);
    expect(p.get("store")).toEqual(['"postgresql://station:***@db.example/enrol"', `${defaultFile}:1`]);
    expect(p.get("station")).toEqual(['"desk-2"', "--station"]);
    expect(p.get("shared-batch")).toEqual(["3", `${defaultFile}:3`]);
    expect(p.get("batch-passphrase-file")).toEqual([JSON.stringify(join(configDir, "pass.txt")), `${defaultFile}:4`]);
    expect(r.out.join("\n")).not.toContain("secret");
    write(defaultFile, "shared-batch = 0\n");
    const bad = await runCli(["daemon", "--print-config"]);
    expect(bad.code).toBe(EXIT_CODES.CONFIG_INVALID);
    expect(bad.err.join("\n")).toContain(`${defaultFile}:1`);
  });

  it("a daemon process started with --config uses the file (one socket at most: a second client is refused)", async () => {
    const file = write(join(work, "station.toml"), 'data-dir = "station-data"\nmax-sockets = 1\n');
    // startDaemonProcess gives --port 0 and --data-dir itself, and those flags win over the file.
    const d = await startDaemonProcess({ args: ["--config", file], env: { OTPBRIDGE_SIMULATE_LINK: "memory", XDG_CONFIG_HOME: join(work, "none") } });
    try {
      // Over TCP (the Unix socket has its own count): the one TCP socket the file allows.
      const first = await RpcClient.native({ port: d.port, token: d.token });
      const second = await RpcClient.open(d.port, { Authorization: `Bearer ${d.token}` }).then(
        (c) => {
          c.close();
          return "accepted";
        },
        (error: { status?: number }) => error.status,
      );
      first.close();
      expect(second).not.toBe("accepted");
      expect(d.stderr.some((line) => line.includes('"daemon: configuration read"') && line.includes(file))).toBe(true);
    } finally {
      expect(await d.stop()).toBe(0);
    }
    const shown = printed((await runCli(["daemon", "--config", file, "--print-config", "--data-dir", join(work, "flag-data")])).out);
    expect(shown.get("data-dir")).toEqual([JSON.stringify(join(work, "flag-data")), "--data-dir"]);
    expect(shown.get("max-sockets")).toEqual(["1", `${file}:2`]);
    const fromFile = printed((await runCli(["daemon", "--config", file, "--print-config"])).out);
    expect(fromFile.get("data-dir")).toEqual([JSON.stringify(join(work, "station-data")), `${file}:1`]);
  });

  it.each([
    ["not TOML", 'port = 4100\nlog-level = "warn\n', ":2:", "not valid TOML"],
    ["an unknown key", "port = 4100\n\nprot = 4101\n", ":3:", 'unknown option "prot"; known: port, data-dir'],
    ["a string where an integer goes", 'port = "4100"\n', ":1:", "port must be an integer, got a string"],
    ["a port out of range", "\nport = 99999\n", ":2:", "port must be between 0 and 65535"],
    ["an unknown log level", 'log-level = "loud"\n', ":1:", "log-level must be one of debug, info, warn, error, off"],
    ["a malformed family rule", 'family = ["no equals sign"]\n', ":1:", "--family must be READER="],
    ["a secret-looking key", 'passphrase = "hunter2hunter2"\n', ":1:", 'unknown option "passphrase"'],
  ])("refuses %s with the file, the line and the reason, and starts nothing", async (_what, text, line, reason) => {
    write(defaultFile, text);
    const r = await runCli(["daemon", "--port", "0"]);
    expect(r.code).toBe(EXIT_CODES.CONFIG_INVALID);
    expect(r.out).toEqual([]);
    const message = r.err.join("\n");
    expect(message).toContain(`configuration ${defaultFile}${line}`);
    expect(message).toContain(reason);
    expect(message).not.toContain("hunter2");
  });

  it("a --config file that does not exist is an error; a missing default file is not", async () => {
    const r = await runCli(["daemon", "--config", join(work, "absent.toml"), "--print-config"]);
    expect(r.code).toBe(EXIT_CODES.CONFIG_INVALID);
    expect(r.err.join("\n")).toContain("absent.toml: no such file");
    expect((await runCli(["daemon", "--print-config"])).code).toBe(0);
  });
});
