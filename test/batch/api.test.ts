/**
 * The batch API of the real daemon process (from source, `--simulate` on in-memory readers with
 * three single-profile tokens): batch.create from CSV, URIs and items with their errors, start,
 * the batch.item / batch.progress events, BATCH_BUSY, pause, cancel, status, list and export.
 * Then the secrets audit (issue #6): the journal directory's bytes (the key file aside), every log
 * line at debug level and every message the daemon sent other than the export results hold no
 * seed as raw bytes, hex, base32 or base64.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "csv-parse/sync";
import hiBase32 from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, startDaemonProcess, waitForEvent, type DaemonProcess } from "../fixtures/daemon.js";

const ALICE_SEED = Buffer.from("0123456789abcdef0123456789abcdef01234567", "hex");
const URI_SEEDS = [Buffer.alloc(20, 0x5a), Buffer.alloc(32, 0x3c)];
const b32 = (seed: Buffer): string => hiBase32.encode(seed).replace(/=+$/, "");

/** Every encoding of a seed the audit looks for. */
function forms(seed: Buffer): Buffer[] {
  const hex = seed.toString("hex");
  return [
    seed,
    Buffer.from(hex),
    Buffer.from(hex.toUpperCase()),
    Buffer.from(b32(seed)),
    Buffer.from(b32(seed).toLowerCase()),
    Buffer.from(seed.toString("base64").replace(/=+$/, "")),
  ];
}

describe("batch API", () => {
  let d: DaemonProcess;
  let c: RpcClient;
  const received: string[] = [];
  const exportReplies: string[] = [];

  beforeAll(async () => {
    d = await startDaemonProcess({ args: ["--simulate-tokens", "3", "--log-level", "debug"], env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    c = await RpcClient.native(d);
    c.ws.on("message", (data) => received.push(String(data)));
  }, 60_000);

  afterAll(async () => {
    c?.close();
    if (d !== undefined) await d.stop();
  });

  it("refuses a CSV with an unknown column, or a row the tokens cannot hold, naming the line", async () => {
    const unknown = await c.call("batch.create", { name: "x", csv: "upn,secert\nalice@example.com,JBSWY3DPEHPK3PXP\n" });
    expect(unknown.error.data).toMatchObject({ reason: "INVALID_INPUT", line: 1 });
    expect(unknown.error.message).toMatch(/column \d+ of the header row is not a known column/);
    const eight = await c.call("batch.create", { name: "x", csv: "upn,digits\nalice@example.com,6\nbob@example.com,8\n" });
    expect(eight.error.data).toMatchObject({ reason: "NOT_BURNABLE", line: 3 });
    const bad = await c.call("batch.create", { name: "x", csv: "upn,secret\nalice@example.com,JBSWY3DPEHPK3PX1\n" });
    expect(bad.error.data).toMatchObject({ reason: "INVALID_SECRET_FORMAT", line: 2 });
    expect(bad.error.message).not.toContain("JBSWY3DPEHPK3PX1");
    const two = await c.call("batch.create", { name: "x", csv: "upn\na@example.com\n", generate: 3 });
    expect(two.error.data.reason).toBe("INVALID_INPUT");
  });

  it("runs a CSV batch on every reader, with batch.item and batch.progress events, and exports it", async () => {
    const csv = `UPN,Secret,Algorithm,Period\nalice@example.com,${b32(ALICE_SEED)},SHA1,30\nbob@example.com,,,60\ncarol@example.com,,sha-1,\n`;
    const created = await c.call("batch.create", { name: "march", csv });
    expect(created.result).toMatchObject({ total: 3, batch: { state: "created", name: "march" } });
    const batchId = created.result.batch.id;
    expect((await c.call("batch.start", { batchId })).result.batch.state).toBe("running");
    const finished = await waitForEvent(c, "batch.progress", (p) => p.batchId === batchId && p.finished && p.inFlight === 0, 10_000);
    expect(finished?.params).toMatchObject({ total: 3, done: 3, counts: { committed: 3 } });
    const items = c.events.filter((e) => e.method === "batch.item" && e.params.batchId === batchId).map((e) => e.params);
    expect(items).toHaveLength(3);
    expect(new Set(items.map((i) => i.reader)).size).toBe(3);
    for (const item of items) {
      expect(item).toMatchObject({ outcome: "committed", model: expect.any(String) });
      expect(item.codes.current).toMatch(/^\d{6}$/);
    }
    // The operator types the code the token shows: checked against the item's seed (±1 step).
    const shown = items[0].codes;
    expect((await c.call("batch.checkCode", { batchId, itemId: items[0].itemId, code: shown.current })).result).toMatchObject({
      match: true,
      serial: items[0].serial,
    });
    const wrong = [...Array(10).keys()]
      .map((k) => String((Number(shown.current) + 1 + k) % 1_000_000).padStart(6, "0"))
      .find((x) => ![shown.previous, shown.current, shown.next].includes(x));
    expect((await c.call("batch.checkCode", { batchId, itemId: items[0].itemId, code: wrong })).result).toMatchObject({ match: false, stepOffset: null });
    expect((await c.call("batch.checkCode", { batchId, itemId: 999, code: "123456" })).error.data.reason).toBe("ITEM_STATE");
    const status = (await c.call("batch.status", { batchId })).result;
    expect(status).toMatchObject({ driven: true, progress: { state: "finished", done: 3, finished: true } });

    const exported = await c.call("batch.export", { batchId, format: "entra-csv" });
    exportReplies.push(JSON.stringify(exported));
    expect(exported.result).toMatchObject({ format: "entra-csv", count: 3 });
    const rows = parse(exported.result.content, { columns: true }) as Record<string, string>[];
    const alice = rows.find((r) => r.upn === "alice@example.com")!;
    expect(alice["secret key"]).toBe(b32(ALICE_SEED));
    expect(rows.find((r) => r.upn === "bob@example.com")!["time interval"]).toBe("60");
    // Each row carries the serial of the token it went on.
    expect(new Set(rows.map((r) => r["serial number"]))).toEqual(new Set(items.map((i) => i.serial)));
  });

  it("a second batch: the tokens of the first are reported, not burned; BATCH_BUSY for a third; pause, cancel, list", async () => {
    const uris = URI_SEEDS.map(
      (seed, i) => `otpauth://totp/Example:user${i}@example.com?secret=${b32(seed)}&issuer=Example&algorithm=${i === 0 ? "SHA1" : "SHA256"}`,
    );
    const second = (await c.call("batch.create", { name: "uris", uris })).result;
    expect(second).toMatchObject({ total: 2, batch: { issuer: "Example" } });
    const third = (await c.call("batch.create", { name: "gen", generate: 4, period: 60 })).result;
    const before = c.events.length;
    await c.call("batch.start", { batchId: second.batch.id });
    const conflicts = async (): Promise<number> => {
      await waitForEvent(c, "batch.item", () => c.events.slice(before).filter((e) => e.method === "batch.item").length >= 3, 5_000);
      return c.events.slice(before).filter((e) => e.method === "batch.item" && e.params.outcome === "conflict").length;
    };
    expect(await conflicts()).toBe(3);
    const busy = await c.call("batch.start", { batchId: third.batch.id });
    expect(busy.error.data).toMatchObject({ reason: "BATCH_BUSY", batchId: second.batch.id });
    expect((await c.call("batch.pause", { batchId: second.batch.id })).result.batch.state).toBe("paused");
    expect((await c.call("batch.start", { batchId: third.batch.id })).result.batch.state).toBe("running");
    expect((await c.call("batch.cancel", { batchId: second.batch.id })).result.batch.state).toBe("cancelled");
    expect((await c.call("batch.resume", { batchId: second.batch.id })).error.data.reason).toBe("BATCH_STATE");
    const list = (await c.call("batch.list")).result.batches;
    expect(list.map((b: { name: string; state: string }) => [b.name, b.state])).toEqual([
      ["march", "running"],
      ["uris", "cancelled"],
      ["gen", "running"],
    ]);
    expect((await c.call("batch.status", { batchId: 99 })).error.data.reason).toBe("BATCH_NOT_FOUND");
  });

  it("secrets audit: no seed in the journal files, the debug log or any message but the exports", async () => {
    const exported = JSON.parse(exportReplies[0]!).result.content as string;
    const seeds = [
      ALICE_SEED,
      ...URI_SEEDS,
      ...(parse(exported, { columns: true }) as Record<string, string>[]).map((r) => Buffer.from(hiBase32.decode.asBytes(r["secret key"]!))),
    ];
    expect(seeds).toHaveLength(6);
    c.close();
    expect(await d.stop()).toBe(0);
    const haystacks: Array<[string, Buffer]> = [
      ...readdirSync(d.dataDir)
        .filter((f) => f !== "seed.key")
        .map((f): [string, Buffer] => [f, readFileSync(join(d.dataDir, f))]),
      ["daemon log", Buffer.from(d.stderr.join("\n"))],
      ["messages", Buffer.from(received.filter((m) => !exportReplies.includes(m) && !m.includes('"content"')).join("\n"))],
    ];
    expect(haystacks.find(([name]) => name === "journal.sqlite")![1].length).toBeGreaterThan(0);
    expect(d.stderr.some((line) => line.includes('"level":"debug"'))).toBe(true);
    const hits: string[] = [];
    for (const [name, bytes] of haystacks) {
      seeds.forEach((seed, i) => forms(seed).forEach((form, f) => bytes.includes(form) && hits.push(`${name}: seed ${i} form ${f}`)));
    }
    expect(hits).toEqual([]);
  });
});
