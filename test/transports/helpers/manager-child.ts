/**
 * Child process for the PC/SC lifecycle tests (run through run-ts.mjs). Prints JSON lines on
 * stdout and never calls process.exit: the test checks that the process ends by itself.
 *   absent <retryMaxMs>  start without pcscd; report the state and the CPU time used over 1 s;
 *                        then wait until the parent starts pcscd and report the readers; close.
 *   shutdown <port>      start, put a card in the vpcd slot at <port>, open a session, then close
 *                        the manager from inside an event listener with the session still open.
 *   churn <times>        start a manager and close it as soon as its first reader appears, before
 *                        that reader's status thread has reported, <times> times over.
 */
import { PcscManager } from "../../../src/transports/pcsc.js";
import { insertCard } from "../../../src/transports/vpcd-bridge.js";
import { EchoCard, counterApdu } from "../../fixtures/cards.js";

const say = (message: Record<string, unknown>): void => console.log(JSON.stringify(message));
const [mode, arg] = process.argv.slice(2);

if (mode === "absent") {
  const manager = await PcscManager.start({ retryMaxMs: Number(arg) });
  const before = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const cpu = process.cpuUsage(before);
  say({ step: "absent", status: manager.status, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() - t0 });
  const readers = await new Promise<string[]>((resolve) => {
    const seen: string[] = [];
    manager.on((event) => {
      if (event.type === "reader-added") seen.push(event.reader);
      if (seen.length === 8) resolve(seen);
    });
  });
  say({ step: "readers", status: manager.status, readers });
  await manager.close();
  say({ step: "closed" });
} else if (mode === "shutdown") {
  const manager = await PcscManager.start();
  const inserted = new Promise<string>((resolve) =>
    manager.on((event) => {
      if (event.type === "card-inserted") resolve(event.reader);
    }),
  );
  const slot = await insertCard(new EchoCard(), { port: Number(arg) });
  const reader = await inserted;
  const session = await manager.connect(reader);
  const answer = Buffer.from(await session.transmit(counterApdu())).toString("hex");
  say({ step: "session", reader, answer });
  // Closed from inside a listener, i.e. inside the binding's status callback, session still open.
  const closed = new Promise<void>((resolve) =>
    manager.on((event) => {
      if (event.type === "card-removed") void manager.close().then(resolve);
    }),
  );
  await slot.remove();
  await closed;
  say({ step: "closed", status: manager.status });
} else if (mode === "churn") {
  for (let i = 0; i < Number(arg); i++) {
    const manager = await PcscManager.start();
    await new Promise<void>((resolve) =>
      manager.on((event) => {
        if (event.type === "reader-added") void manager.close().then(resolve);
      }),
    );
  }
  say({ step: "closed" });
} else {
  throw new Error(`unknown mode ${mode}`);
}
