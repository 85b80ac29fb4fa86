/**
 * Runs INSIDE the HID test VM (scripts/hidvm/run.sh): makes virtual keys through uhid in a child
 * process, then drives the real node-hid transport (src/transports/hid.ts) against them through
 * hidraw, then the OTP-applet driver against the emulator (applet-scenario.ts), then the daemon
 * process serving the emulated key over its WebSocket API (daemon-scenario.ts), and prints one
 * `HIDVM-RESULT {json}` line that test/hid-vm/hid-vm.e2e.test.ts checks.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { devicesAsync } from "node-hid";
import { reasonOf } from "../../src/lib/errors.js";
import { listToken2HidDevices, openHidTransport } from "../../src/transports/hid.js";
import type { HidTransport } from "../../src/transports/hid-types.js";
import { appletScenario } from "./applet-scenario.js";
import { daemonScenario } from "./daemon-scenario.js";
import type { FromDevice, ToDevice } from "./device-process.js";
import { DOUBLE, fixtureAnswer, SILENT } from "./fixture-device.js";
import { DEVICES, ROUND_TRIPS, TIMEOUT_MS } from "./scenario.js";
import { nowMs } from "./uhid-device.js";

const child = fork(fileURLToPath(new URL("./device-process.js", import.meta.url)), [], {
  stdio: ["ignore", "inherit", "inherit", "ipc"],
  env: { ...process.env, UV_THREADPOOL_SIZE: "8" }, // one blocking /dev/uhid read per device
});
const events: FromDevice[] = [];
const listeners = new Set<() => void>();
child.on("message", (message: FromDevice) => {
  events.push(message);
  if (message.event === "error") console.error(`device process: ${message.message}`);
  for (const listener of listeners) listener();
});

/** The first `event` of device `key` among the events from index `from` on. */
function waitEvent(event: FromDevice["event"], key: string, timeoutMs = 10_000, from = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const found = events.slice(from).find((e) => e.event === event && "key" in e && e.key === key);
      if (found === undefined || !("at" in found)) return false;
      listeners.delete(listener);
      clearTimeout(timer);
      resolve(found.at);
      return true;
    };
    const listener = (): void => void check();
    const timer = setTimeout(() => {
      listeners.delete(listener);
      reject(new Error(`no ${event} event for ${key} within ${timeoutMs} ms`));
    }, timeoutMs);
    listeners.add(listener);
    check();
  });
}

const toDevice = (message: ToDevice): void => void child.send(message);

function outcome(error: unknown, startedAt: number): { reason: string; message: string; ms: number } {
  return { reason: reasonOf(error), message: error instanceof Error ? error.message : String(error), ms: nowMs() - startedAt };
}

async function failure(promise: Promise<unknown>, startedAt: number): Promise<{ reason: string; message: string; ms: number } | "resolved"> {
  try {
    await promise;
    return "resolved";
  } catch (error) {
    return outcome(error, startedAt);
  }
}

function report(first: number): Uint8Array {
  const bytes = new Uint8Array(randomBytes(64));
  bytes[0] = first;
  return bytes;
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((byte, i) => byte === b[i]);

async function roundTrips(transport: HidTransport): Promise<{ matched: number; latenciesMs: number[] }> {
  let matched = 0;
  const latenciesMs: number[] = [];
  for (let i = 0; i < ROUND_TRIPS; i++) {
    const request = report(0x21);
    const [expected] = fixtureAnswer(request);
    const startedAt = nowMs();
    await transport.write(request);
    const answer = await transport.read(2_000);
    latenciesMs.push(nowMs() - startedAt);
    if (expected !== undefined && equal(answer, expected)) matched++;
  }
  return { matched, latenciesMs };
}

async function main(): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const device of DEVICES.slice(0, 2)) {
    toDevice({ cmd: "create", device });
    await waitEvent("started", device.key);
  }
  // Load node-hid's native part and udev before the clock starts: the figure is the kernel's and hidapi's.
  await devicesAsync();
  const target = DEVICES[2]!;
  toDevice({ cmd: "create", device: target });
  const createdAt = await waitEvent("created", target.key);

  // Enumeration: poll until the key is listed (hidraw node made and its report descriptor parsed).
  let found = await listToken2HidDevices();
  while (found.length === 0 && nowMs() - createdAt < 10_000) {
    await new Promise((resolve) => setTimeout(resolve, 2));
    found = await listToken2HidDevices();
  }
  result.enumerationMs = nowMs() - createdAt;
  result.selected = found;
  result.allDevices = (await devicesAsync()).map(({ vendorId, productId, usagePage, usage, product, serialNumber, path }) => ({
    vendorId,
    productId,
    usagePage,
    usage,
    product,
    serialNumber,
    path,
  }));
  const path = found[0]?.path;
  if (path === undefined) return result;

  const transport = await openHidTransport(path);
  result.shortWrite = await failure(transport.write(new Uint8Array(63)), nowMs());
  result.roundTrips = await roundTrips(transport);

  const double = report(DOUBLE);
  const expectedDouble = fixtureAnswer(double);
  await transport.write(double);
  const answers = [await transport.read(2_000), await transport.read(2_000)];
  result.doubleInOrder = answers.every((answer, i) => equal(answer, expectedDouble[i]!));

  await transport.write(report(SILENT));
  const timeoutStart = nowMs();
  result.timeout = await failure(transport.read(TIMEOUT_MS), timeoutStart);
  result.afterTimeout = (await oneRoundTrip(transport)) ? "usable" : "broken";

  // Unplug while a read waits: the device process destroys the key mid-exchange.
  await transport.write(report(SILENT));
  const pending = failure(transport.read(10_000), 0);
  await new Promise((resolve) => setTimeout(resolve, 50));
  toDevice({ cmd: "destroy", key: target.key });
  const destroyingAt = await waitEvent("destroying", target.key);
  const unplug = await pending;
  result.unplug = unplug === "resolved" ? unplug : { ...unplug, ms: unplug.ms - destroyingAt };
  result.writeAfterUnplug = await failure(transport.write(report(0x21)), nowMs());
  const closeStart = nowMs();
  await transport.close();
  result.closeMs = nowMs() - closeStart;
  result.readAfterClose = await failure(transport.read(100), nowMs());
  await waitEvent("destroyed", target.key);
  result.listedAfterUnplug = (await listToken2HidDevices()).length;
  result.reopenAfterUnplug = await failure(openHidTransport(path), nowMs());
  // Same boot, second scenario: the OTP-applet emulator behind uhid and the driver over node-hid.
  result.applet = await appletScenario(toDevice, (key) => waitEvent("started", key));
  // Third: the daemon serving a key over hidraw (the same key is plugged in twice: only newer events count).
  result.daemon = await daemonScenario(
    toDevice,
    (key) => waitEvent("started", key, 10_000, events.length),
    (key) => waitEvent("destroyed", key),
  );
  return result;
}

/** One more exchange, to show a timeout leaves the transport usable. */
async function oneRoundTrip(transport: HidTransport): Promise<boolean> {
  const request = report(0x21);
  await transport.write(request);
  return equal(await transport.read(2_000), fixtureAnswer(request)[0]!);
}

main()
  .then((result) => {
    console.log(`HIDVM-RESULT ${JSON.stringify(result)}`);
    toDevice({ cmd: "exit" });
    child.on("exit", () => process.exit(0));
  })
  .catch((error: unknown) => {
    console.error(error);
    child.kill();
    process.exit(1);
  });
