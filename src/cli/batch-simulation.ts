/**
 * `otpbridge batch run --simulate`: in-memory readers with an operator who never tires. Each
 * reader holds an emulated single-profile token; once the engine is done with it (committed, or
 * to be removed), the token is taken out and a fresh one with the next serial goes in, so a whole
 * batch can be shown running, in parallel on every reader, without hardware.
 */
import type { BatchItemEvent } from "../service/batch-engine.js";
import type { FamilyRule } from "../drivers/device-manager.js";
import { MemoryReaders } from "../drivers/memory-readers.js";
import { SingleProfileToken } from "../emulator/single-profile-token.js";

export interface BatchSimulation {
  pcsc: MemoryReaders;
  families: FamilyRule[];
  /** Every token handed out so far, by serial. */
  tokens: Map<string, SingleProfileToken>;
  /** Called with each batch.item event: swaps the token of a reader that is done with it. */
  onItem(event: BatchItemEvent): void;
}

/** The n-th OTPC-P2-i serial (prefix 86596221, TOKEN2.md §2.1). */
function serialOf(n: number): string {
  return `86596221${String(n).padStart(6, "0")}`;
}

/**
 * `readers` simulated readers named "Simulated NFC reader 1".."N", each with a fresh token.
 * @example const sim = simulatedBatchReaders(4); engine.onItem((e) => sim.onItem(e));
 */
export function simulatedBatchReaders(readers: number): BatchSimulation {
  const pcsc = new MemoryReaders();
  const tokens = new Map<string, SingleProfileToken>();
  let next = 1;
  const insertNew = (reader: string): void => {
    const serial = serialOf(next++);
    const token = new SingleProfileToken({ serial });
    tokens.set(serial, token);
    pcsc.insert(reader, token);
  };
  const names = Array.from({ length: readers }, (_, i) => `Simulated NFC reader ${i + 1}`);
  for (const name of names) {
    pcsc.addReader(name);
    insertNew(name);
  }
  return {
    pcsc, tokens,
    families: names.map((reader) => ({ reader, match: "exact", family: "single-profile" })),
    onItem: (event) => {
      // "interrupted" cannot happen in memory without a fault; anything else means: next token.
      if (event.outcome === "interrupted") return;
      // Swapped on the next turn of the event loop, as a person lifts one token and taps the next.
      setImmediate(() => {
        pcsc.remove(event.reader);
        if (event.outcome !== "exhausted") insertNew(event.reader);
      });
    },
  };
}
