// The explorer's hover image: the decode of the point under the pointer (or the arrow keys' cursor) in
// #hover-decode, captioned with where it was decoded. While the page holds the run's decoder weights the point
// is decoded on the main thread, inside the pointermove or keydown handler, and put on the canvas in that same
// task, so the image is in the first frame drawn after the move. A worker's round trip (two more tasks, a few
// ms) lands after that frame and misses it (docs/benchmarks.md, "Decoding in the page"); one image of the
// default 20→400→784 decoder is about 0.3 MFLOP, well under a millisecond here, so several moves in one frame
// are each decoded rather than delayed. Strips of many images stay in the worker (local-decoder.js). Otherwise
// (before the first weights, a moved slider's weights on their way, the server's fallback) one decode waits at
// a time, and the newest point that came meanwhile is decoded after it.
import { $ } from './ui.js';
import { paint, paintPixels, pngBitmap } from './paint.js';

const where = p => `(${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;

export class HoverDecode {
  constructor(connection, runs, local) {
    this.connection = connection;
    this.runs = runs;
    this.local = local;
    this.busy = false; // a decode that waits is under way
    this.next = null; // the newest point that came meanwhile
    this.shown = 0; // counts images shown at once and resets: a waiting decode begun before either is stale
  }

  /** A new run: no image, no caption, and no decode of the last run's still to come. */
  reset() {
    this.shown++;
    this.next = null;
    const canvas = $('hover-decode');
    canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    delete canvas.dataset.painted;
    $('hover-z').textContent = '';
  }

  /** Decodes plane point {@code p}: shown before returning when the page holds the weights, else later. */
  at(p) {
    const job = this.runs.selected;
    if (job == null) return undefined;
    const image = this.local.decodeHeld(this.runs.current(), p);
    if (!image) return this.later(job, p);
    this.shown++;
    this.next = null;
    paintPixels($('hover-decode'), image, `decode of ${where(p)}`);
    $('hover-z').textContent = `decoded ${where(p)} ${this.local.where()}`;
    return undefined;
  }

  /** The decode that waits: for the weights' first download, or for the server. */
  async later(job, p) {
    if (this.busy) { this.next = p; return; }
    this.busy = true;
    const shown = this.shown;
    try {
      const image = await this.local.decodeWhenReady(this.runs.current(), p);
      if (shown !== this.shown) return;
      if (image) {
        paintPixels($('hover-decode'), image, `decode of ${where(p)}`);
        $('hover-z').textContent = `decoded ${where(p)} ${this.local.where()}`;
        return;
      }
      const r = await this.connection.request({ type: 'decode', job, plane: p });
      const bitmap = await pngBitmap(r.result.images[0]);
      if (shown !== this.shown) { bitmap.close(); return; }
      paint($('hover-decode'), bitmap, `decode of ${where(p)}`);
      $('hover-z').textContent = `decoded ${where(p)} ${this.local.serverWhy()}`;
    } catch (err) {
      if (shown !== this.shown) return;
      $('hover-z').textContent = err.code === 'busy' ? 'the trainer is busy; decoding again shortly' : err.message;
      // Rationed: wait as told (at most 2 s), then decode the newest point, not every one missed meanwhile.
      if (err.code === 'busy') {
        await new Promise(done => setTimeout(done, Math.min(2000, Math.max(50, err.retryAfterMs ?? 200))));
        this.next = this.next ?? p;
      }
    } finally {
      this.busy = false;
      if (this.next) { const n = this.next; this.next = null; this.at(n); }
    }
  }
}
