// Drawing 28x28 digits on canvases, shared by the plane and Explore's details.

export const PIXELS = 784;

// One test image (uint8, 784 values) of all of them, back to back.
export function testImage(images, index) {
  return images.subarray(index * PIXELS, (index + 1) * PIXELS);
}

// Grey pixels on a 28x28 canvas: uint8 test images with scale 1, decoder output in [0, 1] with
// scale 255. `picture` is an ImageData to reuse (the hover path paints on every mouse move).
export function paintDigit(canvas, pixels, scale, picture = null) {
  const context = canvas.getContext("2d");
  picture = picture || context.createImageData(28, 28);
  const px = picture.data;
  for (let p = 0; p < PIXELS; p++) {
    const v = Math.round(Math.min(255, Math.max(0, pixels[p] * scale)));
    px[4 * p] = v; px[4 * p + 1] = v; px[4 * p + 2] = v; px[4 * p + 3] = 255;
  }
  context.putImageData(picture, 0, 0);
}
