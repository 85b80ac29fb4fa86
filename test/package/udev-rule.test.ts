/**
 * The udev rule the package ships for Token2 FIDO keys is the one `otpbridge doctor` prints and
 * looks for: vendor 0x349e, uaccess for a seat, group and mode for a station without one, and a file
 * name that sorts before systemd's 73-seat-late.rules, which applies uaccess.
 */
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { describe, expect, it } from "vitest";
import { TOKEN2_UDEV_RULE } from "../../src/doctor/checks.js";
import { REPO_ROOT } from "../fixtures/pcscd.js";

const FILE = "packaging/udev/70-token2.rules";

describe("the shipped udev rule", () => {
  it("holds exactly the doctor's rule, with group, mode and uaccess", () => {
    const rules = readFileSync(join(REPO_ROOT, FILE), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "" && !l.startsWith("#"));
    expect(rules).toEqual([TOKEN2_UDEV_RULE]);
    const keys = Object.fromEntries(
      TOKEN2_UDEV_RULE.split(/,\s*/).map((pair) => {
        const m = /^([A-Z]+(?:\{\w+\})?)(==|\+=|=)"(.*)"$/.exec(pair)!;
        return [`${m[1]}${m[2]}`, m[3]];
      }),
    );
    expect(keys).toEqual({
      "KERNEL==": "hidraw*",
      "SUBSYSTEM==": "hidraw",
      "ATTRS{idVendor}==": "349e",
      "MODE=": "0660",
      "GROUP=": "plugdev",
      "TAG+=": "uaccess",
    });
    expect(basename(FILE) < "73-seat-late.rules").toBe(true);
  });

  it("is in the package's files list", () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("packaging/");
  });
});
