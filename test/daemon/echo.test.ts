/**
 * Finding 8 of the adversarial review: a seed put into the wrong field must not come back in the
 * error. Each call below puts a base32 seed where another value belongs, against the real daemon;
 * the error names the field and what it accepts, and quotes nothing of what was sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RpcClient, startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

const SEED = "KRSXG5CTMVSWIMJSGM2DKNRXHA4TA";

describe("errors never quote a rejected value", () => {
  let d: DaemonProcess;
  let c: RpcClient;
  let single: string;
  let molto2: string;
  beforeAll(async () => {
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    c = await RpcClient.native(d);
    const { devices } = (await c.call("devices.list")).result;
    single = (await c.call("device.acquire", { id: devices.find((x: any) => x.family === "single-profile").id, previous: null })).result.session;
    molto2 = (await c.call("device.acquire", { id: devices.find((x: any) => x.family === "molto2").id, previous: null })).result.session;
  });
  afterAll(async () => {
    c.close();
    await d.stop();
  });

  const cases: Array<[string, () => [string, unknown], RegExp]> = [
    ["token.burn algorithm", () => ["token.burn", { session: single, algorithm: SEED }], /algorithm must be one of SHA1, SHA256/],
    [
      "token.burn seedEncoding",
      () => ["token.burn", { session: single, seed: "JBSWY3DPEHPK3PXP", seedEncoding: SEED }],
      /seedEncoding must be one of base32, hex/,
    ],
    ["batch items[].period", () => ["batch.create", { name: "x", items: [{ seed: "JBSWY3DPEHPK3PXP", period: SEED }] }], /period must be one of/],
    [
      "batch CSV algorithm column",
      () => ["batch.create", { name: "x", csv: `upn,secret,algorithm\na@example.com,JBSWY3DPEHPK3PXP,${SEED}\n` }],
      /algorithm must be SHA1 or SHA256/,
    ],
    [
      "batch CSV without its header row",
      () => ["batch.create", { name: "x", csv: `${SEED},a@example.com\nJBSWY3DPEHPK3PXP,b@example.com\n` }],
      /column 1 of the header row/,
    ],
    ["molto2.write config.digits", () => ["molto2.write", { session: molto2, profile: 0, config: { digits: SEED } }], /digits must be one of 4, 6, 8, 10/],
    ["a session that is not one", () => ["token.info", { session: SEED }], /no such session/],
  ];

  it.each(cases)("%s", async (_name, request, names) => {
    const [method, params] = request();
    const reply = await c.call(method, params);
    expect(reply.error, JSON.stringify(reply)).toBeDefined();
    expect(reply.error.message).toMatch(names);
    expect(JSON.stringify(reply.error)).not.toContain(SEED.slice(0, 8));
  });

  it("keeps the log free of them too", () => {
    expect(d.stderr.join("\n")).not.toContain(SEED.slice(0, 8));
  });
});
