/**
 * `otpbridge batch reburn ID --item N` working alone on its journal, with `--simulate` readers: the
 * item is armed, the token tapped takes it again (the journal records item.reburn and a second
 * attempt) and the command ends; a pending or unknown item is refused with its reason.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/cli/exit-codes.js";
import { Journal } from "../../src/store/journal.js";
import { runCli } from "../fixtures/cli.js";

describe("otpbridge batch reburn, alone", () => {
  let root: string;
  let dataDir: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "otpb-reburn-"));
    dataDir = join(root, "data");
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const cli = (...argv: string[]) => runCli([...argv, "--data-dir", dataDir]);

  it("re-burns one committed item on the next token and ends; refuses pending and unknown items", async () => {
    expect((await cli("batch", "create", "--generate", "3", "--name", "desk")).code).toBe(0);
    expect((await cli("batch", "run", "1", "--simulate", "--readers", "1", "--force")).code).toBe(0);
    const journal = (): Journal => Journal.open({ dataDir, key: { kind: "keyFile" } });
    let j = journal();
    const before = j.item(2);
    j.close();
    expect(before).toMatchObject({ state: "committed", attempts: 1 });

    const r = await cli("batch", "reburn", "1", "--item", "2", "--simulate", "--readers", "1", "--force");
    expect(r.code, r.err.join("\n")).toBe(0);
    expect(r.out[0]).toBe(`item 2 (token ${before.serial}): tap its token again, or a blank token to take its place (Ctrl-C pauses)`);
    j = journal();
    try {
      expect(j.item(2)).toMatchObject({ state: "committed", attempts: 2 });
      // The other items were not touched.
      expect(j.items(1).map((i) => i.attempts)).toEqual([1, 2, 1]);
      expect(j.events(1).filter((e) => e.kind === "item.reburn")).toHaveLength(1);
    } finally {
      j.close();
    }

    expect((await cli("batch", "create", "--generate", "1", "--name", "later")).code).toBe(0);
    const pending = await cli("batch", "reburn", "2", "--item", "4", "--simulate", "--readers", "1", "--force");
    expect(pending.code).toBe(EXIT_CODES.ITEM_STATE);
    expect(pending.err.join("\n")).toMatch(/item 4 is pending; only a committed or failed item can be re-burned/);
    const unknown = await cli("batch", "reburn", "1", "--item", "9", "--simulate", "--readers", "1", "--force");
    expect(unknown.code).toBe(EXIT_CODES.ITEM_NOT_FOUND);
    expect(unknown.err.join("\n")).toMatch(/no item 9/);
  });
});
