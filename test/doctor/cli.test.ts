import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.js";

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), readStdin: () => "" } };
}

describe("otpbridge doctor", () => {
  it("is registered and prints its help", async () => {
    const c = io();
    expect(await main(["--help"], c.io)).toBe(0);
    expect(c.out.join("\n")).toMatch(/doctor\s+check pcscd/);
    const h = io();
    expect(await main(["doctor", "--help"], h.io)).toBe(0);
    expect(h.out.join("\n")).toContain("Usage: otpbridge doctor");
  });

  it("runs every check on this machine and exits 3 exactly when one failed", async () => {
    const c = io();
    const code = await main(["doctor", "--json"], c.io);
    const findings = JSON.parse(c.out.join("\n")) as { check: string; level: string }[];
    expect(findings.map((f) => f.check)).toEqual(expect.arrayContaining(["pcscd", "pn533", "molto2", "node-hid", "fido-permissions", "clock"]));
    expect(code).toBe(findings.some((f) => f.level === "error") ? 3 : 0);
  }, 20_000);
});
