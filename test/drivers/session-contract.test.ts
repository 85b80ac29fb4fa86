/**
 * The one contract of driver sessions (src/drivers/session.ts): each family's session opens on a
 * transport, tells its identity in `info`, and `close()` ends the session without closing the
 * transport, which its opener owns: after close the session refuses to send, and the same transport
 * still carries a new session.
 */
import { describe, expect, it } from "vitest";
import { Molto2Session } from "../../src/drivers/molto2.js";
import { OtpAppletSession } from "../../src/drivers/otp-applet.js";
import type { DriverSession } from "../../src/drivers/session.js";
import { SingleProfileSession } from "../../src/drivers/single-profile.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { OtpAppletHidDevice } from "../../src/emulator/otp-applet-hid.js";
import { OtpAppletKey } from "../../src/emulator/otp-applet-key.js";
import { SingleProfileToken } from "../../src/emulator/single-profile-token.js";
import { MemoryHidTransport } from "../../src/transports/hid-memory.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import { rejection } from "../fixtures/errors.js";

interface Case {
  family: string;
  /** Opens a session on a transport kept open across sessions; `use` is one command of the family. */
  rig: () => { open: () => Promise<DriverSession<unknown>>; use: (session: DriverSession<unknown>) => Promise<unknown>; identity: unknown };
}

const CASES: Case[] = [
  {
    family: "single-profile",
    rig: () => {
      const transport = new MemoryTransport(new SingleProfileToken({ serial: "86596120000007" }));
      return { open: () => SingleProfileSession.open(transport), use: (s) => (s as SingleProfileSession).readInfo(), identity: { serial: "86596120000007" } };
    },
  },
  {
    family: "molto2",
    rig: () => {
      const transport = new MemoryTransport(new Molto2Token({ serial: "000000000000042" }));
      return { open: () => Molto2Session.open(transport), use: (s) => (s as Molto2Session).readProfile(0), identity: { serial: "000000000000042" } };
    },
  },
  {
    family: "otp-applet (HID)",
    rig: () => {
      const hid = new MemoryHidTransport(new OtpAppletHidDevice(new OtpAppletKey()));
      return { open: () => OtpAppletSession.openHid(hid), use: (s) => (s as OtpAppletSession).list(), identity: { link: "hid" } };
    },
  },
];

describe.each(CASES)("$family session", ({ rig }) => {
  it("tells its identity in info; close ends the session, not the transport", async () => {
    const { open, use, identity } = rig();
    const first = await open();
    expect(first.info).toMatchObject(identity as object);
    await use(first);
    await first.close();
    await first.close(); // idempotent
    expect((await rejection(use(first))).reason).toBe("TRANSPORT_CLOSED");
    // The transport is still open: a new session works on it.
    const second = await open();
    await expect(use(second)).resolves.toBeDefined();
    await second.close();
  });
});
