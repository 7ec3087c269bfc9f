// A decoder off the main thread, for models too heavy to decode on every mouse move, and for
// the manifold backdrop (hundreds of images at once). Messages:
//   {type: "load", buffer}                      -> the model asset (see decoder.js)
//   {type: "decode", id, codes: Float32Array}   -> {id, images: Float32Array (n * 784)}
// Requests are answered in order; the page keeps at most one hover request in flight.
import { createDecoder, parseAsset } from "./decoder.js";

let decoder = null;

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "load") {
    const { header, arrays } = parseAsset(message.buffer);
    decoder = createDecoder(header, arrays.weights);
    return;
  }
  if (message.type === "decode" && decoder) {
    const d = decoder.latentDim, n = message.codes.length / d, images = new Float32Array(n * 784);
    for (let i = 0; i < n; i++) images.set(decoder.decode(message.codes.subarray(i * d, (i + 1) * d)), i * 784);
    self.postMessage({ id: message.id, images }, [images.buffer]);
  }
};
