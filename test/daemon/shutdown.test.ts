/**
 * SIGTERM while burns are under way: the daemon lets them finish, closes the journal and exits 0;
 * no journal item is left between claimed and committed.
 */
import { expect, it } from "vitest";
import { Journal } from "../../src/store/journal.js";
import { RpcClient, startDaemonProcess } from "../fixtures/daemon.js";

it("stops cleanly on SIGTERM in the middle of burns, leaving no half-written item", async () => {
  const d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" }, args: ["--simulate-tokens", "8"] });
  const c = await RpcClient.native(d);
  const sessions: string[] = [];
  for (let i = 1; i <= 8; i++) sessions.push((await c.call("device.acquire", { id: `pcsc:Simulated Reader ${i}`, previous: null })).result.session);
  const closed = c.closed();
  for (const [i, session] of sessions.entries()) c.ws.send(JSON.stringify({ jsonrpc: "2.0", id: 100 + i, method: "token.burn", params: { session } }));
  d.child.kill("SIGTERM");
  expect(await d.stop()).toBe(0);
  expect(await closed).toBe(1001);
  const lines = d.stderr.map((l) => JSON.parse(l));
  expect(lines.at(-1), JSON.stringify(lines.slice(-6))).toMatchObject({ msg: "daemon stopped" });
  const journal = Journal.open({ dataDir: d.dataDir, key: { kind: "keyFile" } });
  try {
    const items = journal.batches().flatMap((b) => journal.items(b.id));
    for (const item of items) expect(["committed", "failed"]).toContain(item.state);
    console.log(`${items.length} of 8 burns had started before SIGTERM; all ended committed or failed`);
  } finally {
    journal.close();
  }
});
