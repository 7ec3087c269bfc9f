// Decoding latent codes for the plane: on the main thread, or in a worker for heavy decoders (and
// for the backdrop's hundreds of images), and the plane's projection between codes and plot points.

const HEAVY_MULTIPLY_ADDS = 5e6; // above this, decode in a worker (a plain loop does about 1 M per ms)

export class Decoding {
  constructor(model) {
    this.model = model;
    this.latentDim = model.header.latent_dim;
    this.mean = model.arrays.plane_mean;
    this.components = model.arrays.plane_components; // (2, D)
    this.heavy = model.header.multiply_adds > HEAVY_MULTIPLY_ADDS;
    this.worker = new Worker(new URL("./decoder_worker.js", import.meta.url), { type: "module" });
    this.worker.postMessage({ type: "load", buffer: model.buffer.slice(0) });
    this.calls = new Map();
    this.lastId = 0;
    this.pending = null; // the newest code waiting for the worker
    this.busy = false;
    this.worker.onmessage = (event) => {
      const resolve = this.calls.get(event.data.id);
      this.calls.delete(event.data.id);
      if (resolve) resolve(event.data.images);
    };
  }

  // A point of the plot plane as a full latent code: mean + x * c0 + y * c1 (the identity for 2-D).
  lift(x, y, out = new Float32Array(this.latentDim)) {
    const d = this.latentDim, c = this.components;
    for (let i = 0; i < d; i++) out[i] = this.mean[i] + x * c[i] + y * c[d + i];
    return out;
  }

  project(code) {
    const d = this.latentDim, c = this.components;
    let x = 0, y = 0;
    for (let i = 0; i < d; i++) {
      const v = code[i] - this.mean[i];
      x += v * c[i];
      y += v * c[d + i];
    }
    return [x, y];
  }

  // One code decoded into an image of its own (decodeTo reuses its buffers).
  decodeCopy(z) {
    if (!this.heavy) return Promise.resolve(Float32Array.from(this.model.decoder.decode(z)));
    return this.decodeInWorker(Float32Array.from(z));
  }

  // Many codes (n * latentDim) into n images, in the worker.
  decodeInWorker(codes) {
    const id = ++this.lastId;
    return new Promise((resolve) => {
      this.calls.set(id, resolve);
      this.worker.postMessage({ type: "decode", id, codes }, [codes.buffer]);
    });
  }

  // Decode `z` and hand the image to `draw`: at once for a light decoder; for a heavy one with one
  // request in flight, where only the newest waiting code is decoded next (older ones are dropped).
  decodeTo(z, draw) {
    if (!this.heavy) return draw(this.model.decoder.decode(z));
    this.pending = { z: Float32Array.from(z), draw };
    if (this.busy) return;
    const next = () => {
      const job = this.pending;
      this.pending = null;
      if (!job) { this.busy = false; return; }
      this.busy = true;
      this.decodeInWorker(job.z).then((images) => { job.draw(images); next(); });
    };
    next();
  }
}
