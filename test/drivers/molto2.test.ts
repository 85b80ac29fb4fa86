import { describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/index.js";
import { checkNewCustomerKey, type Molto2Warning } from "../../src/drivers/molto2-keys.js";
import { Molto2Session, type Molto2ButtonPrompt } from "../../src/drivers/molto2.js";
import { pinnedClock } from "../../src/emulator/common.js";
import { Molto2Token } from "../../src/emulator/molto2-token.js";
import { reasonOf } from "../../src/lib/errors.js";
import { MOLTO2_DEFAULT_CUSTOMER_KEY } from "../../src/protocol/molto2.js";
import { MemoryTransport } from "../../src/transports/memory.js";
import { rejection } from "../fixtures/errors.js";

const T0 = 1_700_000_000;
const SEED = Uint8Array.from({ length: 20 }, (_, i) => 0x30 + i);
const CUSTOM_KEY = new TextEncoder().encode("my own key 2026!");

/** A Molto2Token behind a MemoryTransport, with every APDU the host sent recorded. */
function rig(options: ConstructorParameters<typeof Molto2Token>[0] = {}) {
  const token = new Molto2Token({ clock: pinnedClock(T0), ...options });
  const log: Uint8Array[] = [];
  const transport = new MemoryTransport({
    atr: token.atr,
    transmit: (apdu) => {
      log.push(apdu);
      return token.transmit(apdu);
    },
  });
  const ins = () => log.map((a) => a[1]!.toString(16).toUpperCase().padStart(2, "0"));
  return { token, transport, log, ins };
}

describe("Molto2Session.open and listProfiles (§3.4, §3.5)", () => {
  it("reads only the info block on open, then the public block of every profile without a key", async () => {
    const { token, transport, log, ins } = rig({ serial: "123456789012345" });
    const session = await Molto2Session.open(transport, { clock: pinnedClock(T0) });
    expect(session.info).toEqual({ serial: "123456789012345", clock: T0 });
    expect(ins()).toEqual(["41"]);
    const profiles = await session.listProfiles();
    expect(profiles).toHaveLength(100);
    expect(profiles.every((p, i) => p.profile === i && !p.seedPresent && p.title === "")).toBe(true);
    // 1 info + the profile-50 probe + 100 public reads; no challenge, no SELECT, nothing secure.
    expect(log).toHaveLength(102);
    expect(log.every((a) => a[0] === 0x80 && a[1] === 0x41)).toBe(true);
    expect(token.state().triesLeft).toBe(10);
  });

  it("tells the 50-profile model by profile 50's public read, and refuses profile 50 there", async () => {
    const { transport } = rig({ profiles: 50 });
    const session = await Molto2Session.open(transport);
    expect(await session.profileCount()).toBe(50);
    expect(await session.listProfiles()).toHaveLength(50);
    const error = await rejection(session.writeProfile(50, { title: "x" }));
    expect(error).toBeInstanceOf(RangeError);
    expect(reasonOf(error)).toBe("INVALID_INPUT");
  });
});

describe("writeProfile (§3.7-§3.9, §3.15)", () => {
  it("writes seed, title and config in the official order, after one authentication", async () => {
    const { token, transport, ins } = rig();
    const session = await Molto2Session.open(transport, { clock: pinnedClock(T0 + 5) });
    await session.writeProfile(7, { seed: SEED, title: "GitHub", config: { algorithm: "SHA256", digits: 8, period: 60, display: 2 } });
    expect(ins()).toEqual(["41", "41", "41", "4B", "CE", "C5", "D5", "D4"]);
    const p = await session.readProfile(7);
    expect(p).toMatchObject({ profile: 7, seedPresent: true, title: "GitHub", algorithm: "SHA256", digits: 8, period: 60, timeB: T0 + 5 });
    for (const t of [T0, T0 + 59, T0 + 60, 2_000_000_000]) {
      expect(token.code(7, t)).toBe(totp("SHA256", SEED, { time: t, period: 60, digits: 8 }));
    }
    expect(token.state().display).toBe(2);
    expect(token.state().profiles[7]!.seed).toEqual(SEED);
  });

  it("refuses a profile that holds a seed before spending a try, and overwrites when asked", async () => {
    const { token, transport, ins } = rig();
    const first = await Molto2Session.open(transport);
    await first.writeProfile(3, { seed: SEED });
    const session = await Molto2Session.open(transport, { customerKey: CUSTOM_KEY }); // a wrong key, never tried
    const before = ins().length;
    const error = await rejection(session.writeProfile(3, { seed: Uint8Array.of(1, 2, 3) }));
    expect(reasonOf(error)).toBe("PROFILE_OCCUPIED");
    expect(error.detail).toEqual({ profile: 3 });
    expect(ins().slice(before)).toEqual(["41", "41"]); // the probe and the public read only
    expect(token.state().triesLeft).toBe(10);
    const other = await Molto2Session.open(transport);
    await other.writeProfile(3, { seed: Uint8Array.of(1, 2, 3) }, { overwrite: true });
    expect(token.state().profiles[3]!.seed).toEqual(Uint8Array.of(1, 2, 3));
    // A title alone may go to an occupied profile: it does not replace the seed.
    await other.writeProfile(3, { title: "renamed" });
    expect((await other.readProfile(3)).title).toBe("renamed");
  });

  it("checks every field before sending anything", async () => {
    const { transport, log } = rig();
    const session = await Molto2Session.open(transport);
    const sent = log.length;
    for (const write of [
      {},
      { seed: new Uint8Array(0) },
      { seed: new Uint8Array(64) },
      { title: "" },
      { title: "0123456789abc" },
      { config: { algorithm: "SHA512", digits: 6, period: 30, display: 1 } },
      { config: { algorithm: "SHA1", digits: 7, period: 30, display: 1 } },
    ]) {
      expect(reasonOf(await rejection(session.writeProfile(0, write as never)))).toBe("INVALID_INPUT");
    }
    expect(log.length).toBe(sent);
  });
});

describe("authentication (§3.6)", () => {
  it("reports the tries left after a wrong key and never tries again in that session", async () => {
    const { token, transport, ins } = rig();
    const session = await Molto2Session.open(transport, { customerKey: CUSTOM_KEY });
    const error = await rejection(session.writeProfile(0, { title: "x" }));
    expect(reasonOf(error)).toBe("WRONG_CUSTOMER_KEY");
    expect(error.detail).toEqual({ triesLeft: 9 });
    expect(error.message).toContain("9 tries left");
    expect(token.state().triesLeft).toBe(9);
    const sent = ins().length;
    for (const next of [session.deleteProfile(0), session.syncTime("all"), session.setScreenLock(true)]) {
      expect(reasonOf(await rejection(next))).toBe("WRONG_CUSTOMER_KEY");
    }
    expect(
      ins()
        .slice(sent)
        .filter((i) => i === "4B" || i === "CE"),
    ).toEqual([]);
    expect(token.state().triesLeft).toBe(9);
  });

  it("says when no try is left (63 00)", async () => {
    const { transport } = rig({ tries: 1 });
    const session = await Molto2Session.open(transport, { customerKey: CUSTOM_KEY });
    const error = await rejection(session.setScreenLock(true));
    expect(reasonOf(error)).toBe("CUSTOMER_KEY_BLOCKED");
    expect(error.detail).toEqual({ triesLeft: 0 });
  });
});

describe("delete, sync and screen lock (§3.9, §3.10, §3.13)", () => {
  it("deletes a seed (the title stays) and reports an empty profile", async () => {
    const { token, transport } = rig();
    const session = await Molto2Session.open(transport);
    await session.writeProfile(42, { seed: SEED, title: "keep me" });
    await session.deleteProfile(42);
    expect(await session.readProfile(42)).toMatchObject({ seedPresent: false, title: "keep me" });
    expect(token.code(42)).toBeNull();
    const error = await rejection(session.deleteProfile(42));
    expect(reasonOf(error)).toBe("PROFILE_EMPTY");
  });

  it("sets the clock through one profile or all of them", async () => {
    const { token, transport, ins } = rig();
    const session = await Molto2Session.open(transport, { clock: pinnedClock(T0 + 1234) });
    expect(await session.syncTime({ profile: 9 })).toEqual({ profiles: [9], time: T0 + 1234 });
    expect(token.rtc()).toBe(T0 + 1234);
    expect(token.state().profiles[9]!.timeB).toBe(T0 + 1234);
    const before = ins().length;
    const all = await session.syncTime("all");
    expect(all.profiles).toHaveLength(100);
    expect(
      ins()
        .slice(before)
        .filter((i) => i === "D4"),
    ).toHaveLength(100);
    expect(token.state().profiles.every((p) => p.timeB === T0 + 1234)).toBe(true);
  });

  it("locks and unlocks the screen after authenticating", async () => {
    const { token, transport } = rig();
    const session = await Molto2Session.open(transport);
    await session.setScreenLock(true);
    expect(token.state().screenLocked).toBe(true);
    await session.setScreenLock(false);
    expect(token.state().screenLocked).toBe(false);
  });
});

describe("key change and factory reset with the ▲ button (§3.11, §3.12)", () => {
  it("changes the key once ▲ is pressed, and proves it by authenticating with the new key", async () => {
    const { token, transport, ins } = rig();
    const session = await Molto2Session.open(transport);
    const prompts: Molto2ButtonPrompt[] = [];
    await session.changeCustomerKey(CUSTOM_KEY, {
      onButton: async (prompt) => {
        prompts.push(prompt);
        expect(token.state().pending).toBe("setKey");
        token.pressButton();
      },
    });
    expect(prompts).toEqual([{ action: "change-key", message: "press ▲ on the token" }]);
    expect(ins().slice(-3)).toEqual(["D7", "4B", "CE"]); // nothing between the 9060 and the press
    expect(token.state().triesLeft).toBe(10);
    const withNew = await Molto2Session.open(transport, { customerKey: CUSTOM_KEY });
    await withNew.setScreenLock(true);
    const withOld = await Molto2Session.open(transport);
    expect(reasonOf(await rejection(withOld.setScreenLock(false)))).toBe("WRONG_CUSTOMER_KEY");
  });

  it("reports KEY_CHANGE_NOT_APPLIED when ▲ was not pressed; the old key still works", async () => {
    const { token, transport } = rig();
    const session = await Molto2Session.open(transport);
    const error = await rejection(session.changeCustomerKey(CUSTOM_KEY, { onButton: async () => undefined }));
    expect(reasonOf(error)).toBe("KEY_CHANGE_NOT_APPLIED");
    expect(error.detail).toEqual({ triesLeft: 9 });
    // The request outlives the session, as on the real token (§3.16): a later ▲ would still apply it.
    expect(token.state().pending).toBe("setKey");
    await (await Molto2Session.open(transport)).setScreenLock(true);
  });

  it("passes on a refusal of the prompt without sending anything more", async () => {
    const { transport, ins } = rig();
    const session = await Molto2Session.open(transport);
    const error = await rejection(session.changeCustomerKey(CUSTOM_KEY, { onButton: () => Promise.reject(new Error("cancelled")) }));
    expect(error.message).toBe("cancelled");
    expect(ins().at(-1)).toBe("D7");
  });

  it("factory-resets without a key: every profile empty, factory key back, tries restored", async () => {
    const { token, transport } = rig({ customerKey: CUSTOM_KEY });
    const owner = await Molto2Session.open(transport, { customerKey: CUSTOM_KEY });
    await owner.writeProfile(0, { seed: SEED, title: "a" });
    const stranger = await Molto2Session.open(transport, { customerKey: MOLTO2_DEFAULT_CUSTOMER_KEY });
    expect(reasonOf(await rejection(stranger.setScreenLock(true)))).toBe("WRONG_CUSTOMER_KEY");
    const forgotten = await Molto2Session.open(transport, { customerKey: new TextEncoder().encode("forgotten") });
    let prompt: Molto2ButtonPrompt | undefined;
    await forgotten.factoryReset({
      onButton: async (p) => {
        prompt = p;
        token.pressButton();
      },
    });
    expect(prompt?.action).toBe("factory-reset");
    expect((await forgotten.listProfiles()).some((p) => p.seedPresent || p.title !== "")).toBe(false);
    expect(token.state().triesLeft).toBe(10);
    await forgotten.setScreenLock(true); // the session now uses the factory key
    expect(token.state().screenLocked).toBe(true);
  });

  it("proves the reset after the press: every profile read empty, then the factory key authenticated, with no warning", async () => {
    const { token, transport, ins } = rig({ customerKey: CUSTOM_KEY });
    await (await Molto2Session.open(transport, { customerKey: CUSTOM_KEY })).writeProfile(4, { seed: SEED, title: "kept" });
    const seen: Molto2Warning[] = [];
    const session = await Molto2Session.open(transport, { onWarning: (w) => seen.push(w) });
    const before = ins().length;
    await session.factoryReset({ onButton: async () => void token.pressButton() });
    const sent = ins().slice(before);
    // 56, then profile 50's read and the 100 public reads, then one authentication with the factory key.
    expect(sent[0]).toBe("56");
    expect(sent.slice(1, -2).every((i) => i === "41")).toBe(true);
    expect(sent.slice(1, -2)).toHaveLength(101);
    expect(sent.slice(-2)).toEqual(["4B", "CE"]);
    expect(token.state().pending).toBe("none");
    // The reset's own result names the factory key; the session does not warn about it on top.
    expect(seen).toEqual([]);
  });

  it("reports FACTORY_RESET_NOT_APPLIED without spending a try when ▲ was not pressed and profiles are still written", async () => {
    const { token, transport, ins } = rig({ customerKey: CUSTOM_KEY });
    await (await Molto2Session.open(transport, { customerKey: CUSTOM_KEY })).writeProfile(4, { seed: SEED, title: "kept" });
    await (await Molto2Session.open(transport, { customerKey: CUSTOM_KEY })).writeProfile(9, { title: "title only" });
    const session = await Molto2Session.open(transport);
    const before = ins().length;
    const error = await rejection(session.factoryReset({ onButton: async () => undefined }));
    expect(reasonOf(error)).toBe("FACTORY_RESET_NOT_APPLIED");
    expect(error.detail).toEqual({ profilesInUse: [4, 9] });
    expect(error.message).toMatch(
      /not reset .*2 profile\(s\) still hold a seed or a title, and its customer key is unchanged; .*a later ▲ press on it would still erase every profile/,
    );
    expect(ins().slice(before).includes("CE")).toBe(false); // no key tried
    expect(token.state().triesLeft).toBe(10);
    expect(token.state().profiles[4]!.seed).toEqual(SEED);
    // The owner's key still works; the request is still on the token, and a later press applies it, as the message says.
    await (await Molto2Session.open(transport, { customerKey: CUSTOM_KEY })).setScreenLock(true);
    expect(token.state().pending).toBe("reset");
    expect(token.pressButton()).toBe("reset");
    expect(token.state().profiles.every((p) => p.seed.length === 0)).toBe(true);
  });

  it("reports FACTORY_RESET_NOT_APPLIED with the tries left when ▲ was not pressed on an empty token with its own key", async () => {
    const { token, transport } = rig({ customerKey: CUSTOM_KEY });
    const session = await Molto2Session.open(transport);
    const error = await rejection(session.factoryReset({ onButton: async () => undefined }));
    expect(reasonOf(error)).toBe("FACTORY_RESET_NOT_APPLIED");
    expect(error.detail).toEqual({ profilesInUse: [], triesLeft: 9 });
    expect(error.message).toMatch(/every profile is empty, but it refuses the factory key \(9 tries left\), so its own customer key is still in force/);
    // The session tries no key again (§3.6): it repeats why.
    expect(await rejection(session.setScreenLock(true))).toBe(error);
    expect(token.state().triesLeft).toBe(9);
    await (await Molto2Session.open(transport, { customerKey: CUSTOM_KEY })).setScreenLock(true);
    expect(token.state().screenLocked).toBe(true);
  });

  it("says a blocked token is still blocked when ▲ was not pressed", async () => {
    const { token, transport } = rig({ customerKey: CUSTOM_KEY, tries: 1 });
    expect(reasonOf(await rejection((await Molto2Session.open(transport)).setScreenLock(true)))).toBe("CUSTOMER_KEY_BLOCKED");
    const error = await rejection((await Molto2Session.open(transport)).factoryReset({ onButton: async () => undefined }));
    expect(reasonOf(error)).toBe("FACTORY_RESET_NOT_APPLIED");
    expect(error.detail).toEqual({ profilesInUse: [], triesLeft: 0 });
    expect(error.message).toMatch(/\(0 tries left: blocked\)/);
    token.pressButton();
    await (await Molto2Session.open(transport)).setScreenLock(true); // the reset, pressed later, recovers it
  });

  it("reports FACTORY_RESET_NOT_APPLIED when ▲ was pressed after the token gave up waiting", async () => {
    let now = T0;
    const { token, transport } = rig({ customerKey: CUSTOM_KEY, confirmTimeout: 60, clock: () => now });
    await (await Molto2Session.open(transport, { customerKey: CUSTOM_KEY })).writeProfile(0, { seed: SEED });
    const session = await Molto2Session.open(transport);
    const error = await rejection(
      session.factoryReset({
        onButton: async () => {
          now += 61;
          expect(token.pressButton()).toBe("none"); // too late: the request had lapsed
        },
      }),
    );
    expect(reasonOf(error)).toBe("FACTORY_RESET_NOT_APPLIED");
    expect(error.detail).toEqual({ profilesInUse: [0] });
    expect(token.state().profiles[0]!.seed).toEqual(SEED);
  });
});

describe("customer-key hygiene (§3.2, §3.11)", () => {
  const press = (token: Molto2Token) => async () => void token.pressButton();

  it("warns, once per session, whenever it authenticates with the public factory key; not with its own key", async () => {
    const { transport } = rig();
    const seen: Molto2Warning[] = [];
    const session = await Molto2Session.open(transport, { onWarning: (w) => seen.push(w) });
    await session.listProfiles(); // no authentication, no warning
    expect(seen).toEqual([]);
    await session.setScreenLock(true);
    await session.setScreenLock(false);
    expect(seen.map((w) => w.code)).toEqual(["default-key"]);
    expect(seen[0]!.message).toMatch(/still uses the public factory customer key TOKEN2MOLTO1-KEY/);
    expect(session.warnings).toEqual(seen);
    const { transport: own } = rig({ customerKey: CUSTOM_KEY });
    const mine = await Molto2Session.open(own, { customerKey: CUSTOM_KEY, onWarning: (w) => seen.push(w) });
    await mine.setScreenLock(true);
    expect(mine.warnings).toEqual([]);
    expect(seen).toHaveLength(1);
  });

  it("refuses an empty key and the factory key as the new key before sending anything; warns under 16 bytes", async () => {
    expect(() => checkNewCustomerKey(new Uint8Array(0))).toThrow(RangeError);
    expect(checkNewCustomerKey(CUSTOM_KEY)).toEqual([]);
    expect(checkNewCustomerKey(new TextEncoder().encode("short"))).toEqual([
      {
        code: "short-key",
        message: "the new customer key is 5 bytes; 16 or more are advised, as a short key is easier to guess (the token accepts any length)",
      },
    ]);
    const { token, transport, log } = rig();
    const session = await Molto2Session.open(transport);
    const sent = log.length;
    for (const key of [new Uint8Array(0), MOLTO2_DEFAULT_CUSTOMER_KEY.slice()]) {
      const error = await rejection(session.changeCustomerKey(key, { onButton: press(token) }));
      expect(reasonOf(error)).toBe("INVALID_INPUT");
    }
    expect(log.length).toBe(sent);
    expect(token.state().triesLeft).toBe(10);
  });

  it("a short new key works, with its warning, and is proven by authenticating with it; moving off the factory key is not warned about", async () => {
    const { token, transport, ins } = rig();
    const seen: Molto2Warning[] = [];
    const session = await Molto2Session.open(transport, { onWarning: (w) => seen.push(w) });
    const short = new TextEncoder().encode("abc");
    await session.changeCustomerKey(short, { onButton: press(token) });
    expect(seen.map((w) => w.code)).toEqual(["short-key"]);
    // auth with the old key, the change, then auth with the new one (the proof).
    expect(ins().slice(-5)).toEqual(["4B", "CE", "D7", "4B", "CE"]);
    await (await Molto2Session.open(transport, { customerKey: short })).setScreenLock(true);
    expect(token.state().screenLocked).toBe(true);
  });
});

describe("status-word messages in DEVICE_ERROR", () => {
  it("says what the emulator's answer means for the operation", async () => {
    const { token, transport } = rig();
    const session = await Molto2Session.open(transport);
    await session.setScreenLock(true);
    token.reset(); // a USB reset drops the token's authentication; the session does not know
    const error = await rejection(session.writeProfile(4, { title: "x" }));
    expect(reasonOf(error)).toBe("DEVICE_ERROR");
    expect(error.message).toBe(
      "title write to profile 4 failed: the token wants an authentication first (6982): the session was reset (reconnected or USB-reset); run the command again",
    );
    expect(error.detail).toEqual({ operation: "title write to profile 4", sw: 0x6982 });
  });
});

describe("secrets", () => {
  it("never puts the seed or the key into an error", async () => {
    const { transport } = rig();
    const session = await Molto2Session.open(transport, { customerKey: CUSTOM_KEY });
    const errors = [
      await rejection(session.writeProfile(0, { seed: SEED })),
      await rejection(session.writeProfile(0, { seed: new Uint8Array(64).fill(0x41) })),
    ];
    const seedHex = Buffer.from(SEED).toString("hex");
    for (const e of errors) {
      const text = `${e.message} ${JSON.stringify(e.detail ?? {})}`;
      expect(text).not.toContain(seedHex);
      expect(text).not.toContain("my own key");
      expect(text).not.toContain("AAAA");
    }
  });
});
