// Decoding in the page, the maths: an exported MLP decoder (model.safetensors?part=decoder) read and run in
// plain JavaScript, plane points and interpolation paths turned into codes as the server does, and pixels
// turned into an image. local-decoder.js runs it for the explorer: hovers on the main thread, strips in a Web
// Worker (decode-worker.js).
export const LOCAL_MODELS = new Set(['ae', 'dae', 'vae', 'aae']);

/**
 * A safetensors file (8-byte little-endian header length, JSON header, raw data) → metadata and F32 tensors.
 * Anything else (too short, a header past the end, a dtype other than F32, offsets that do not fit the shape or
 * the file) throws an Error that says what is wrong, and the page then decodes on the server.
 */
export function parseSafetensors(buf) {
  if (!(buf instanceof ArrayBuffer)) throw new Error('not a safetensors file: no bytes');
  if (buf.byteLength < 8) throw new Error(`not a safetensors file: ${buf.byteLength} bytes, shorter than its 8-byte header length`);
  const n = Number(new DataView(buf).getBigUint64(0, true));
  if (n > buf.byteLength - 8) throw new Error(`not a safetensors file: its header of ${n} bytes runs past the end of the file (${buf.byteLength} bytes)`);
  let header;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(buf, 8, n)));
  } catch (e) { throw new Error(`not a safetensors file: its header is not JSON (${e.message})`); }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new Error('not a safetensors file: its header is not a JSON object');
  const data = buf.byteLength - 8 - n;
  const tensors = {};
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (t?.dtype !== 'F32') throw new Error(`${name}: dtype ${t?.dtype}, only F32 is decoded in the page`);
    const shape = t.shape, offsets = t.data_offsets;
    if (!Array.isArray(shape) || !shape.every(d => Number.isInteger(d) && d >= 0)) throw new Error(`${name}: shape ${JSON.stringify(shape)} is not a list of sizes`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(Number.isInteger)) throw new Error(`${name}: data_offsets ${JSON.stringify(offsets)} are not two whole numbers`);
    const [from, to] = offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (from < 0 || to - from !== 4 * count) throw new Error(`${name}: data_offsets [${from}, ${to}] do not fit its shape [${shape}] (${4 * count} bytes)`);
    if (to > data) throw new Error(`${name}: its data [${from}, ${to}] runs past the end of the file (${data} bytes of data): the file is truncated`);
    tensors[name] = { shape, data: new Float32Array(buf.slice(8 + n + from, 8 + n + to)) };
  }
  return { meta: header.__metadata__ ?? {}, tensors };
}

const ACTIVATIONS = { relu: x => (x > 0 ? x : 0), sigmoid: x => 1 / (1 + Math.exp(-x)), tanh: Math.tanh };

/** The decoder of an exported MLP model (linear layers, the spec's activation between them, sigmoid out). */
export function mlpDecoder({ meta, tensors }) {
  if (!LOCAL_MODELS.has(meta.model)) throw new Error(`${meta.model} decoders run on the server`);
  let spec;
  try { spec = JSON.parse(meta.spec); } catch { throw new Error('the file carries no readable spec in its metadata'); }
  const act = ACTIVATIONS[spec.activation ?? 'relu'];
  if (!act) throw new Error(`unknown activation ${spec.activation}`);
  const height = Number(meta.height), width = Number(meta.width);
  const layers = [];
  for (let i = 0; tensors[`decoder.linear${i}.weight`]; i++) {
    const name = `decoder.linear${i}`, w = tensors[`${name}.weight`], b = tensors[`${name}.bias`];
    if (w.shape.length !== 2) throw new Error(`${name}.weight: shape [${w.shape}], a linear layer's is [out, in]`);
    const [out, inputs] = w.shape;
    if (layers.length && layers[layers.length - 1].out !== inputs) throw new Error(`${name}.weight: takes ${inputs} inputs, the layer before gives ${layers[layers.length - 1].out}`);
    if (!b || b.shape.length !== 1 || b.shape[0] !== out) throw new Error(`${name}.bias: needs shape [${out}], has ${b ? `[${b.shape}]` : 'none'}`);
    layers.push({ out, in: inputs, w: w.data, b: b.data });
  }
  if (!layers.length) throw new Error('no decoder layers in the file');
  if (!(height > 0 && width > 0) || layers[layers.length - 1].out !== height * width) {
    throw new Error(`the last layer gives ${layers[layers.length - 1].out} pixels, the metadata says ${meta.height}x${meta.width}`);
  }
  return {
    latent: layers[0].in, step: Number(meta.step), height, width,
    /** One code (latent floats) → the image's pixels in [0, 1]. */
    decode(z) {
      let x = Float32Array.from(z);
      layers.forEach((l, k) => {
        const y = new Float32Array(l.out);
        for (let o = 0; o < l.out; o++) {
          let s = l.b[o];
          const row = o * l.in;
          for (let i = 0; i < l.in; i++) s += l.w[row + i] * x[i];
          y[o] = k + 1 < layers.length ? act(s) : ACTIVATIONS.sigmoid(s);
        }
        x = y;
      });
      return x;
    },
  };
}

/** Plane point → code, as the server's fromPlane: double sums rounded to float32. */
export function planeToCode(plane, [u, v]) {
  const fu = Math.fround(u), fv = Math.fround(v);
  return plane.origin.map((o, j) => Math.fround(Math.fround(o) + fu * plane.axes[0][j] + fv * plane.axes[1][j]));
}

/**
 * {@code steps} codes from {@code a} to {@code b} inclusive, straight or along a great circle (slerp), as the
 * server's Interpolation.path: weights in double, each sum rounded to float32.
 */
export function interpolationPath(a, b, steps, spherical) {
  let omega = 0;
  if (spherical) {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
    omega = na === 0 || nb === 0 ? 0 : Math.acos(Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb))));
  }
  const path = [];
  for (let s = 0; s < steps; s++) {
    const t = s / (steps - 1);
    const great = spherical && Math.sin(omega) > 1e-6;
    const wa = great ? Math.sin((1 - t) * omega) / Math.sin(omega) : 1 - t;
    const wb = great ? Math.sin(t * omega) / Math.sin(omega) : t;
    path.push(a.map((x, i) => Math.fround(wa * x + wb * b[i])));
  }
  return path;
}

/** Gray pixels in [0, 1] → RGBA ImageData, each rounded to the nearest of 256 levels as the server's PNG. */
export function grayImageData(pixels, width, height) {
  const img = new ImageData(width, height);
  for (let i = 0; i < pixels.length; i++) {
    const g = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  return img;
}
