/**
 * The API reads seeds with the CLI's rules (src/input/seed-input.ts), against the real daemon
 * process (in-memory readers) over a real WebSocket: otpauth URIs with their parameters, hex only
 * when asked, one-account Google Authenticator exports, codes scanned by mistake refused with
 * advice, parameters a device cannot show refused before anything is written. No answer and no
 * log line quotes a seed.
 */
import hiBase32 from "hi-base32";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { totp } from "../../src/crypto/otp.js";
import { encodeMigrationUri } from "../../src/input/migration.js";
import { RpcClient, startDaemonProcess, type DaemonProcess } from "../fixtures/daemon.js";

const SEED = Buffer.from("12345678901234567890123456789012"); // RFC 6238's SHA-256 seed
const B32 = hiBase32.encode(SEED).replace(/=+$/, "");

describe("seeds sent to the API", () => {
  let d: DaemonProcess;
  let c: RpcClient;
  const sessions: Record<string, string> = {};

  beforeAll(async () => {
    d = await startDaemonProcess({ env: { OTPBRIDGE_SIMULATE_LINK: "memory" } });
    c = await RpcClient.native(d);
    const devices = (await c.call("devices.list")).result.devices;
    for (const family of ["single-profile", "molto2", "otp-applet"]) {
      const id = devices.find((x: any) => x.family === family && x.state === "ready").id;
      sessions[family] = (await c.call("device.acquire", { id, previous: null })).result.session;
    }
  });
  afterAll(async () => {
    c.close();
    await d.stop();
  });

  it("token.burn takes an otpauth URI with its parameters and its account name as the label", async () => {
    const uri = `otpauth://totp/ACME:carol@example.com?secret=${B32}&issuer=ACME&algorithm=SHA256&period=60`;
    const burned = await c.call("token.burn", { session: sessions["single-profile"], seed: uri });
    expect(burned.result.journal.state).toBe("committed");
    expect(burned.result.codes.current).toBe(totp("SHA256", SEED, { time: burned.result.codes.time, period: 60 }));
    expect(burned.result.clock).toEqual({ driftSeconds: expect.any(Number), message: expect.stringMatching(/token clock/) });
    const item = (await c.call("journal.item", { itemId: burned.result.journal.itemId })).result.item;
    expect(item).toMatchObject({ label: "carol@example.com", algorithm: "SHA256", period: 60 });
  });

  it("token.burn refuses a parameter beside a URI, and a URI the token cannot show, before anything is written", async () => {
    const s = sessions["single-profile"];
    const beside = await c.call("token.burn", { session: s, seed: `otpauth://totp/a?secret=${B32}`, period: 60 });
    expect(beside.error).toMatchObject({ data: { reason: "INVALID_INPUT", param: "period" } });
    expect(beside.error.message).toBe("period cannot be combined with an otpauth URI, which sets it");
    const eight = await c.call("token.burn", { session: s, seed: `otpauth://totp/a?secret=${B32}&digits=8` });
    expect(eight.error).toMatchObject({ data: { reason: "NOT_BURNABLE", family: "single-profile" } });
    expect(eight.error.message).toBe("not burned: single-profile tokens show 6 digits, not 8");
    // Nothing reached the journal for either.
    const batches = (await c.call("batch.list")).result.batches;
    expect(batches.filter((b: any) => b.name.startsWith("token.burn"))).toHaveLength(1);
  });

  it("refuses codes scanned by mistake with what to scan instead", async () => {
    const s = sessions["single-profile"];
    const hotp = await c.call("token.burn", { session: s, seed: `otpauth://hotp/a?secret=${B32}&counter=3` });
    expect(hotp.error).toMatchObject({ data: { reason: "WRONG_CODE_SCANNED", scanned: "hotp" } });
    expect(hotp.error.message).toMatch(/TOTP/);
    const phone = await c.call("token.burn", { session: s, seed: "phonefactor://activate_account?code=123456789&url=https://example.com" });
    expect(phone.error).toMatchObject({ data: { reason: "WRONG_CODE_SCANNED", scanned: "phonefactor" } });
    const serial = await c.call("token.burn", { session: s, seed: "86596221000001" });
    expect(serial.error).toMatchObject({ data: { reason: "WRONG_CODE_SCANNED", scanned: "serial-barcode" } });
  });

  it("hex only with seedEncoding hex; a one-account Google Authenticator export; not one of several", async () => {
    const s = sessions["single-profile"];
    const hex = await c.call("token.burn", { session: s, seed: SEED.toString("hex"), seedEncoding: "hex" });
    expect(hex.result.codes.current).toBe(totp("SHA1", SEED, { time: hex.result.codes.time }));
    // Without seedEncoding the same text is read as base32, which it is not (hex is never guessed).
    const asBase32 = await c.call("token.burn", { session: s, seed: SEED.toString("hex") });
    expect(asBase32.error).toMatchObject({ data: { reason: "INVALID_SECRET_FORMAT" } });
    const one = encodeMigrationUri([{ secret: SEED, name: "ACME:dave", issuer: "ACME", algorithm: 2, type: 2 }]);
    const fromExport = await c.call("token.burn", { session: s, seed: one });
    expect(fromExport.result.codes.current).toBe(totp("SHA256", SEED, { time: fromExport.result.codes.time }));
    const two = encodeMigrationUri([
      { secret: SEED, name: "a", type: 2 },
      { secret: SEED, name: "b", type: 2 },
    ]);
    const several = await c.call("token.burn", { session: s, seed: two });
    expect(several.error).toMatchObject({ data: { reason: "INVALID_INPUT" } });
    expect(several.error.message).toMatch(/holds 2 accounts/);
  });

  it("molto2.write takes a URI's parameters as the profile config, and refuses config parameters beside it", async () => {
    const s = sessions.molto2;
    const written = await c.call("molto2.write", { session: s, profile: 7, seed: `otpauth://totp/b?secret=${B32}&digits=8&algorithm=SHA256`, overwrite: true });
    expect(written.result).toMatchObject({ profile: 7, written: ["seed", "config"] });
    const beside = await c.call("molto2.write", { session: s, profile: 7, seed: `otpauth://totp/b?secret=${B32}`, config: { digits: 6 }, overwrite: true });
    expect(beside.error).toMatchObject({ data: { reason: "INVALID_INPUT", param: "digits" } });
    const tooLong = await c.call("molto2.write", { session: s, profile: 8, seed: hiBase32.encode(Buffer.alloc(64, 7)) });
    expect(tooLong.error).toMatchObject({ data: { reason: "NOT_BURNABLE" } });
    expect(tooLong.error.message).toBe("not burned: the seed is 64 bytes; molto2 tokens hold 1 to 63");
  });

  it("otpApplet.add takes a URI's parameters; an HOTP URI gets the applet's own advice", async () => {
    const s = sessions["otp-applet"];
    const added = await c.call("otpApplet.add", { session: s, account: "erin", seed: `otpauth://totp/erin?secret=${B32}&digits=8&period=45` });
    expect(added.result).toEqual({ app: "", account: "erin", added: true });
    const entry = (await c.call("otpApplet.list", { session: s })).result.entries.find((e: any) => e.account === "erin");
    expect(entry).toMatchObject({ type: "TOTP", algorithm: "SHA1", digits: 8, period: 45 });
    const hotp = await c.call("otpApplet.add", { session: s, account: "frank", seed: `otpauth://hotp/frank?secret=${B32}&counter=0` });
    expect(hotp.error).toMatchObject({ data: { reason: "WRONG_CODE_SCANNED", scanned: "hotp" } });
    expect(hotp.error.message).toMatch(/base32 secret with the HOTP type/);
    const typed = await c.call("otpApplet.add", { session: s, account: "frank", seed: `otpauth://totp/frank?secret=${B32}`, type: "HOTP" });
    expect(typed.error).toMatchObject({ data: { reason: "INVALID_INPUT", param: "type" } });
  });

  it("never quotes a seed, in an answer or in the log", async () => {
    const bad = await c.call("token.burn", { session: sessions["single-profile"], seed: `${B32.slice(0, 20)}!!` });
    expect(bad.error.data.reason).toBe("INVALID_SECRET_FORMAT");
    expect(JSON.stringify(bad)).not.toContain(B32.slice(0, 20));
    expect(d.stderr.join("\n")).not.toContain(B32.slice(0, 16));
    expect(d.stderr.join("\n")).not.toContain(SEED.toString("hex").slice(0, 16));
  });
});
