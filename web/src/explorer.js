// The latent explorer of the selected run: hover (or arrow keys) decodes a point of the plane (hover.js: on the
// main thread, in the handler of the move, while the page holds the weights), two clicks (or Enter twice)
// interpolate, attribute vectors, and a drawing pad whose encoding is marked on the plane. Strips are decoded
// in local-decoder.js's worker when the page can, else by the server.
import { $, toast } from './ui.js';
import { DrawPad } from './draw.js';
import { PALETTE } from './frames.js';
import { HoverDecode } from './hover.js';
import { LocalDecoder } from './local-decoder.js';
import { LatentOverlay } from './overlay.js';
import { paint, pngBitmap } from './paint.js';

/** A base64 PNG of the server's → an img src. */
const png = b64 => `data:image/png;base64,${b64}`;

export class Explorer {
  constructor(connection, runs) {
    this.connection = connection;
    this.runs = runs;
    this.plane = null; // the shown latent frame's range [x0, x1, y0, y1]
    this.livePlane = null; // the newest one the server sent
    this.live = true;
    this.cursor = null;
    this.clickA = null;
    this.marker = { point: null, std: null };
    this.encodeBusy = false;
    this.encodeAgain = false;
    this.local = new LocalDecoder();
    this.hover = new HoverDecode(connection, runs, this.local);
    this.overlay = new LatentOverlay();
    this.pad = new DrawPad($('pad'), pixels => this.encodeDrawing(pixels));
    const o = $('latent-overlay');
    o.onpointermove = e => { const p = this.pointerToPlane(e); if (p) this.decodeAt(p); };
    // A finger has no hover: touching the plane decodes there (and the overlay's touch-action keeps the
    // page from scrolling while a finger moves over it).
    o.onpointerdown = e => { if (e.pointerType === 'mouse') return; const p = this.pointerToPlane(e); if (p) this.decodeAt(p); };
    o.onclick = e => { const p = this.pointerToPlane(e); if (p) this.markEnd(p); };
    o.onkeydown = e => this.onKey(e);
    o.onfocus = () => {
      // Only focus from the keyboard gets the crosshair; a click focuses too, and marks where it clicked.
      if (this.cursor || !this.plane || !o.matches(':focus-visible')) return;
      const [x0, x1, y0, y1] = this.plane;
      this.cursor = [(x0 + x1) / 2, (y0 + y1) / 2];
      this.drawOverlay();
    };
    $('pad-clear').onclick = () => { this.pad.clear(); this.marker.point = null; this.drawOverlay(); $('pad-recon').removeAttribute('src'); };
    $('attr-apply').onclick = () => this.attribute();
    window.addEventListener('resize', () => this.drawOverlay());
  }

  /** A new run: nothing of the last one's plane or marks. */
  reset() {
    this.local.reset(this.runs.selected);
    this.plane = null;
    this.livePlane = null;
    this.clickA = null;
    this.cursor = null;
    this.hover.reset();
    this.marker = { point: null, std: null };
    this.pad.clear();
    $('pad-recon').removeAttribute('src');
    for (const id of ['explorer-status', 'strip']) $(id).textContent = '';
    this.drawOverlay();
  }

  /** The plane message of the selected run: shown at once while the view is live. */
  onPlane(range) {
    this.livePlane = range;
    if (this.live) { this.plane = range; this.drawOverlay(); }
  }

  /** Following the newest step (true) or showing past step {@code step} (false): decodes use that step's weights where kept. */
  setLive(live, step) {
    this.live = live;
    if (live) { this.plane = this.livePlane; this.drawOverlay(); }
    this.local.atStep(live ? null : step);
  }

  /**
   * The plane message of the latent frame shown at a past step (null when not known: an epoch's saved image):
   * hovers over it are read in its range and decoded on its plane.
   */
  onPastPlane(m) {
    if (this.live) return;
    this.plane = m?.range ?? this.livePlane;
    this.local.atPlane(m);
    this.drawOverlay();
  }

  /** After the latent panel was drawn (true) or blanked (false). */
  onLatentDrawn(drawn) {
    if (!drawn) this.plane = null;
    this.drawOverlay();
  }

  showClasses(classes) {
    this.renderLegend(classes);
    this.fillClasses(classes);
  }

  renderLegend(classes) {
    const ul = $('latent-legend');
    if (ul.dataset.for === classes.join('\u0000')) return;
    ul.dataset.for = classes.join('\u0000');
    ul.innerHTML = '';
    classes.forEach((name, i) => {
      const li = document.createElement('li');
      const swatch = document.createElement('i');
      swatch.style.background = PALETTE[i % PALETTE.length];
      li.append(swatch, document.createTextNode(name));
      ul.appendChild(li);
    });
  }

  fillClasses(names) {
    for (const id of ['attr-plus', 'attr-minus']) {
      const sel = $(id);
      if (sel.options.length === names.length) continue;
      sel.innerHTML = '';
      names.forEach((n, i) => { const o = document.createElement('option'); o.value = i; o.textContent = n; sel.appendChild(o); });
    }
    if ($('attr-plus').selectedIndex === $('attr-minus').selectedIndex && names.length > 1) $('attr-minus').selectedIndex = 1;
  }

  /** Pointer position → plane coordinates, or null outside the plot. */
  pointerToPlane(e) { return this.overlay.toPlane(this.plane, e); }

  /** Decodes plane point {@code p} into the hover image: before returning when the page holds the weights. */
  decodeAt(p) { return this.hover.at(p); }

  /** Whether a hover decode that waits (for the first weights, or the server) is under way. */
  get decodeBusy() { return this.hover.busy; }

  /** First call marks the start, the second interpolates from it to {@code p}. */
  async markEnd(p) {
    if (!this.clickA) {
      this.clickA = p;
      this.drawOverlay();
      $('explorer-status').textContent = `interpolation start marked at (${p[0].toFixed(2)}, ${p[1].toFixed(2)}); mark the end`;
      return;
    }
    const a = this.clickA;
    this.clickA = null;
    this.drawOverlay();
    const steps = 10, spherical = $('spherical').checked;
    try {
      const local = await this.local.interpolatePlane(this.run(), a, p, steps, spherical);
      if (local) {
        this.showStrip(local);
        $('explorer-status').textContent = `interpolated ${local.length} images ${this.local.where()}`;
        return;
      }
      const r = await this.connection.modelRequest({ type: 'interpolate', job: this.runs.selected, from: { plane: a },
        to: { plane: p }, steps, mode: spherical ? 'spherical' : 'linear' },
        () => { $('explorer-status').textContent = 'the trainer is busy; interpolating again shortly'; });
      this.showStrip(await Promise.all(r.result.images.map(pngBitmap)));
      $('explorer-status').textContent = `interpolated ${r.result.images.length} images ${this.local.serverWhy()}`;
    } catch (err) { toast(`Interpolation failed: ${err.message}`); }
  }

  onKey(e) {
    if (!this.plane) return;
    const [x0, x1, y0, y1] = this.plane;
    const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
    const p = this.cursor ?? [cx, cy];
    const f = e.shiftKey ? 0.1 : 0.02;
    const moves = { ArrowLeft: [-f, 0], ArrowRight: [f, 0], ArrowUp: [0, f], ArrowDown: [0, -f] };
    if (moves[e.key]) {
      e.preventDefault();
      const [dx, dy] = moves[e.key];
      this.cursor = [Math.min(x1, Math.max(x0, p[0] + dx * (x1 - x0))), Math.min(y1, Math.max(y0, p[1] + dy * (y1 - y0)))];
      this.drawOverlay();
      this.decodeAt(this.cursor);
    } else if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      this.cursor = p;
      this.markEnd(p);
    } else if (e.key === 'Escape' && this.clickA) {
      this.clickA = null;
      this.drawOverlay();
      $('explorer-status').textContent = 'interpolation start cleared';
    }
  }

  /**
   * The attribute strip: the codes need the encoder and the class means, so the server makes them; the page
   * decodes them itself when it can (the server then decodes nothing), else the server sends the images.
   */
  async attribute() {
    const index = Number($('attr-index').value);
    if (!Number.isInteger(index) || index < 0) { toast('The test image is a whole number from 0.'); return; }
    const request = { type: 'attribute', job: this.runs.selected, from: { index },
      plus: Number($('attr-plus').value), minus: Number($('attr-minus').value), scale: 1 };
    // The reply holds the image before and after: each gets its caption.
    const captions = label => [`test image ${index}`, `+ ${label}`];
    try {
      if (await this.local.usable(this.run())) {
        const r = await this.connection.modelRequest({ ...request, images: false });
        const local = await this.local.decodeCodes(this.run(), r.result.z);
        if (local) {
          this.showStrip(local, captions(r.result.label));
          $('explorer-status').textContent = `${r.result.label}: decoded ${this.local.where()}`;
          return;
        }
      }
      const r = await this.connection.modelRequest(request);
      this.showStrip(await Promise.all(r.result.images.map(pngBitmap)), captions(r.result.label));
      $('explorer-status').textContent = `${r.result.label}: decoded ${this.local.serverWhy()}`;
    } catch (e) { toast(`Attribute failed: ${e.message}`); }
  }

  /** The selected run's status ({id, model, ...}): which weights the page fetches, and whether it can run them. */
  run() { return this.runs.current(); }

  /** Images (ImageBitmaps) side by side under the plane, each on a canvas; with {@code captions}, each one named. */
  showStrip(images, captions = null) {
    const strip = $('strip');
    strip.innerHTML = '';
    images.forEach((bitmap, i) => {
      const canvas = document.createElement('canvas');
      canvas.setAttribute('role', 'img');
      paint(canvas, bitmap, captions?.[i] ?? `${i + 1} of ${images.length}`);
      if (!captions) { strip.appendChild(canvas); return; }
      const figure = document.createElement('figure');
      figure.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: captions[i] }));
      strip.appendChild(figure);
    });
  }

  drawOverlay() { this.overlay.draw(this.plane, this); }

  async encodeDrawing(pixels) {
    const job = this.runs.selected;
    if (job == null) return;
    if (this.encodeBusy) { this.encodeAgain = true; return; }
    this.encodeBusy = true;
    try {
      const r = await this.connection.modelRequest({ type: 'encode', job,
        pixels: Array.from(pixels, v => Math.round(v * 1000) / 1000) });
      $('pad-recon').src = png(r.result.reconstructions[0]);
      this.marker.point = r.result.plane[0];
      this.marker.std = r.result.planeStd[0];
      this.drawOverlay();
    } catch (e) {
      toast(`Encode failed: ${e.message}`);
    } finally {
      this.encodeBusy = false;
      if (this.encodeAgain) { this.encodeAgain = false; this.encodeDrawing(this.pad.pixels); }
    }
  }
}
