/** What the HID VM scenario does, shared by the guest script and the test that checks its result. */
import hiBase32 from "hi-base32";
import type { DeviceRequest } from "./device-process.js";

export const ROUND_TRIPS = 300;
export const TIMEOUT_MS = 300;

/** The key under test, and two interfaces that must not be taken for it. */
export const DEVICES: DeviceRequest[] = [
  // Another interface of a Token2 key, on a vendor usage page: same VID and PID, wrong page.
  { key: "token2-vendor-page", name: "TOKEN2 vendor interface", vendorId: 0x349e, productId: 0x0022, usagePage: 0xff00, serial: "decoy-1" },
  // Another maker's FIDO key: right page, wrong vendor.
  { key: "other-fido", name: "Other FIDO2 Security Key", vendorId: 0x1050, productId: 0x0407, usagePage: 0xf1d0, serial: "decoy-2" },
  { key: "token2-fido", name: "TOKEN2 FIDO2 Security Key", vendorId: 0x349e, productId: 0x0022, usagePage: 0xf1d0, serial: "otpb-fixture" },
];

/** The second scenario: the OTP-applet emulator behind uhid, driven by OtpAppletSession over node-hid. */
export const APPLET_DEVICE: DeviceRequest = {
  key: "token2-otp",
  name: "TOKEN2 FIDO2 Security Key",
  vendorId: 0x349e,
  productId: 0x0022,
  usagePage: 0xf1d0,
  serial: "otpb-applet",
  emulator: "otp-applet",
};
/** The time codes are asked for, and the seeds of the two entries the scenario adds (20 and 32 bytes). */
export const APPLET_TIME = 1_700_000_000;
export const APPLET_SEED = Array.from({ length: 20 }, (_, i) => (i * 13 + 1) & 0xff);
export const APPLET_TOUCH_SEED = Array.from({ length: 32 }, (_, i) => (i * 29 + 7) & 0xff);

/** The third scenario: the daemon serving a key of its own (entries kept across an unplug and re-plug). */
export const DAEMON_DEVICE: DeviceRequest = {
  key: "token2-daemon",
  name: "TOKEN2 FIDO2 Security Key",
  vendorId: 0x349e,
  productId: 0x0022,
  usagePage: 0xf1d0,
  serial: "otpb-daemon",
  emulator: "otp-applet",
};
/** Seeds the API client sends (base32): 20 bytes for SHA-1, 32 for the SHA-256 entry that needs a touch. */
export const DAEMON_SEED = Array.from({ length: 20 }, (_, i) => (i * 7 + 3) & 0xff);
export const DAEMON_TOUCH_SEED = Array.from({ length: 32 }, (_, i) => (i * 11 + 5) & 0xff);
export const DAEMON_SEED_BASE32 = base32(DAEMON_SEED);
export const DAEMON_TOUCH_SEED_BASE32 = base32(DAEMON_TOUCH_SEED);

function base32(bytes: readonly number[]): string {
  return hiBase32.encode(Uint8Array.from(bytes)).replace(/=+$/, "");
}
