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

/**
 * Reads QR codes off the camera into `video` until one is found (resolves with its text) or
 * `signal` aborts (rejects). The stream is stopped either way; frames never leave the page.
 */
export async function scanCamera(video: HTMLVideoElement, signal: AbortSignal): Promise<string> {
  const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
  try {
    video.srcObject = stream;
    await video.play();
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (context === null) throw new Error("this browser cannot read camera frames (no 2D canvas)");
    for (;;) {
      if (signal.aborted) throw new Error("camera scan stopped");
      if (video.videoWidth > 0) {
        canvas.width = video.videoWidth;
        canvas.height = video.videoHeight;
        context.drawImage(video, 0, 0);
        const pixels = context.getImageData(0, 0, canvas.width, canvas.height);
        const code = jsQR(pixels.data, pixels.width, pixels.height, { inversionAttempts: "dontInvert" });
        pixels.data.fill(0);
        if (code !== null) return code.data;
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  } finally {
    for (const track of stream.getTracks()) track.stop();
    video.srcObject = null;
  }
}
