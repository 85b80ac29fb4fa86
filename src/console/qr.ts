/** Reads the QR code in an image (a dropped or chosen file, a pasted screenshot) with jsQR, in the page. */
import jsQR from "jsqr";

/** The QR code's text, or undefined when the image holds none. */
export async function readQrImage(image: Blob): Promise<string | undefined> {
  const bitmap = await createImageBitmap(image);
  try {
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const context = canvas.getContext("2d");
    if (context === null) throw new Error("this browser cannot read images (no 2D canvas)");
    context.drawImage(bitmap, 0, 0);
    const pixels = context.getImageData(0, 0, bitmap.width, bitmap.height);
    const code = jsQR(pixels.data, pixels.width, pixels.height);
    pixels.data.fill(0);
    return code?.data;
  } finally {
    bitmap.close();
  }
}
