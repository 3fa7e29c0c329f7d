// The compare view's image grid: runs are rows, streams columns, and under difference one more row of
// |a − b| for the first two runs. Images change far less often than the chart, so a cell is painted only
// when what it shows changes: a new frame of its run and stream, or another frame at the slider's step.
// Loss points, status messages and animation frames repaint nothing; frames that reach one cell within one
// animation frame are painted once (the newest); a frame the cell already shows is not painted again.
import { drawFrame, drawPoints } from './frames.js';
import { drawDifference } from './compare-cells.js';

const DIFFABLE = ['recon', 'samples'];
/** A cell's shown width (style.css: #compare-grid canvas) in device pixels: frames are drawn at that size. */
const CELL_CSS_PX = 200;
const cellSide = () => Math.round(CELL_CSS_PX * devicePixelRatio);

export class CompareGrid {
  constructor(table) {
    this.table = table;
    this.pending = new Map(); // cell → the newest live frame not painted yet
    this.scheduled = false;
    this.seq = 0; // live frames' arrival order
    this.painted = new Map(); // cell → the arrival number of the live frame it shows
    this.pair = []; // the two runs differenced, or none
    this.spare = new Map(); // under flip, the hidden run's images (for the difference)
    /** Cell paints so far, the difference row's included: what the tests count. */
    this.paints = 0;
  }

  /**
   * A new table: {@code rows} [[key, label]] by {@code streams}; with {@code pair} ([a, b] run numbers) a last
   * row of their differences, labelled {@code diffLabel}.
   */
  build(rows, streams, pair = [], diffLabel = '') {
    const table = this.table;
    table.innerHTML = '';
    this.pending.clear();
    this.spare.clear();
    this.pair = pair;
    const head = table.createTHead().insertRow();
    head.append(Object.assign(document.createElement('th'), { textContent: 'run' }));
    for (const s of streams) head.append(Object.assign(document.createElement('th'), { textContent: s }));
    const body = table.createTBody();
    const row = (key, label) => {
      const tr = body.insertRow();
      tr.dataset.row = key;
      tr.append(Object.assign(document.createElement('th'), { textContent: label, scope: 'row' }));
      for (const s of streams) {
        const canvas = document.createElement('canvas');
        canvas.dataset.kind = s;
        canvas.dataset.row = key;
        const note = document.createElement('small');
        note.className = 'frame-note';
        tr.insertCell().append(canvas, note);
      }
    };
    for (const [key, label] of rows) row(key, label);
    if (pair.length === 2) row('diff', diffLabel);
  }

  cell(row, kind) { return this.table.querySelector(`canvas[data-row="${row}"][data-kind="${kind}"]`); }

  /**
   * A live frame for a cell: {row, kind, step, note} with {@code png} (a Blob, decoded only if it is still the
   * newest for its cell at the next animation frame) or {@code bitmap} ({points} of a format-2 latent frame).
   * Frames that arrive for one cell before then replace each other: one decode and one paint for them all.
   */
  queue(item) {
    const key = `${item.row}/${item.kind}`;
    item.seq = ++this.seq;
    this.pending.set(key, item);
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(async () => {
      this.scheduled = false;
      // A frame the cell already shows (a resubscribe sends the newest again) is not even decoded.
      const items = [...this.pending.values()].filter(it => !this.shows(this.cell(it.row, it.kind), it));
      this.pending.clear();
      await Promise.all(items.map(async it => {
        if (it.png) it.bitmap = await createImageBitmap(it.png).catch(() => null);
      }));
      const t0 = performance.now();
      // A frame decoded after a newer one of its cell was painted stays unpainted.
      const newest = items.filter(it => {
        const key = `${it.row}/${it.kind}`;
        if ((this.painted.get(key) ?? 0) > it.seq || (it.png && !it.bitmap)) { it.bitmap?.close(); return false; }
        this.painted.set(key, it.seq);
        return true;
      });
      this.paintAll(newest);
      performance.measure('compare-paint', { start: t0, end: performance.now() });
    });
  }

  /** Paints {@code items} now, then the differences that any of them changed. */
  paintAll(items) {
    const changed = new Set();
    for (const it of items) if (this.paint(it) && this.pair.includes(Number(it.row))) changed.add(it.kind);
    this.drawDiffs(changed);
  }

  /** Paints one item into its cell (or, for a run differenced but not on screen, its spare); false when unchanged. */
  paint({ row, kind, step, bitmap, note }) {
    let canvas = this.cell(row, kind);
    if (!canvas && bitmap && this.pair.includes(Number(row))) {
      canvas = this.spare.get(`${row}/${kind}`) ?? document.createElement('canvas');
      this.spare.set(`${row}/${kind}`, canvas);
    }
    if (!canvas || this.shows(canvas, { step, bitmap, note })) { bitmap?.close(); return false; }
    if (bitmap?.points) drawPoints(bitmap.points, canvas);
    else if (bitmap) drawFrame(kind, bitmap, canvas, cellSide());
    else canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    bitmap?.close();
    canvas.dataset.step = String(step ?? '');
    canvas.dataset.painted = String(!!bitmap);
    if (canvas.nextElementSibling) { canvas.nextElementSibling.textContent = note; this.counted(canvas); }
    return true;
  }

  /** Whether {@code canvas} already shows {@code item}'s step, image (or its absence) and note. */
  shows(canvas, { step, bitmap, png, note }) {
    return !!canvas && canvas.dataset.step === String(step ?? '') && canvas.dataset.painted === String(!!(bitmap || png))
      && (canvas.nextElementSibling?.textContent ?? '') === note;
  }

  counted(canvas) {
    this.paints++;
    canvas.dataset.paints = String(Number(canvas.dataset.paints ?? 0) + 1);
  }

  /** The difference cells of {@code kinds} (every diffable one by default), from the pair's cells or spares. */
  drawDiffs(kinds = new Set(DIFFABLE)) {
    if (this.pair.length !== 2) return;
    const [a, b] = this.pair;
    for (const kind of DIFFABLE) {
      const out = this.cell('diff', kind);
      if (!out || !kinds.has(kind)) continue;
      const ca = this.source(a, kind), cb = this.source(b, kind);
      const note = out.nextElementSibling;
      if (!drawDifference(ca, cb, out)) {
        if (out.dataset.painted === 'false' && note.textContent) continue;
        out.getContext('2d').clearRect(0, 0, out.width, out.height);
        out.dataset.painted = 'false';
        note.textContent = 'needs both images';
      } else {
        out.dataset.painted = 'true';
        out.dataset.step = `${ca.dataset.step}|${cb.dataset.step}`;
        note.textContent = '';
      }
      this.counted(out);
    }
  }

  /** Run {@code num}'s canvas of {@code kind}: its cell, or under flip the hidden run's spare. */
  source(num, kind) {
    const c = this.cell(String(num), kind);
    if (c) return c.dataset.painted === 'true' ? c : null;
    return this.spare.get(`${num}/${kind}`) ?? null;
  }
}
