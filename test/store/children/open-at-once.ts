/**
 * Child process for the parallel-open test: waits for the parent's "go", then opens the journal in
 * argv[2] as `otpbridge burn` does (retrying while another process holds it), and reports "ok" or
 * what stopped it.
 */
import { Journal } from "../../../src/store/journal.js";

const [dataDir] = process.argv.slice(2) as [string];

function openWhenFree(): Journal {
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      return Journal.open({ dataDir, key: { kind: "keyFile" } });
    } catch (error) {
      if ((error as { reason?: string }).reason !== "JOURNAL_BUSY" || Date.now() > deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 40);
    }
  }
}

process.once("message", () => {
  try {
    const journal = openWhenFree();
    journal.batches();
    journal.close();
    process.send?.("ok");
  } catch (error) {
    process.send?.(`${(error as { reason?: string }).reason ?? (error as NodeJS.ErrnoException).code ?? "error"}: ${(error as Error).message}`);
  }
  process.disconnect?.();
});
process.send?.("ready");
