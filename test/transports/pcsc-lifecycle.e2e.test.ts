/**
 * The PC/SC manager across pcscd's life: started before pcscd, pcscd killed and restarted in the
 * middle of a session, and a clean exit. These tests stop and start the machine's pcscd (with the
 * command scripts/services.sh uses) and leave it running.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { PcscManager } from "../../src/transports/pcsc.js";
import { insertCard } from "../../src/transports/vpcd-bridge.js";
import { EchoCard, counterApdu } from "../fixtures/cards.js";
import { PCSCD_SOCKET, REPO_ROOT, VPCD_READERS, ensurePcscd, lockPcscd, missingPcscStack, startPcscd, stopPcscd } from "../fixtures/pcscd.js";
import { is, nextEvent } from "../fixtures/pcsc-events.js";

const missing = missingPcscStack();
if (missing) console.warn(`PC/SC lifecycle tests skipped: ${missing}`);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString("hex");

/** A TypeScript child process whose stdout lines are JSON messages. */
function child(...args: string[]) {
  const proc = spawn(process.execPath, ["test/transports/helpers/run-ts.mjs", "test/transports/helpers/manager-child.ts", ...args], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: proc.stdout })[Symbol.asyncIterator]();
  const exited = new Promise<number | null>((resolve) => proc.once("exit", (code) => resolve(code)));
  return {
    async next(): Promise<Record<string, any>> {
      const { value, done } = await lines.next();
      if (done) throw new Error("the child ended early");
      return JSON.parse(value);
    },
    /** Exit code, or "hung" if it has not exited within `ms` (then it is killed). */
    async exit(ms: number): Promise<number | null | "hung"> {
      const timer = new Promise<"hung">((resolve) => setTimeout(() => resolve("hung"), ms));
      const result = await Promise.race([exited, timer]);
      if (result === "hung") proc.kill();
      return result;
    },
  };
}

describe.skipIf(missing !== undefined)("PC/SC manager across pcscd stops and starts", () => {
  let release: () => void = () => {};

  beforeAll(async () => {
    release = await lockPcscd();
    ensurePcscd();
  });

  afterAll(() => {
    ensurePcscd();
    release();
  });

  it("starts without pcscd in a typed state without spinning, then picks the service up", async () => {
    stopPcscd();
    // A socket file left behind by a killed pcscd: present, but nobody answers on it.
    writeFileSync(PCSCD_SOCKET, "");
    const proc = child("absent", "300");
    const absent = await proc.next();
    expect(absent.status).toEqual({ state: "unavailable", reason: "PCSC_UNAVAILABLE", message: "PC/SC service not running" });
    expect(absent.wallMs).toBeGreaterThanOrEqual(990);
    expect(absent.cpuMs).toBeLessThan(100);
    console.info(`without pcscd: ${absent.cpuMs.toFixed(1)} ms CPU over ${absent.wallMs.toFixed(0)} ms`);
    const t0 = performance.now();
    startPcscd();
    const found = await proc.next();
    console.info(`pcscd started: ${found.readers.length} readers seen after ${(performance.now() - t0).toFixed(0)} ms`);
    expect(found.status).toEqual({ state: "ready" });
    expect([...found.readers].sort()).toEqual(VPCD_READERS.map((r) => r.name).sort());
    expect(await proc.next()).toEqual({ step: "closed" });
    expect(await proc.exit(5_000)).toBe(0);
  });

  it("exits by itself after close(), even called from a listener with a session open", async () => {
    const reader = VPCD_READERS[7]!;
    const proc = child("shutdown", String(reader.port));
    const session = await proc.next();
    expect(session).toMatchObject({ step: "session", reader: reader.name, answer: expect.stringMatching(/9000$/) });
    expect(await proc.next()).toEqual({ step: "closed", status: { state: "closed" } });
    expect(await proc.exit(5_000)).toBe(0);
  });

  // The binding's reader closed before its status thread has reported keeps the process alive
  // forever; without the manager's guard this hangs on every run.
  it("exits after being closed the moment its first reader appears, 30 times over", async () => {
    const proc = child("churn", "30");
    expect(await proc.next()).toEqual({ step: "closed" });
    expect(await proc.exit(5_000)).toBe(0);
  });

  it("reports pcscd killed mid-session as PCSC_UNAVAILABLE, then recovers when it restarts", async () => {
    const manager = await PcscManager.start({ retryMaxMs: 500 });
    try {
      const reader = VPCD_READERS[2]!;
      const card = new EchoCard();
      let seen = nextEvent(manager, is("card-inserted", reader.name));
      const slot = await insertCard(card, { port: reader.port });
      await seen;
      const session = await manager.connect(reader.name);
      expect(hex(await session.transmit(counterApdu())).endsWith("9000")).toBe(true);

      const lost = nextEvent(manager, (e) => e.type === "service" && e.state === "unavailable");
      const gone = nextEvent(manager, is("reader-removed", reader.name));
      const cardGone = nextEvent(manager, is("card-removed", reader.name));
      stopPcscd();
      await Promise.all([lost, gone, cardGone]);
      expect(manager.status).toMatchObject({ state: "unavailable", reason: "PCSC_UNAVAILABLE" });
      expect(reasonOf(await session.transmit(counterApdu()).catch((e: unknown) => e))).toBe("PCSC_UNAVAILABLE");
      await session.close();
      await slot.gone; // vpcd went down with pcscd: the card is out
      expect(reasonOf(await manager.connect(reader.name).catch((e: unknown) => e))).toBe("PCSC_UNAVAILABLE");
      expect(manager.readers()).toEqual([]);

      // Waiting for the service costs next to nothing (backoff, no busy loop).
      const cpu0 = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const cpu = process.cpuUsage(cpu0);
      expect((cpu.user + cpu.system) / 1000).toBeLessThan(100);

      const back = nextEvent(manager, (e) => e.type === "service" && e.state === "ready", 5_000);
      const readerBack = nextEvent(manager, is("reader-added", reader.name), 5_000);
      startPcscd();
      await Promise.all([back, readerBack]);
      seen = nextEvent(manager, is("card-inserted", reader.name));
      const again = await insertCard(card, { port: reader.port });
      await seen;
      const answer = await manager.withCard(reader.name, (t) => t.transmit(counterApdu()));
      expect(hex(answer).endsWith("9000")).toBe(true);
      const removed = nextEvent(manager, is("card-removed", reader.name));
      await again.remove();
      await removed;
    } finally {
      await manager.close();
    }
  });
});
