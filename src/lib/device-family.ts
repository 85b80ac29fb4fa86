/** The device families otpbridge drives (docs/PROTOCOL.md §2, §3, §4), one name each everywhere. */
export const DEVICE_FAMILIES = ["single-profile", "molto2", "otp-applet"] as const;
export type DeviceFamily = (typeof DEVICE_FAMILIES)[number];
