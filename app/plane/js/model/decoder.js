// The browser's decoder: runs a model's decoder exported by models/files/browser_export.py.
//
// parseAsset(buffer) reads the packed file (magic "LXD1", a JSON header, aligned arrays);
// createDecoder(header, weights) returns { decode(z) }, which maps one latent code
// (Float32Array, latent_dim long) to one image (Float32Array, one value in [0, 1] per pixel).
// Every op's output buffer is allocated once, so decoding allocates nothing.

const TYPED = { "<f4": Float32Array, "|u1": Uint8Array, "<i8": BigInt64Array, "<i4": Int32Array };

export function parseAsset(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]);
  if (magic !== "LXD1") throw new Error("not a decoder asset");
  const length = new DataView(buffer).getUint32(4, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  const start = 8 + length;
  const arrays = {};
  for (const [name, entry] of Object.entries(header.arrays)) {
    const count = entry.shape.reduce((a, b) => a * b, 1);
    arrays[name] = new TYPED[entry.dtype](buffer, start + entry.offset, count);
  }
  return { header, arrays };
}

export function createDecoder(header, weights) {
  const steps = [];
  let shape = [header.latent_dim];
  for (const op of header.ops) {
    const [step, next] = makeStep(op, shape, weights);
    steps.push(step);
    shape = next;
  }
  return {
    latentDim: header.latent_dim,
    multiplyAdds: header.multiply_adds,
    decode(z) {
      let x = z;
      for (const step of steps) x = step(x);
      return x;
    },
  };
}

function makeStep(op, shape, weights) {
  switch (op.op) {
    case "linear": {
      const n = op.in, m = op.out, out = new Float32Array(m);
      const w = weights.subarray(op.w, op.w + n * m), b = weights.subarray(op.b, op.b + m);
      return [(x) => {
        for (let o = 0; o < m; o++) {
          let s = b[o];
          const row = o * n;
          for (let i = 0; i < n; i++) s += w[row + i] * x[i];
          out[o] = s;
        }
        return out;
      }, [m]];
    }
    case "conv2d": return conv2d(op, shape, weights);
    case "conv_transpose2d": return convTranspose2d(op, shape, weights);
    case "upsample": {
      const [c, h, wd] = shape, s = op.scale, H = h * s, W = wd * s, out = new Float32Array(c * H * W);
      return [(x) => {
        for (let ch = 0; ch < c; ch++)
          for (let y = 0; y < H; y++) {
            const src = (ch * h + Math.floor(y / s)) * wd, dst = (ch * H + y) * W;
            for (let xx = 0; xx < W; xx++) out[dst + xx] = x[src + Math.floor(xx / s)];
          }
        return out;
      }, [c, H, W]];
    }
    case "reshape": return [(x) => x, op.shape];
    case "relu": return [(x) => { for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] = 0; return x; }, shape];
    case "leaky_relu": {
      const slope = op.slope;
      return [(x) => { for (let i = 0; i < x.length; i++) if (x[i] < 0) x[i] *= slope; return x; }, shape];
    }
    case "tanh": return [(x) => { for (let i = 0; i < x.length; i++) x[i] = Math.tanh(x[i]); return x; }, shape];
    case "sigmoid":
      return [(x) => { for (let i = 0; i < x.length; i++) x[i] = 1 / (1 + Math.exp(-x[i])); return x; }, shape];
    default:
      throw new Error(`unknown decoder op ${op.op}`);
  }
}

function conv2d(op, shape, weights) {
  const [cin, h, wd] = shape, k = op.k, pad = op.pad, cout = op.out;
  const H = h + 2 * pad - k + 1, W = wd + 2 * pad - k + 1;
  const w = weights.subarray(op.w, op.w + cout * cin * k * k), b = weights.subarray(op.b, op.b + cout);
  const out = new Float32Array(cout * H * W);
  return [(x) => {
    for (let co = 0; co < cout; co++) {
      const base = co * H * W;
      for (let i = 0; i < H * W; i++) out[base + i] = b[co];
      for (let ci = 0; ci < cin; ci++) {
        const plane = ci * h * wd;
        for (let ky = 0; ky < k; ky++)
          for (let kx = 0; kx < k; kx++) {
            const weight = w[((co * cin + ci) * k + ky) * k + kx];
            if (weight === 0) continue;
            const y0 = Math.max(0, pad - ky), y1 = Math.min(H, h + pad - ky);
            const x0 = Math.max(0, pad - kx), x1 = Math.min(W, wd + pad - kx);
            for (let oy = y0; oy < y1; oy++) {
              const src = plane + (oy + ky - pad) * wd + (kx - pad), dst = base + oy * W;
              for (let ox = x0; ox < x1; ox++) out[dst + ox] += weight * x[src + ox];
            }
          }
      }
    }
    return out;
  }, [cout, H, W]];
}

function convTranspose2d(op, shape, weights) {
  const [cin, h, wd] = shape, k = op.k, s = op.stride, pad = op.pad, cout = op.out;
  const H = (h - 1) * s - 2 * pad + k + op.output_pad, W = (wd - 1) * s - 2 * pad + k + op.output_pad;
  const w = weights.subarray(op.w, op.w + cin * cout * k * k), b = weights.subarray(op.b, op.b + cout);
  const out = new Float32Array(cout * H * W);
  return [(x) => {
    for (let co = 0; co < cout; co++) out.fill(b[co], co * H * W, (co + 1) * H * W);
    for (let ci = 0; ci < cin; ci++)
      for (let iy = 0; iy < h; iy++)
        for (let ix = 0; ix < wd; ix++) {
          const v = x[(ci * h + iy) * wd + ix];
          if (v === 0) continue; // after a ReLU most inputs are zero
          for (let co = 0; co < cout; co++) {
            const wBase = (ci * cout + co) * k * k, oBase = co * H * W;
            for (let ky = 0; ky < k; ky++) {
              const oy = iy * s - pad + ky;
              if (oy < 0 || oy >= H) continue;
              for (let kx = 0; kx < k; kx++) {
                const ox = ix * s - pad + kx;
                if (ox < 0 || ox >= W) continue;
                out[oBase + oy * W + ox] += v * w[wBase + ky * k + kx];
              }
            }
          }
        }
    return out;
  }, [cout, H, W]];
}
