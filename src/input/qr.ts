/**
 * Reads the otpauth URI out of a screenshot of a QR code (PNG or JPEG), as sites show when
 * enrolling an authenticator: pngjs or jpeg-js decode the image, jsQR finds and reads the code.
 * Nothing of the decoded text is ever put in an error message: it holds the seed.
 */
import { readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import type jpegJs from "jpeg-js";
import type pngJs from "pngjs";
import { otpbError } from "../lib/errors.js";

/** Larger files are not screenshots of a QR code; refusing them bounds memory. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
/** Largest decoded image, in megapixels (jpeg-js's own guard; pngjs is checked after decoding). */
const MAX_MEGAPIXELS = 50;

type JsQr = (data: Uint8ClampedArray, width: number, height: number) => { data: string } | null;
// The image decoders take about 100 ms to load together: they are loaded when an image is read,
// not when a command that might read one starts.
const require = createRequire(import.meta.url);
const jpeg = (): typeof jpegJs => require("jpeg-js");
const png = (): typeof pngJs => require("pngjs");
// jsqr is CommonJS with a `default` property.
const jsQR = (): JsQr => {
  const module = require("jsqr") as { default?: JsQr } & JsQr;
  return module.default ?? module;
};

function unreadable(message: string, cause?: unknown): Error {
  return otpbError("QR_UNREADABLE", message, cause === undefined ? {} : { cause });
}

/** RGBA pixels of a PNG or JPEG file's bytes, by magic number. */
function decodeImage(bytes: Uint8Array): { data: Uint8Array; width: number; height: number } {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    try {
      const image = png().PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      return { data: image.data, width: image.width, height: image.height };
    } catch (error) {
      throw unreadable("the PNG image could not be decoded", error);
    }
  }
  if (bytes[0] === 0xff && bytes[1] === 0xd8) {
    try {
      const image = jpeg().decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_MEGAPIXELS, maxMemoryUsageInMB: 512 });
      return { data: image.data, width: image.width, height: image.height };
    } catch (error) {
      throw unreadable("the JPEG image could not be decoded", error);
    }
  }
  throw unreadable("the image is neither a PNG nor a JPEG file");
}

/**
 * The text of the QR code in an image's bytes.
 * @throws OtpbridgeError QR_UNREADABLE when the bytes are not a decodable PNG/JPEG or hold no QR code.
 * @example decodeQrBytes(readFileSync("enrol.png")) // "otpauth://totp/ACME:alice?secret=..."
 */
export function decodeQrBytes(bytes: Uint8Array): string {
  const image = decodeImage(bytes);
  if (image.width * image.height > MAX_MEGAPIXELS * 1_000_000) throw unreadable("the image is too large for a QR screenshot");
  const pixels = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.width * image.height * 4);
  const code = jsQR()(pixels, image.width, image.height);
  // The decoded pixels show the seed as a QR code: wipe them.
  image.data.fill(0);
  if (code === null || code.data.length === 0) throw unreadable("no QR code was found in the image");
  return code.data;
}

/**
 * The text of the QR code in a PNG or JPEG file.
 * @throws OtpbridgeError QR_UNREADABLE (unreadable file, too large, not an image, no QR code).
 */
export function decodeQrFile(path: string): string {
  let bytes: Buffer;
  try {
    if (statSync(path).size > MAX_IMAGE_BYTES) throw unreadable(`the image is larger than ${MAX_IMAGE_BYTES} bytes`);
    bytes = readFileSync(path);
  } catch (error) {
    if ((error as { reason?: unknown }).reason === "QR_UNREADABLE") throw error;
    throw unreadable(`cannot read the image: ${(error as NodeJS.ErrnoException).code ?? "error"}`, error);
  }
  try {
    return decodeQrBytes(bytes);
  } finally {
    bytes.fill(0);
  }
}
