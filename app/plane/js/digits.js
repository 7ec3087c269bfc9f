// Drawing 28x28 digits on canvases, shared by the plane, its modes and Explore's details.

export const SIDE = 28; // an MNIST image is SIDE x SIDE pixels
export const PIXELS = SIDE * SIDE;

// One test image (uint8, PIXELS values) of all of them, back to back.
export function testImage(images, index) {
  return images.subarray(index * PIXELS, (index + 1) * PIXELS);
}

// Write one digit's grey pixels into `picture` (an ImageData) with its top-left corner at (left, top):
// uint8 test images with scale 1, decoder output in [0, 1] with scale 255.
export function putDigit(picture, pixels, scale, left = 0, top = 0) {
  const px = picture.data, width = picture.width;
  for (let p = 0; p < PIXELS; p++) {
    const v = Math.round(Math.min(255, Math.max(0, pixels[p] * scale)));
    const offset = 4 * ((top + Math.floor(p / SIDE)) * width + left + (p % SIDE));
    px[offset] = v; px[offset + 1] = v; px[offset + 2] = v; px[offset + 3] = 255;
  }
}

// One digit on a SIDE x SIDE canvas. `picture` is an ImageData to reuse (the pointer's image is
// painted on every move).
export function paintDigit(canvas, pixels, scale, picture = null) {
  const context = canvas.getContext("2d");
  picture = picture || context.createImageData(SIDE, SIDE);
  putDigit(picture, pixels, scale);
  context.putImageData(picture, 0, 0);
}

// A canvas for one digit, to be scaled up by CSS with square pixels.
export function digitCanvas() {
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = SIDE;
  return canvas;
}
