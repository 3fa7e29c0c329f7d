// The compare view: 2 to 8 runs side by side, live. One chart holds every run's curve of one term against
// one x axis; one step slider shows each chosen stream's frame of every run at the same step (runs are rows,
// streams columns); flip shows two runs' images in one place, difference shows |a − b|; a summary table
// sorts by any column. The address holds the selection (?compare=3,5,7), so a reload or a link restores it.
// This module wires the view; compare-runs.js holds the runs' data and labels, compare-cells.js fetches and
// differences the images, compare-table.js draws the summary table.
import { RunsChart } from './runs-chart.js';
import { drawFrame, drawPoints } from './frames.js';
import { framePng, IMAGE_STREAMS } from './protocol.js';
import { $, toast } from './ui.js';
import { differingLabels, MAX_RUNS, MIN_RUNS, RUN_COLORS, RunData } from './compare-runs.js';
import { renderSummary } from './compare-table.js';
import { drawDifference, fetchFrame } from './compare-cells.js';

export { MAX_RUNS, MIN_RUNS, parseSelection } from './compare-runs.js';

const TERMS = { loss: 'loss', recon: 'recon', kl: 'KL', test: 'test loss' };
const XS = { step: 'step', epoch: 'epoch', images: 'images seen', time: 'wall time (s)' };
const DIFFABLE = ['recon', 'samples'];
/** A cell's shown width (style.css: #compare-grid canvas) in device pixels: frames are drawn at that size. */
const CELL_CSS_PX = 200;
const cellSide = () => Math.round(CELL_CSS_PX * devicePixelRatio);

export class CompareView {
  /** {@code onOpenRun(num)} leaves the view for that run's single view; {@code onClose()} just leaves. */
  constructor({ connection, runs, onOpenRun, onClose }) {
    Object.assign(this, { connection, runs, onOpenRun, onClose });
    this.nums = [];
    this.data = new Map();
    this.active = false;
    this.live = true;
    this.step = 0;
    this.flip = false;
    this.flipped = false;
    this.diff = false;
    this.sort = { key: null, dir: 1 };
    this.chart = new RunsChart($('compare-chart'));
    this.pendingPaint = new Map();
    this.paintScheduled = false;
    this.tableScheduled = false;
    this.streamsShown = new Set(['recon', 'samples']);
    this.buildControls();
  }

  buildControls() {
    const term = $('compare-term'), x = $('compare-x');
    for (const [v, l] of Object.entries(TERMS)) term.append(new Option(l, v));
    for (const [v, l] of Object.entries(XS)) x.append(new Option(l, v));
    term.value = 'test';
    term.onchange = x.onchange = () => this.rebuildChart();
    $('compare-log').onchange = e => this.chart.setLog(e.target.checked);
    const box = $('compare-streams');
    for (const s of IMAGE_STREAMS) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = s;
      input.checked = this.streamsShown.has(s);
      input.onchange = () => {
        if (input.checked) this.streamsShown.add(s); else this.streamsShown.delete(s);
        this.buildGrid();
        this.subscribeAll();
        this.showStep();
      };
      label.append(input, document.createTextNode(` ${s}`));
      box.append(label);
    }
    $('compare-slider').oninput = e => { this.setLive(false); this.step = Number(e.target.value); this.scheduleStep(); };
    $('compare-live').onclick = () => { this.setLive(true); this.showStep(); };
    $('compare-flip').onchange = e => { this.flip = e.target.checked; this.flipped = false; this.buildGrid(); this.showStep(); };
    $('compare-switch').onclick = () => this.switchFlip();
    $('compare-diff').onchange = e => { this.diff = e.target.checked; this.buildGrid(); this.showStep(); };
    $('compare-close').onclick = () => this.onClose();
    document.addEventListener('keydown', e => {
      if (!this.active || e.key !== 'f' || e.ctrlKey || e.metaKey || e.altKey) return;
      if (['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement?.tagName) && document.activeElement.type !== 'checkbox'
          && document.activeElement.type !== 'range') return;
      this.switchFlip();
    });
  }

  handles(num) { return this.active && this.data.has(num); }

  /** Opens the view on {@code nums} (2 to 8 run numbers), subscribing each run's chosen streams. */
  open(nums) {
    this.close(false);
    const known = nums.filter(n => this.runs.jobs.has(n));
    if (known.length < MIN_RUNS) { toast(`Compare needs ${MIN_RUNS} to ${MAX_RUNS} known runs (got ${known.join(', ') || 'none'}).`); return false; }
    this.nums = known.slice(0, MAX_RUNS);
    this.active = true;
    for (const n of this.nums) this.data.set(n, new RunData(this.runs.jobs.get(n)));
    this.labels = differingLabels(this.nums.map(n => this.runs.jobs.get(n)));
    this.setLive(true);
    this.buildGrid();
    this.rebuildChart();
    this.renderTable();
    this.subscribeAll();
    return true;
  }

  /** Leaves the view; {@code unsubscribe} false when a new selection follows at once. */
  close(unsubscribe = true) {
    if (unsubscribe) for (const n of this.nums) this.connection.send({ type: 'unsubscribe', job: n });
    this.active = false;
    this.data.clear();
    this.nums = [];
  }

  /** After a new socket opened: everything is asked for again. */
  resubscribe() {
    if (!this.active) return;
    const nums = this.nums;
    this.active = false;
    this.open(nums);
  }

  subscribeAll() {
    if (!this.connection.open) return;
    const streams = ['loss', 'status', 'diagnostics', ...this.streamsShown];
    for (const n of this.nums) {
      this.connection.request({ type: 'subscribe', job: n, streams })
        .catch(e => toast(`Cannot watch run ${n}: ${e.message}`));
    }
  }

  onStatus(job) {
    const d = this.data.get(job.num);
    if (!d) return;
    d.job = job;
    this.scheduleTable();
    this.updateSlider();
  }

  onMessage(m) {
    const d = this.data.get(m.job);
    if (!d) return;
    switch (m.type) {
      case 'history':
        if (d.hasHistory) break;
        d.hasHistory = true;
        d.append(m.columns);
        m.test.step.forEach((s, i) => d.addTest(s, m.test.loss[i]));
        this.rebuildChart();
        break;
      case 'loss': d.append(m.columns); this.chart.invalidate(); break;
      case 'epoch': d.addTest(m.step, m.test); this.chart.invalidate(); break;
      case 'diagnostics': d.activeUnits = m.activeUnits; break;
      default: return;
    }
    this.scheduleTable();
    this.updateSlider();
  }

  rebuildChart() {
    const term = $('compare-term').value, x = $('compare-x').value;
    const series = this.nums.map((n, i) => {
      const d = this.data.get(n);
      const ys = term === 'test' ? d.test.y : (d.terms[term] ??= new Array(d.x.step.length).fill(null));
      return { label: this.labels[i], color: RUN_COLORS[i], x: term === 'test' ? d.test.x[x] : d.x[x], y: ys, num: n };
    });
    this.chart.setSeries(series, { xLabel: XS[x], yLabel: `${TERMS[term]} per image`, points: term === 'test' });
    const legend = $('compare-legend');
    legend.innerHTML = '';
    series.forEach(s => {
      const li = document.createElement('li');
      const swatch = document.createElement('i');
      swatch.style.background = s.color;
      li.dataset.job = s.num;
      li.append(swatch, document.createTextNode(s.label));
      legend.append(li);
    });
  }

  // ---- the step slider and the image grid ----------------------------------------------------------

  headStep() { return Math.max(0, ...[...this.data.values()].map(d => d.lastStep())); }

  setLive(live) {
    this.live = live;
    $('compare-live').setAttribute('aria-pressed', String(live));
    this.updateSlider();
  }

  updateSlider() {
    if (!this.active) return;
    const s = $('compare-slider'), head = this.headStep();
    s.max = head;
    if (this.live) { s.value = head; this.step = head; }
    $('compare-step').textContent = `${this.live ? 'live · ' : ''}step ${this.live ? head : this.step}`;
  }

  /** The rows shown: every run, or under flip the one of the first two runs being shown. */
  rowNums() {
    if (this.flip && this.nums.length >= 2) return [this.nums[this.flipped ? 1 : 0]];
    return this.nums;
  }

  switchFlip() {
    if (!this.flip || this.nums.length < 2) return;
    this.flipped = !this.flipped;
    this.buildGrid();
    this.showStep();
  }

  buildGrid() {
    const table = $('compare-grid');
    table.innerHTML = '';
    const streams = IMAGE_STREAMS.filter(s => this.streamsShown.has(s));
    const head = table.createTHead().insertRow();
    head.append(Object.assign(document.createElement('th'), { textContent: 'run' }));
    for (const s of streams) head.append(Object.assign(document.createElement('th'), { textContent: s }));
    const body = table.createTBody();
    const row = (key, label) => {
      const tr = body.insertRow();
      tr.dataset.row = key;
      tr.append(Object.assign(document.createElement('th'), { textContent: label, scope: 'row' }));
      for (const s of streams) {
        const td = tr.insertCell();
        const canvas = document.createElement('canvas');
        canvas.dataset.kind = s;
        canvas.dataset.row = key;
        const note = document.createElement('small');
        note.className = 'frame-note';
        td.append(canvas, note);
      }
    };
    for (const n of this.rowNums()) row(String(n), this.flip ? `${this.flipped ? 'B' : 'A'}: ${this.label(n)} (f flips)` : this.label(n));
    if (this.diff && this.nums.length >= 2) row('diff', `|${this.label(this.nums[0])} − ${this.label(this.nums[1])}|`);
    $('compare-switch').disabled = !this.flip;
  }

  label(num) { return this.labels[this.nums.indexOf(num)] ?? `#${num}`; }

  cell(row, kind) { return $('compare-grid').querySelector(`canvas[data-row="${row}"][data-kind="${kind}"]`); }

  /** A live frame of a compared run: drawn in its cell (and the difference) in the next animation frame. */
  onFrame(f, buf) {
    if (!this.live || !this.handles(f.job) || !this.streamsShown.has(f.kind)) return;
    const image = f.format === 'points' ? { points: buf, close() {} } : null;
    const put = bitmap => this.schedulePaint(`${f.job}/${f.kind}`, { row: String(f.job), kind: f.kind, step: f.step, bitmap, note: '' });
    if (image) put(image);
    else createImageBitmap(framePng(buf)).then(put);
    this.updateSlider();
  }

  schedulePaint(key, item) {
    this.pendingPaint.get(key)?.bitmap?.close();
    this.pendingPaint.set(key, item);
    if (this.paintScheduled) return;
    this.paintScheduled = true;
    requestAnimationFrame(() => {
      const t0 = performance.now();
      this.paintScheduled = false;
      for (const it of this.pendingPaint.values()) this.drawCell(it);
      this.pendingPaint.clear();
      this.drawDiffs();
      performance.measure('compare-paint', { start: t0, end: performance.now() });
    });
  }

  drawCell({ row, kind, step, bitmap, note }) {
    const canvas = this.cell(row, kind);
    if (!canvas) { bitmap?.close(); return; }
    if (bitmap?.points) drawPoints(bitmap.points, canvas);
    else if (bitmap) drawFrame(kind, bitmap, canvas, cellSide());
    else canvas.getContext('2d').clearRect(0, 0, canvas.width, canvas.height);
    bitmap?.close();
    canvas.dataset.step = step ?? '';
    canvas.dataset.painted = String(!!bitmap);
    canvas.nextElementSibling.textContent = note;
  }

  /** |a − b| per pixel and channel of the first two runs' recon and samples, where both are drawn alike. */
  drawDiffs() {
    if (!this.diff || this.nums.length < 2) return;
    const [a, b] = this.nums;
    for (const kind of DIFFABLE) {
      const out = this.cell('diff', kind);
      if (!out) continue;
      const ca = this.diffSource(a, kind), cb = this.diffSource(b, kind);
      const note = out.nextElementSibling;
      if (!drawDifference(ca, cb, out)) {
        out.dataset.painted = 'false';
        note.textContent = 'needs both images';
        continue;
      }
      out.dataset.painted = 'true';
      out.dataset.step = `${ca.dataset.step}|${cb.dataset.step}`;
      note.textContent = '';
    }
  }

  /** The canvas holding run {@code num}'s image of {@code kind}; under flip the hidden run's comes from a spare. */
  diffSource(num, kind) {
    return this.cell(String(num), kind) ?? this.spare?.get(`${num}/${kind}`) ?? null;
  }

  scheduleStep() {
    if (this.stepScheduled) return;
    this.stepScheduled = true;
    requestAnimationFrame(() => { this.stepScheduled = false; this.showStep(); });
  }

  /**
   * Every row's frame of each shown stream at the slider's step: the one kept at or before it (the cell
   * reports its step), else that epoch's saved image, else a note that the run has no frame that early.
   * Live, each cell shows the newest frame (fetched once here, then as frames arrive).
   */
  async showStep() {
    if (!this.active) return;
    const step = this.live ? null : this.step;
    this.updateSlider();
    const token = this.stepToken = {};
    const streams = IMAGE_STREAMS.filter(s => this.streamsShown.has(s));
    // Flip and difference need both runs' images even when one of them is not on screen.
    const needed = new Set(this.rowNums());
    if ((this.diff || this.flip) && this.nums.length >= 2) { needed.add(this.nums[0]); needed.add(this.nums[1]); }
    this.spare = new Map();
    await Promise.all([...needed].flatMap(n => streams.map(async kind => {
      const item = await this.fetchFrame(n, kind, step);
      if (token !== this.stepToken) { item.bitmap?.close(); return; }
      if (this.cell(String(n), kind)) this.drawCell(item);
      else if (item.bitmap) {
        const c = document.createElement('canvas');
        drawFrame(kind, item.bitmap, c, cellSide());
        c.dataset.step = item.step;
        this.spare.set(`${n}/${kind}`, c);
      }
    })));
    if (token === this.stepToken) this.drawDiffs();
  }

  async fetchFrame(num, kind, step) {
    const d = this.data.get(num);
    if (!d) return { row: String(num), kind, step: null, bitmap: null, note: '' };
    return fetchFrame(d.job, kind, step);
  }

  // ---- the summary table --------------------------------------------------------------------------

  scheduleTable() {
    if (this.tableScheduled) return;
    this.tableScheduled = true;
    requestAnimationFrame(() => { this.tableScheduled = false; this.renderTable(); });
  }

  renderTable() {
    if (!this.active) return;
    const rows = this.nums.map((n, i) => ({ num: n, color: RUN_COLORS[i], ...this.data.get(n).summary(this.labels[i]) }));
    renderSummary($('compare-table'), rows, this.sort,
      key => { this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 }; this.renderTable(); },
      num => this.onOpenRun(num));
  }
}
