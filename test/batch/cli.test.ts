/**
 * `otpbridge batch` in process (main() with captured output): create from a CSV file and from a
 * URI file, run on simulated readers to the end, status, export (0600), and what printing shows:
 * codes for the operator, never a seed. A journal that is not ours (random bytes, another
 * application's SQLite file) is refused by the CLI and by the daemon with a clear error, and its
 * bytes are left as they were.
 */
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import hiBase32 from "hi-base32";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runCli } from "../fixtures/cli.js";
import { startDaemon } from "../../src/daemon/daemon.js";
import { parseOtpauthUri } from "../../src/input/secret.js";
import { silentLogger } from "../../src/lib/log.js";
import { OtpbridgeError } from "../../src/lib/errors.js";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";

let root: string;
let dataDir: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "otpb-batch-cli-"));
  dataDir = join(root, "data");
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const sha = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("otpbridge batch", () => {
  it("keeps the journal under a passphrase when asked: no key file, and the wrong or no passphrase is refused", async () => {
    process.env.OTPB_TEST_PASSPHRASE = "correct horse battery staple";
    process.env.OTPB_TEST_WRONG = "incorrect horse";
    try {
      const withPass = ["--data-dir", dataDir, "--passphrase-env", "OTPB_TEST_PASSPHRASE"];
      expect((await runCli(["batch", "create", "--generate", "3", "--name", "locked", ...withPass])).code).toBe(0);
      expect(readdirSync(dataDir)).not.toContain("seed.key");
      const run = await runCli(["batch", "run", "1", "--simulate", "--readers", "1", ...withPass]);
      expect(run.code).toBe(0);
      expect(run.out.filter((l) => l.startsWith("done "))).toHaveLength(3);

      const wrong = await runCli(["batch", "status", "1", "--data-dir", dataDir, "--passphrase-env", "OTPB_TEST_WRONG"]);
      expect(wrong.code).toBe(EXIT_CODES.WRONG_PASSPHRASE);
      expect(wrong.err.at(-1)).toMatch(/wrong passphrase for journal/);
      const none = await runCli(["batch", "status", "1", "--data-dir", dataDir]);
      expect(none.code).not.toBe(0);
      expect(none.err.at(-1)).toMatch(/was created with a passphrase; open it with the passphrase/);
      expect([...run.err, ...wrong.err, ...none.err].join("\n")).not.toContain("horse");
    } finally {
      delete process.env.OTPB_TEST_PASSPHRASE;
      delete process.env.OTPB_TEST_WRONG;
    }
  }, 60_000);

  it("create from a CSV, run on 3 simulated readers to the end, status and export; nothing printed holds a seed", async () => {
    const given = randomBytes(20);
    const csvPath = join(root, "users.csv");
    writeFileSync(
      csvPath,
      `upn,secret\nalice@example.com,${hiBase32.encode(given)}\n${Array.from({ length: 8 }, (_, i) => `user${i}@example.com,`).join("\n")}\n`,
    );
    const created = await runCli(["batch", "create", "--csv", csvPath, "--name", "march", "--data-dir", dataDir]);
    expect(created).toMatchObject({ code: 0, out: [expect.stringMatching(/^batch 1 "march": 9 items/)] });

    const run = await runCli(["batch", "run", "1", "--simulate", "--readers", "3", "--data-dir", dataDir]);
    expect(run.code).toBe(0);
    const done = run.out.filter((l) => l.startsWith("done "));
    expect(done).toHaveLength(9);
    expect(new Set(done.map((l) => /Simulated NFC reader \d/.exec(l)?.[0]))).toEqual(
      new Set(["Simulated NFC reader 1", "Simulated NFC reader 2", "Simulated NFC reader 3"]),
    );
    expect(run.out.join("\n")).toMatch(/batch 1 "march" \(finished\): 9 of 9 committed/);

    // After the last item the batch says it is finished, not running.
    const status = await runCli(["batch", "status", "1", "--json", "--data-dir", dataDir]);
    expect(JSON.parse(status.out.join("\n"))).toMatchObject({ state: "finished", total: 9, done: 9, finished: true });
    expect((await runCli(["batch", "status", "1", "--data-dir", dataDir])).out[0]!.split("\n")[0]).toBe('batch 1 "march" (finished): 9 of 9 committed');
    expect((await runCli(["batch", "list", "--data-dir", dataDir])).out).toEqual(["   1  finished   9 committed  march"]);

    const out = join(root, "tokens.txt");
    const exported = await runCli(["batch", "export", "1", "--format", "otpauth", "--out", out, "--data-dir", dataDir]);
    expect(exported.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const accounts = readFileSync(out, "utf8")
      .trim()
      .split("\n")
      .map((u) => parseOtpauthUri(u));
    expect(accounts).toHaveLength(9);
    expect(Buffer.from(accounts.find((a) => a.label === "alice@example.com")!.secret).equals(given)).toBe(true);

    const printed = [created, run, status, exported].flatMap((r) => [...r.out, ...r.err]).join("\n");
    for (const account of accounts) {
      const seed = Buffer.from(account.secret);
      for (const form of [seed.toString("hex"), hiBase32.encode(seed).replace(/=+$/, ""), seed.toString("base64").replace(/=+$/, "")]) {
        expect(printed.includes(form)).toBe(false);
      }
    }
  }, 30_000);

  it("create from a URI file; PSKC export needs a password from the environment", async () => {
    const uris = join(root, "uris.txt");
    writeFileSync(uris, "# exported accounts\notpauth://totp/ACME:bob?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=ACME\n\n");
    expect((await runCli(["batch", "create", "--uris", uris, "--name", "u", "--data-dir", dataDir])).code).toBe(0);
    const refused = await runCli(["batch", "export", "1", "--format", "pskc", "--out", join(root, "x.pskc"), "--data-dir", dataDir]);
    expect(refused.code).toBe(2);
    expect(refused.err.join("\n")).toMatch(/--password-env/);
    const wrong = await runCli(["batch", "create", "--generate", "5", "--csv", uris, "--name", "x", "--data-dir", dataDir]);
    expect(wrong.code).toBe(2);
  });

  describe("a journal that is not ours is refused, untouched", () => {
    function plant(write: (path: string) => void): string {
      mkdirSync(dataDir, { mode: 0o700 });
      const path = join(dataDir, "journal.sqlite");
      write(path);
      chmodSync(path, 0o600);
      return path;
    }

    it("random bytes: the CLI exits 65 (JOURNAL_CORRUPT) and the daemon does not start", async () => {
      const path = plant((p) => writeFileSync(p, randomBytes(8192)));
      const before = sha(path);
      const listed = await runCli(["batch", "list", "--data-dir", dataDir]);
      expect(listed.code).toBe(65);
      expect(listed.err.join("\n")).toContain(path);
      await expect(startDaemon({ port: 0, dataDir, simulate: true, log: silentLogger })).rejects.toMatchObject({ reason: "JOURNAL_CORRUPT" });
      expect(sha(path)).toBe(before);
      expect(readdirSync(dataDir).filter((f) => f.startsWith("journal"))).toEqual(["journal.sqlite"]);
    });

    it("another application's SQLite file: JOURNAL_FOREIGN, its table intact", async () => {
      const path = plant((p) => {
        const db = new Database(p);
        db.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('keep me')");
        db.close();
      });
      const before = sha(path);
      const created = await runCli(["batch", "create", "--generate", "3", "--name", "x", "--data-dir", dataDir]);
      expect(created.code).toBe(65);
      const error = await startDaemon({ port: 0, dataDir, simulate: true, log: silentLogger }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OtpbridgeError);
      expect((error as OtpbridgeError).reason).toBe("JOURNAL_FOREIGN");
      expect(sha(path)).toBe(before);
    });
  });
});
