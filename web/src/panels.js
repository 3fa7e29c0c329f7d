// The four image panels of the selected run: which streams the socket asks for (only open panels of a
// visible page), and drawing frames into them, at most once per panel per animation frame.
import { $, toast } from './ui.js';
import { drawFrame, drawPoints } from './frames.js';
import { IMAGE_STREAMS } from './protocol.js';

export class Panels {
  /** {@code onLatentDrawn} runs after the latent panel was drawn or blanked (the explorer's overlay). */
  constructor(connection, runs, onLatentDrawn) {
    this.connection = connection;
    this.runs = runs;
    this.onLatentDrawn = onLatentDrawn;
    this.streams = [];
    this.unsupported = new Set();
    this.subscribes = 0;
    this.pointFrames = 0;
    // Decoded frames wait here and are drawn together in the next animation frame: one draw per panel per
    // frame, however fast they arrive.
    this.pending = new Map();
    this.scheduled = false;
    document.addEventListener('visibilitychange', () => this.subscribe());
    document.querySelectorAll('details.panel').forEach(d => d.addEventListener('toggle', () => this.subscribe()));
  }

  /** loss and status always; image and diagnostics streams only for open panels of a visible page. */
  wanted() {
    if (document.visibilityState === 'hidden') return ['loss', 'status'];
    const open = [...document.querySelectorAll('details.panel[open]')].map(d => d.dataset.stream);
    return ['loss', 'status', ...open].filter(s => !this.unsupported.has(s));
  }

  /** Forgets what was asked for, so the next subscribe asks again (a new run or a new socket). */
  forget() { this.streams = []; }

  /** (Re)subscribes the selected job; a repeated subscribe replaces the socket's streams for it. */
  async subscribe() {
    const num = this.runs.selected, c = this.connection;
    if (num == null || !c.open || this.paused) return;
    const streams = this.wanted();
    if (streams.join() === this.streams.join() && this.subscribedTo === num && this.subscribedSocket === c.ws) return;
    this.streams = streams;
    this.subscribedTo = num;
    this.subscribedSocket = c.ws;
    try {
      await c.request({ type: 'subscribe', job: num, streams });
      this.subscribes++;
    } catch (e) {
      // A server older than the page does not know every stream (e.g. diagnostics): drop it and ask again.
      const unknown = /unknown stream '([^']+)'/.exec(e.message);
      if (unknown) {
        this.unsupported.add(unknown[1]);
        this.streams = [];
        this.subscribe();
      } else {
        this.streams = []; // so that the next change asks again
        toast(`Cannot watch this run: ${e.message}`);
      }
    }
  }

  /** Whether a live frame of {@code kind} is still asked for (one sent before a narrower subscribe is not). */
  wants(kind) { return this.streams.includes(kind); }

  /**
   * Draws a PNG frame of run {@code job} (the selected run when not given). The frame is dropped when another
   * run, or none, is selected by the time it is decoded: a frame fetched or decoded for a run that was just
   * deleted or left must not appear under the next one.
   */
  async paint(kind, blob, job = this.runs.selected) {
    const bitmap = await createImageBitmap(blob);
    if (job == null || job !== this.runs.selected) { bitmap.close(); return; }
    this.schedule(kind, bitmap);
  }

  /** A latent frame sent as points (format 2): drawn by the page, in the same animation frame as the rest. */
  paintPoints(kind, buf) {
    this.pointFrames++;
    this.schedule(kind, { points: buf, close() {} });
  }

  schedule(kind, bitmap) {
    this.pending.get(kind)?.close();
    this.pending.set(kind, bitmap);
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      const t0 = performance.now();
      this.scheduled = false;
      for (const [k, b] of this.pending) {
        if (b.points) drawPoints(b.points, $(`panel-${k}`));
        else drawFrame(k, b, $(`panel-${k}`));
        $(`panel-${k}`).dataset.painted = 'true';
        b.close();
        if (k === 'latent') this.onLatentDrawn(true);
      }
      this.pending.clear();
      performance.measure('panels-paint', { start: t0, end: performance.now() });
    });
  }

  blank(kind) {
    const c = $(`panel-${kind}`);
    this.pending.get(kind)?.close();
    this.pending.delete(kind);
    delete c.dataset.painted;
    c.getContext('2d').clearRect(0, 0, c.width, c.height);
    if (kind === 'latent') this.onLatentDrawn(false);
  }

  setNotes(notes) {
    for (const kind of IMAGE_STREAMS) $(`note-${kind}`).textContent = notes[kind] ?? '';
  }
}
