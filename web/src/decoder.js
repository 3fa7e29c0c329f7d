// Decoding in the page: the MLP decoder's weights (model.safetensors?part=decoder) run in a Web Worker, so
// hovering costs the trainer nothing. Anything it cannot do (conv VAE, no token, a failed fetch) falls back
// to the server, and the hover caption says which path decoded.
const TOKEN_KEY = 'latentstream-token';
const LOCAL_MODELS = new Set(['ae', 'dae', 'vae', 'aae']);
const REFETCH_MS = 10_000;

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

/** The selected run's local decoder: fetches weights conditionally, decodes in a worker. Methods take the run's status ({id, model}). */
export class LocalDecoder {
  constructor() {
    this.worker = null;
    this.reset(null);
  }

  reset(job) {
    this.job = job; this.plane = null; this.etag = null; this.step = null; this.epoch = null; this.fetchedAt = 0;
    this.failure = null; this.fetching = null; this.ready = false;
    this.pastStep = null; this.pastNote = null;
  }

  /**
   * The step the slider shows, or null while live. In the past the page decodes with the weights of the epoch
   * checkpoint at or before that step when the run kept them (keepEpochCheckpoints), else with the current
   * weights, and says which.
   */
  atStep(step) {
    if (step === this.pastStep) return;
    this.pastStep = step;
    this.fetchedAt = 0; // asked again at the next decode, conditionally: the same weights cost a 304
  }

  onPlane(m) { if (m.origin && m.axes) this.plane = { origin: m.origin, axes: m.axes }; }

  /** An epoch ended: the next decode asks for the new checkpoint's weights. */
  onEpoch() { this.fetchedAt = 0; }

  /** Why the page cannot decode this run itself, or null while it can. */
  get reason() { return this.failure; }

  /** The caption's end for a local decode. */
  where() {
    if (this.pastStep == null) return `in your browser, weights from step ${this.step}`;
    if (this.pastNote) return `in your browser, from the current weights (step ${this.step}): ${this.pastNote}`;
    return `in your browser, weights from the end of epoch ${this.epoch} (step ${this.step})`;
  }

  /** The caption's end for a server decode, with the reason the page did not decode it. */
  serverWhy() {
    const past = this.pastStep == null ? '' : ', from the current weights';
    return `on the server${past}${this.failure ? ` (${this.failure})` : ''}`;
  }

  /**
   * Fetches run {@code run}'s decoder weights if they changed (at most every 10 s, or after an epoch). A failure
   * (no token, a refused or broken download, a file the page cannot run) leaves the server decoding and is
   * tried again 10 s later; a bad file is not downloaded again until it changes (its ETag is kept).
   */
  async refresh(run) {
    if (!run) return;
    if (run.model && !LOCAL_MODELS.has(run.model)) {
      this.failure = `the page decodes only MLP decoders; this run is a ${run.model}`;
      this.ready = false;
      return;
    }
    if (this.fetching) return this.fetching;
    if (Date.now() - this.fetchedAt < REFETCH_MS) return;
    this.fetchedAt = Date.now();
    this.fetching = this.fetchWeights(run.id, this.pastStep)
      .catch(e => { this.failure = e.message; this.ready = false; })
      .finally(() => { this.fetching = null; });
    return this.fetching;
  }

  /** The weights of the latest checkpoint, or with {@code pastStep} those of the epoch kept at or before it. */
  async fetchWeights(jobId, pastStep) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    // Without the token the download is refused (unless the server opened it): ask only with one.
    if (!token) throw new Error('the weights need the token');
    const headers = { Authorization: `Bearer ${token}` };
    if (this.etag) headers['If-None-Match'] = this.etag;
    const at = pastStep == null ? '' : `&step=${pastStep}`;
    let r;
    try {
      r = await fetch(`/api/jobs/${encodeURIComponent(jobId)}/model.safetensors?part=decoder${at}`, { headers });
    } catch (e) { throw new Error(`the weights could not be fetched (${e.message})`); }
    if (pastStep != null && r.status === 404) {
      // No epoch kept at or before the step: the current weights, and the server's words for why.
      const why = await r.json().then(j => j.error?.message, () => null);
      await this.fetchWeights(jobId, null);
      this.pastNote = why ?? `no checkpoint kept at or before step ${pastStep}`;
      return;
    }
    if (pastStep != null) this.pastNote = null;
    if (r.status === 304) return; // unchanged: decoding as before, or still falling back from a bad file
    if (r.status === 404) return; // no checkpoint yet: the server decodes until the first epoch ends
    if (!r.ok) throw new Error(r.status === 401 ? 'the weights need the token' : `the weights could not be fetched (HTTP ${r.status})`);
    let buf;
    try { buf = await r.arrayBuffer(); } catch (e) { throw new Error(`the weights could not be fetched (${e.message})`); }
    this.etag = r.headers.get('ETag');
    try {
      mlpDecoder(parseSafetensors(buf)); // checked here, so a file the page cannot run falls back at once
    } catch (e) { throw new Error(`the weights file cannot be decoded in the page: ${e.message}`); }
    await this.call({ weights: buf });
    this.step = Number(r.headers.get('X-Step'));
    this.epoch = Number(r.headers.get('X-Epoch'));
    this.failure = null;
    this.ready = true;
  }

  call(msg) {
    if (!this.worker) {
      this.worker = new Worker(new URL('./decode-worker.js', import.meta.url), { type: 'module' });
      this.pending = new Map();
      this.nextId = 0;
      this.worker.onmessage = e => { const p = this.pending.get(e.data.id); this.pending.delete(e.data.id); if (e.data.error) p.reject(new Error(e.data.error)); else p.resolve(e.data); };
      this.worker.onerror = e => { this.failure = `worker: ${e.message}`; this.ready = false; this.pending.forEach(p => p.reject(new Error(this.failure))); this.pending.clear(); };
    }
    const id = ++this.nextId;
    return new Promise((resolve, reject) => { this.pending.set(id, { resolve, reject }); this.worker.postMessage({ ...msg, id }); });
  }

  /** Decodes plane point {@code p} in the worker: a PNG data URL, or null when the server must decode. */
  async decodePlane(run, p) {
    const images = await this.decodeAlongPlane(run, plane => [planeToCode(plane, p)]);
    return images?.[0] ?? null;
  }

  /** The strip from plane point {@code a} to {@code b} ({@link interpolationPath}), or null as above. */
  interpolatePlane(run, a, b, steps, spherical) {
    return this.decodeAlongPlane(run, plane =>
      interpolationPath(planeToCode(plane, a), planeToCode(plane, b), steps, spherical));
  }

  /** Codes made from the current plane by {@code codesOf}, decoded in the worker: data URLs, or null. */
  async decodeAlongPlane(run, codesOf) {
    await this.refresh(run);
    if (!this.plane) return null;
    return this.decodeCodes(run, codesOf(this.plane));
  }

  /** Latent codes decoded in the worker: one PNG data URL each, or null when the server must decode. */
  async decodeCodes(run, codes) {
    await this.refresh(run);
    if (!this.ready || this.failure) return null;
    try {
      const r = await this.call({ zs: codes });
      return r.images.map(pixels => toDataUrl(pixels, r.width, r.height));
    } catch (e) { this.failure = e.message; return null; }
  }

  /** After a refresh: whether the page decodes this run itself. */
  async usable(run) {
    await this.refresh(run);
    return this.ready && !this.failure;
  }
}

/** Gray pixels in [0, 1] → a PNG data URL (the server's decode is a gray PNG too). */
export function toDataUrl(pixels, width, height) {
  const c = document.createElement('canvas');
  c.width = width; c.height = height;
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(width, height);
  for (let i = 0; i < pixels.length; i++) {
    const g = Math.round(Math.min(1, Math.max(0, pixels[i])) * 255);
    img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = g;
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c.toDataURL('image/png');
}
