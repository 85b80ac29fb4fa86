import { fork } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { OtpbridgeError } from "../../src/lib/errors.js";
import { Journal } from "../../src/store/journal.js";
import { bundleChild } from "./children/build.js";
import { TEST_SCRYPT, openKeyFileJournal, sha256File, tempRoot } from "./helpers.js";

const here = dirname(fileURLToPath(import.meta.url));

function thrown(fn: () => unknown): OtpbridgeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(OtpbridgeError);
    return error as OtpbridgeError;
  }
  throw new Error("expected a throw");
}

let t: ReturnType<typeof tempRoot>;
beforeEach(() => (t = tempRoot()));
afterEach(() => t.cleanup());

describe("journal files that are not ours are refused untouched", () => {
  function refuse(bytes: Buffer | ((path: string) => void), reason: string): void {
    mkdirSync(t.dataDir, { mode: 0o700 });
    const path = join(t.dataDir, "journal.sqlite");
    if (typeof bytes === "function") bytes(path);
    else writeFileSync(path, bytes, { mode: 0o600 });
    chmodSync(path, 0o600);
    const before = sha256File(path);
    const err = thrown(() => openKeyFileJournal(t.dataDir));
    expect(err.reason).toBe(reason);
    expect(err.message).toContain(path);
    expect(sha256File(path)).toBe(before);
    // Not even SQLite's side files or a key file were created next to it.
    expect(readdirSync(t.dataDir).sort()).toEqual(["journal.sqlite"]);
  }

  it("random bytes: JOURNAL_CORRUPT", () => refuse(randomBytes(8192), "JOURNAL_CORRUPT"));

  it("a truncated SQLite header: JOURNAL_CORRUPT", () => refuse(Buffer.from("SQLite format 3\0garbage"), "JOURNAL_CORRUPT"));

  it("another application's SQLite database: JOURNAL_FOREIGN", () =>
    refuse((path) => {
      const db = new Database(path);
      db.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes (body) VALUES ('keep me')");
      db.close();
    }, "JOURNAL_FOREIGN"));

  it("a SQLite file with no id and no table (another otpbridge creating its journal this instant) is taken as new", () => {
    mkdirSync(t.dataDir, { mode: 0o700 });
    const path = join(t.dataDir, "journal.sqlite");
    const db = new Database(path);
    db.exec("CREATE TABLE scratch (x); DROP TABLE scratch");
    db.close();
    chmodSync(path, 0o600);
    const journal = openKeyFileJournal(t.dataDir);
    try {
      expect(journal.batches()).toEqual([]);
    } finally {
      journal.close();
    }
  });

  it("eight processes opening a new data directory's journal at the same moment all open it (one creates it)", async () => {
    const script = await bundleChild(join(here, "children", "open-at-once.ts"));
    try {
      const children = Array.from({ length: 8 }, () => fork(script, [t.dataDir], { stdio: ["ignore", "ignore", "pipe", "ipc"] }));
      const replies = children.map((child) => {
        const messages: string[] = [];
        const ready = new Promise<void>((resolve) =>
          child.on("message", (m) => {
            messages.push(String(m));
            if (m === "ready") resolve();
          }),
        );
        const done = new Promise<string>((resolve) => child.once("exit", () => resolve(messages.at(-1) ?? "no reply")));
        return { ready, done };
      });
      await Promise.all(replies.map((r) => r.ready));
      for (const child of children) child.send("go");
      expect(await Promise.all(replies.map((r) => r.done))).toEqual(Array(8).fill("ok"));
    } finally {
      rmSync(dirname(script), { recursive: true, force: true });
    }
  }, 60_000);

  it("a journal from a newer otpbridge: JOURNAL_VERSION", () =>
    refuse((path) => {
      const db = new Database(path);
      db.pragma("application_id = 0x4f545042");
      db.pragma("user_version = 99");
      db.exec("CREATE TABLE meta (key TEXT)");
      db.close();
    }, "JOURNAL_VERSION"));

  it("our journal with a damaged page: JOURNAL_CORRUPT, bytes unchanged", () => {
    const journal = openKeyFileJournal(t.dataDir);
    journal.createBatch({ name: "b", count: 200 });
    journal.close();
    const path = join(t.dataDir, "journal.sqlite");
    // Fold the WAL into the main file, then overwrite page 3 onwards (the header stays valid).
    const db = new Database(path);
    db.pragma("wal_checkpoint(TRUNCATE)");
    db.pragma("journal_mode = DELETE");
    db.close();
    const bytes = readFileSync(path);
    randomBytes(4096).copy(bytes, 4096 * 2);
    writeFileSync(path, bytes);
    const before = sha256File(path);
    const err = thrown(() => openKeyFileJournal(t.dataDir));
    expect(err.reason).toBe("JOURNAL_CORRUPT");
    expect(sha256File(path)).toBe(before);
  });
});

describe("keys", () => {
  it("refuses a key file readable by others, and says how to fix it", () => {
    openKeyFileJournal(t.dataDir).close();
    const keyPath = join(t.dataDir, "seed.key");
    chmodSync(keyPath, 0o644);
    const err = thrown(() => openKeyFileJournal(t.dataDir));
    expect(err.reason).toBe("KEY_FILE_PERMISSIONS");
    expect(err.message).toContain(`chmod 600 ${keyPath}`);
    chmodSync(keyPath, 0o600);
    openKeyFileJournal(t.dataDir).close();
  });

  it("refuses a data directory open to others", () => {
    mkdirSync(t.dataDir, { mode: 0o700 });
    chmodSync(t.dataDir, 0o755);
    expect(thrown(() => openKeyFileJournal(t.dataDir)).reason).toBe("DATA_DIR_PERMISSIONS");
  });

  it("a missing or replaced key file is KEY_MISMATCH, never a silent new key", () => {
    openKeyFileJournal(t.dataDir).close();
    const keyPath = join(t.dataDir, "seed.key");
    rmSync(keyPath);
    expect(thrown(() => openKeyFileJournal(t.dataDir)).reason).toBe("KEY_MISMATCH");
    expect(existsSync(keyPath)).toBe(false);
    writeFileSync(keyPath, randomBytes(32), { mode: 0o600 });
    expect(thrown(() => openKeyFileJournal(t.dataDir)).reason).toBe("KEY_MISMATCH");
  });

  it("passphrase journals: right passphrase opens, wrong one is WRONG_PASSPHRASE, seeds intact", () => {
    const open = (passphrase: string) => Journal.open({ dataDir: t.dataDir, key: { kind: "passphrase", passphrase, scrypt: TEST_SCRYPT } });
    let journal = open("correct horse battery staple");
    const id = journal.createBatch({ name: "p", items: [{ seed: Buffer.from("12345678901234567890") }] }).id;
    journal.setBatchState(id, "start");
    journal.close();
    expect(readdirSync(t.dataDir)).not.toContain("seed.key");
    expect(thrown(() => open("correct horse battery stapler")).reason).toBe("WRONG_PASSPHRASE");
    expect(thrown(() => openKeyFileJournal(t.dataDir)).reason).toBe("KEY_MISMATCH");
    journal = open("correct horse battery staple");
    const claim = journal.claimNext(id, { serial: "P1" });
    expect(claim.outcome === "claimed" && Buffer.from(claim.seed).toString()).toBe("12345678901234567890");
    journal.close();
  });

  it("a ciphertext moved to another row fails authentication (SEED_TAMPERED), nothing claimed", () => {
    let journal = openKeyFileJournal(t.dataDir);
    const id = journal.createBatch({ name: "b", count: 2 }).id;
    journal.setBatchState(id, "start");
    journal.close();
    const db = new Database(join(t.dataDir, "journal.sqlite"));
    db.exec(`UPDATE items SET seed_nonce = (SELECT seed_nonce FROM items WHERE id = 2),
                              seed_sealed = (SELECT seed_sealed FROM items WHERE id = 2) WHERE id = 1`);
    db.close();
    journal = openKeyFileJournal(t.dataDir);
    expect(thrown(() => journal.claimNext(id, { serial: "Z" })).reason).toBe("SEED_TAMPERED");
    expect(journal.item(1).state).toBe("pending");
    expect(journal.item(1).serial).toBe(null);
    journal.close();
  });
});

describe("a full disk never lets a burn start without its claim", () => {
  it("claims fail with JOURNAL_FULL once SQLite cannot grow the file, and leave the item pending", () => {
    let journal = openKeyFileJournal(t.dataDir);
    const id = journal.createBatch({ name: "b", count: 300 }).id;
    journal.setBatchState(id, "start");
    journal.close();
    const pages = (() => {
      const db = new Database(join(t.dataDir, "journal.sqlite"), { readonly: true });
      const n = db.pragma("page_count", { simple: true }) as number;
      db.close();
      return n;
    })();
    journal = openKeyFileJournal(t.dataDir, { maxPageCount: pages });
    let full: OtpbridgeError | undefined;
    let claimed = 0;
    for (let i = 0; i < 300 && full === undefined; i++) {
      try {
        const r = journal.claimNext(id, { serial: `D${i}` });
        if (r.outcome !== "claimed") throw new Error(r.outcome);
        r.seed.fill(0);
        claimed++;
      } catch (error) {
        full = error as OtpbridgeError;
      }
    }
    expect(full?.reason).toBe("JOURNAL_FULL");
    journal.close();
    journal = openKeyFileJournal(t.dataDir);
    const failedSerial = `D${claimed}`;
    expect(journal.items(id).some((item) => item.serial === failedSerial)).toBe(false);
    expect(journal.status(id).counts).toMatchObject({ claimed, pending: 300 - claimed });
    expect(journal.events(id).filter((e) => e.kind === "item.claimed")).toHaveLength(claimed);
    journal.close();
  });
});

describe("crash safety of the claim", () => {
  it("a child killed right after claimNext returns leaves the claim, with the same seed, for the next open", async () => {
    let journal = openKeyFileJournal(t.dataDir);
    const id = journal.createBatch({ name: "crash", count: 3 }).id;
    journal.setBatchState(id, "start");
    journal.close();

    const script = await bundleChild(join(here, "children", "claim-and-hang.ts"));
    const child = fork(script, [t.dataDir, String(id), "CRASH-1"], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
    const report = await new Promise<{ itemId: number; seedHash: string }>((resolve, reject) => {
      child.once("message", (m) => resolve(m as { itemId: number; seedHash: string }));
      child.once("exit", (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");
    rmSync(dirname(script), { recursive: true, force: true });

    journal = openKeyFileJournal(t.dataDir);
    expect(journal.item(report.itemId)).toMatchObject({ state: "claimed", serial: "CRASH-1", attempts: 1 });
    const again = journal.claimNext(id, { serial: "CRASH-1" });
    expect(again.outcome).toBe("resumed");
    if (again.outcome !== "resumed") return;
    expect(again.item.id).toBe(report.itemId);
    expect(createHash("sha256").update(again.seed).digest("hex")).toBe(report.seedHash);
    journal.close();
  });
});
