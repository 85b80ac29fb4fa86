import { describe, expect, it } from "vitest";
import { reasonOf } from "../../src/lib/errors.js";
import { MemoryHidTransport } from "../../src/transports/hid-memory.js";
import { HID_REPORT_SIZE } from "../../src/transports/hid-types.js";
import { DOUBLE, fixtureAnswer, fixtureDevice, SILENT } from "../hid-vm/fixture-device.js";

function report(first: number, fill = 0x5a): Uint8Array {
  const bytes = new Uint8Array(HID_REPORT_SIZE).fill(fill);
  bytes[0] = first;
  return bytes;
}

const reasonOfRejection = async (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => "resolved",
    (error: unknown) => reasonOf(error),
  );

describe("MemoryHidTransport", () => {
  it("delivers the device's answers, one report per read, in order", async () => {
    const transport = new MemoryHidTransport(fixtureDevice);
    const single = report(0x21);
    await transport.write(single);
    expect(await transport.read(100)).toEqual(fixtureAnswer(single)[0]);
    const double = report(DOUBLE);
    await transport.write(double);
    const [first, second] = fixtureAnswer(double);
    expect(await transport.read(100)).toEqual(first);
    expect(await transport.read(100)).toEqual(second);
  });

  it("serves reads in call order, also when they wait before the write", async () => {
    const transport = new MemoryHidTransport(fixtureDevice);
    const reads = [transport.read(1_000), transport.read(1_000)];
    const double = report(DOUBLE);
    await transport.write(double);
    expect(await Promise.all(reads)).toEqual(fixtureAnswer(double));
  });

  it("times out with DEVICE_TIMEOUT after the real time, and stays usable", async () => {
    const transport = new MemoryHidTransport(fixtureDevice);
    await transport.write(report(SILENT));
    const started = performance.now();
    expect(await reasonOfRejection(transport.read(60))).toBe("DEVICE_TIMEOUT");
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    await transport.write(report(0x21));
    expect((await transport.read(100))[0]).toBe(0x22);
  });

  it("fails a waiting read with DEVICE_GONE on unplug, then every call, and still closes", async () => {
    const transport = new MemoryHidTransport(fixtureDevice, "fixture");
    const pending = reasonOfRejection(transport.read(5_000));
    const started = performance.now();
    transport.unplug();
    expect(await pending).toBe("DEVICE_GONE");
    expect(performance.now() - started).toBeLessThan(100);
    expect(await reasonOfRejection(transport.write(report(0x21)))).toBe("DEVICE_GONE");
    expect(await reasonOfRejection(transport.read(10))).toBe("DEVICE_GONE");
    await transport.close();
    await transport.close();
    expect(await reasonOfRejection(transport.read(10))).toBe("TRANSPORT_CLOSED");
  });

  it("fails a waiting read with TRANSPORT_CLOSED on close, and drops unread answers", async () => {
    const transport = new MemoryHidTransport(fixtureDevice);
    const pending = reasonOfRejection(transport.read(5_000));
    await transport.close();
    expect(await pending).toBe("TRANSPORT_CLOSED");
    expect(await reasonOfRejection(transport.write(report(0x21)))).toBe("TRANSPORT_CLOSED");
  });

  it("checks its inputs and the device's answers", async () => {
    const transport = new MemoryHidTransport(fixtureDevice);
    expect(await reasonOfRejection(transport.write(new Uint8Array(65)))).toBe("INVALID_INPUT");
    expect(await reasonOfRejection(transport.read(0))).toBe("INVALID_INPUT");
    const broken = new MemoryHidTransport({ handleReport: () => [new Uint8Array(65)] });
    expect(await reasonOfRejection(broken.write(report(0x21)))).toBe("MALFORMED_RESPONSE");
  });

  it("gives the device its own copy of each report", async () => {
    const seen: Uint8Array[] = [];
    const transport = new MemoryHidTransport({
      handleReport: (r) => {
        seen.push(r);
        return [];
      },
    });
    const sent = report(0x21, 0x11);
    await transport.write(sent);
    sent.fill(0);
    expect(seen[0]).toEqual(report(0x21, 0x11));
  });
});
