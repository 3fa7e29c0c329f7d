// Decoding in the page: the selected run's MLP decoder, so exploring costs the trainer nothing. A hover is one
// image (about 0.3 MFLOP for the default decoder, well under a millisecond): it is decoded on the main thread
// with the decoder held here (decodeHeld), in the handler of the move, because a worker's round trip cannot land
// in the frame of the move (hover.js). Strips of many images are decoded in a Web Worker (decode-worker.js),
// which paints them and hands over ImageBitmaps, so the main thread only draws them. Both hold the same weights.
// Anything the page cannot do (conv VAE, no token, a failed fetch) falls back to the server, and the caption
// says which path decoded. Weights are asked for conditionally (ETag by step) at most once per REFETCH_MS while
// exploring, epoch ends included, without holding up a hover; a crowd's fetches are spread over a few seconds
// (SPREAD_MS).
import { grayImageData, interpolationPath, LOCAL_MODELS, mlpDecoder, parseSafetensors, planeToCode } from './decoder.js';

const TOKEN_KEY = 'latentstream-token';
/**
 * The least time between two asks for the weights while exploring. An epoch end sooner after the last ask
 * waits for this mark: with epochs of a few seconds, asking at each one made every explorer download the
 * decoder every few seconds (docs/benchmarks.md, "Decoding in the page").
 */
export const REFETCH_MS = 10_000;
/**
 * The first download and the refetch after an epoch wait a random time up to this long: a class that opens
 * the explorer together, or sees an epoch end together, does not ask for the weights (1.3 MB each for the
 * default job) in the same instant.
 */
export const SPREAD_MS = 3_000;

/** The selected run's local decoder. Methods take the run's status ({id, model}). */
export class LocalDecoder {
  /** {@code spreadMs} and {@code random} (in [0, 1)) set the spread of fetches; tests choose them. */
  constructor({ spreadMs = SPREAD_MS, random = Math.random } = {}) {
    this.worker = null;
    this.painter = null; // who painted the last strip's images: 'worker' (OffscreenCanvas) or 'page'
    this.spreadMs = spreadMs;
    this.random = random;
    this.reset(null);
  }

  reset(job) {
    this.generation = (this.generation ?? 0) + 1; // a fetch begun for another run changes nothing here
    this.job = job; this.plane = null; this.etag = null; this.step = null; this.epoch = null;
    this.dueAt = null; // when the weights are next asked for; null: never asked yet
    this.askedAt = null; // when they were last asked for (a fetch begun); null: not yet
    this.failure = null; this.fetching = null; this.ready = false;
    this.decoder = null; // the main thread's copy of the worker's weights (mlpDecoder), for hovers
    this.heldFor = undefined; // the slider step (null: live) the held weights were fetched for; undefined: none
    this.pastStep = null; this.pastNote = null; this.pastPlane = null;
  }

  /** A random wait in [0, spreadMs). */
  spread() { return this.random() * this.spreadMs; }

  /**
   * The step the slider shows, or null while live. In the past the page decodes with the weights of the epoch
   * checkpoint at or before that step when the run kept them (keepEpochCheckpoints), else with the current
   * weights, and says which.
   */
  atStep(step) {
    if (step === this.pastStep) return;
    this.pastStep = step;
    if (step == null) this.pastPlane = null;
    // The user moved the slider (no crowd does that together): asked at the next decode, conditionally.
    if (this.dueAt != null) this.dueAt = 0;
  }

  /**
   * The plane of the latent frame shown at the slider's past step ({origin, axes} of its plane message, or null
   * when unknown): above two latent dimensions each frame has its own plane, and a hover over a past frame
   * stands for a point of that frame's plane, not of the current one.
   */
  atPlane(plane) { this.pastPlane = plane?.origin && plane?.axes ? { origin: plane.origin, axes: plane.axes } : null; }

  onPlane(m) { if (m.origin && m.axes) this.plane = { origin: m.origin, axes: m.axes }; }

  /** The plane hovers are decoded on: the shown past frame's when known, else the current one. */
  planeInUse() { return this.pastStep != null && this.pastPlane ? this.pastPlane : this.plane; }

  /**
   * An epoch ended: the new weights are asked for at the REFETCH_MS mark after the last ask, never sooner.
   * When that mark has passed (the page hovered nothing since), within SPREAD_MS, so that a crowd seeing the
   * epoch end together does not ask in one instant. Before the first ask (still to come) or after the slider
   * moved (asked at once), nothing changes.
   */
  onEpoch() {
    if (this.askedAt == null || this.dueAt === 0) return;
    const now = Date.now();
    if (this.dueAt <= now) this.dueAt = Math.max(this.askedAt + REFETCH_MS, now + this.spread());
  }

  /** Why the page cannot decode this run itself, or null while it can. */
  get reason() { return this.failure; }

  /** The caption's end for a local decode. */
  where() {
    // With two latent dimensions every frame's plane is the same (origin 0, identity axes).
    const plane = this.pastStep != null && !this.pastPlane && this.plane?.origin.length > 2
      ? '; on the current plane (the shown frame\'s is not known)' : '';
    if (this.pastStep == null) return `in your browser, weights from step ${this.step}`;
    if (this.pastNote) return `in your browser, from the current weights (step ${this.step}): ${this.pastNote}${plane}`;
    return `in your browser, weights from the end of epoch ${this.epoch} (step ${this.step})${plane}`;
  }

  /** The caption's end for a server decode, with the reason the page did not decode it. */
  serverWhy() {
    const past = this.pastStep == null ? '' : ', from the current weights';
    return `on the server${past}${this.failure ? ` (${this.failure})` : ''}`;
  }

  /**
   * Fetches run {@code run}'s decoder weights if they changed, when due. The first download waits a random
   * part of SPREAD_MS (the decode waits with it); later ones happen while the held weights keep decoding. A
   * failure (no token, a refused or broken download, a file the page cannot run) leaves the server decoding
   * and is tried again 10 s later; a bad file is not downloaded again until it changes (its ETag is kept).
   */
  async refresh(run) {
    if (!run) return;
    if (run.model && !LOCAL_MODELS.has(run.model)) {
      this.failure = `the page decodes only MLP decoders; this run is a ${run.model}`;
      this.ready = false;
      return;
    }
    // Without the token the download is refused (unless the server opened it): ask only with one, and
    // fall back at once rather than after a wait.
    if (!sessionStorage.getItem(TOKEN_KEY)) { this.failure = 'the weights need the token'; this.ready = false; return; }
    if (this.fetching) return this.fetching;
    const now = Date.now();
    const first = this.dueAt == null;
    if (first) this.dueAt = now + this.spread();
    if (now < this.dueAt && !first) return;
    const wait = this.dueAt - now, generation = this.generation;
    const mine = () => generation === this.generation;
    const fetching = new Promise(done => setTimeout(done, Math.max(0, wait)))
      .then(() => {
        if (!mine()) return;
        this.askedAt = Date.now();
        this.dueAt = this.askedAt + REFETCH_MS;
        const want = this.pastStep;
        return this.fetchWeights(run.id, want, mine).then(() => { if (mine()) this.heldFor = want; }); })
      .catch(e => { if (mine()) { this.failure = e.message; this.ready = false; } })
      .finally(() => { if (this.fetching === fetching) this.fetching = null; });
    this.fetching = fetching;
    return fetching;
  }

  /**
   * The weights of the latest checkpoint, or with {@code pastStep} those of the epoch kept at or before it;
   * nothing changes once {@code mine()} is false (another run was selected meanwhile).
   */
  async fetchWeights(jobId, pastStep, mine) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (!token) throw new Error('the weights need the token');
    const headers = { Authorization: `Bearer ${token}` };
    if (this.etag) headers['If-None-Match'] = this.etag;
    const at = pastStep == null ? '' : `&step=${pastStep}`;
    let r;
    try {
      r = await fetch(`/api/jobs/${encodeURIComponent(jobId)}/model.safetensors?part=decoder${at}`, { headers });
    } catch (e) { throw new Error(`the weights could not be fetched (${e.message})`); }
    if (!mine()) return;
    if (pastStep != null && r.status === 404) {
      // No epoch kept at or before the step: the current weights, and the server's words for why.
      const why = await r.json().then(j => j.error?.message, () => null);
      await this.fetchWeights(jobId, null, mine);
      if (mine()) this.pastNote = why ?? `no checkpoint kept at or before step ${pastStep}`;
      return;
    }
    if (pastStep != null) this.pastNote = null;
    if (r.status === 304) return; // unchanged: decoding as before, or still falling back from a bad file
    if (r.status === 404) return; // no checkpoint yet: the server decodes until the first epoch ends
    if (!r.ok) throw new Error(r.status === 401 ? 'the weights need the token' : `the weights could not be fetched (HTTP ${r.status})`);
    let buf;
    try { buf = await r.arrayBuffer(); } catch (e) { throw new Error(`the weights could not be fetched (${e.message})`); }
    if (!mine()) return;
    this.etag = r.headers.get('ETag');
    let decoder;
    try {
      decoder = mlpDecoder(parseSafetensors(buf)); // checked here, so a file the page cannot run falls back at once
    } catch (e) { throw new Error(`the weights file cannot be decoded in the page: ${e.message}`); }
    await this.call({ weights: buf });
    if (!mine()) return;
    this.decoder = decoder;
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

  /**
   * Plane point {@code p} decoded now, on this thread, with the weights held: its ImageData, or null when they
   * are not the ones to use (none yet, or the slider moved to another step's) or the server must decode. A
   * download that is due starts meanwhile and is not waited for.
   */
  decodeHeld(run, p) {
    this.refresh(run);
    const plane = this.planeInUse();
    if (!this.ready || this.failure || !this.decoder || this.heldFor !== this.pastStep || !plane) return null;
    const z = planeToCode(plane, p), { latent, width, height } = this.decoder;
    if (z.length !== latent) { this.failure = `the plane has ${z.length} dimensions, the decoder takes ${latent}`; return null; }
    return grayImageData(this.decoder.decode(z), width, height);
  }

  /**
   * {@link #decodeHeld} once the weights to use are here: after the first download, or the one for the step
   * the slider moved to (a download for another step under way is waited out, then the one due).
   */
  async decodeWhenReady(run, p) {
    for (let tries = 0; tries < 3; tries++) {
      await this.refresh(run);
      if (!this.ready || this.failure || this.heldFor === this.pastStep) break;
    }
    return this.decodeHeld(run, p);
  }

  /** The strip from plane point {@code a} to {@code b} ({@link interpolationPath}), or null as above. */
  interpolatePlane(run, a, b, steps, spherical) {
    return this.decodeAlongPlane(run, plane =>
      interpolationPath(planeToCode(plane, a), planeToCode(plane, b), steps, spherical));
  }

  /** Codes made by {@code codesOf} from the plane in use, decoded in the worker: ImageBitmaps, or null. */
  async decodeAlongPlane(run, codesOf) {
    await this.refresh(run);
    const plane = this.planeInUse();
    if (!plane) return null;
    return this.decodeCodes(run, codesOf(plane));
  }

  /**
   * Latent codes decoded in the worker: one ImageBitmap each, or null when the server must decode. The worker
   * paints them on an OffscreenCanvas; where there is none it sends the pixels, and the bitmaps are made here.
   */
  async decodeCodes(run, codes) {
    await this.refresh(run);
    if (!this.ready || this.failure) return null;
    try {
      const r = await this.call({ zs: codes, bitmaps: typeof OffscreenCanvas === 'function' });
      this.painter = r.bitmaps ? 'worker' : 'page';
      return r.bitmaps ?? await Promise.all(r.images.map(p => createImageBitmap(grayImageData(p, r.width, r.height))));
    } catch (e) { this.failure = e.message; return null; }
  }

  /** After a refresh: whether the page decodes this run itself. */
  async usable(run) {
    await this.refresh(run);
    return this.ready && !this.failure;
  }
}
