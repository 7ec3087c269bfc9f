// A decoder off the main thread, for models too heavy to decode on every pointer move, and for
// the manifold backdrop (hundreds of images at once). Messages:
//   {type: "load", buffer}                      -> the model asset (see decoder.js)
//   {type: "decode", id, codes: Float32Array}   -> {id, images: Float32Array (n * PIXELS)}
// Requests are answered in order; the page keeps at most one pointer request in flight.
import { createDecoder, parseAsset } from "./decoder.js";
import { PIXELS } from "../digits.js";

let decoder = null;

self.onmessage = (event) => {
  const message = event.data;
  if (message.type === "load") {
    const { header, arrays } = parseAsset(message.buffer);
    decoder = createDecoder(header, arrays.weights);
    return;
  }
  if (message.type === "decode" && decoder) {
    const d = decoder.latentDim, n = message.codes.length / d, images = new Float32Array(n * PIXELS);
    for (let i = 0; i < n; i++) images.set(decoder.decode(message.codes.subarray(i * d, (i + 1) * d)), i * PIXELS);
    self.postMessage({ id: message.id, images }, [images.buffer]);
  }
};
