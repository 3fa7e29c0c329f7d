// The compare view: 2 to 8 runs side by side, live. One chart holds every run's curve of one term against
// one x axis; one step slider shows each chosen stream's frame of every run at the same step (runs are rows,
// streams columns); flip shows two runs' images in one place, difference shows |a − b|; a summary table
// sorts by any column. The address holds the selection (?compare=3,5,7), so a reload or a link restores it.
// This module wires the view; compare-runs.js holds the runs' data and labels, compare-grid.js paints the
// image cells, compare-cells.js fetches and differences the images, compare-table.js draws the summary table.
import { RunsChart } from './runs-chart.js';
import { framePng, IMAGE_STREAMS } from './protocol.js';
import { $, toast } from './ui.js';
import { differingLabels, MAX_RUNS, MIN_RUNS, RUN_COLORS, RunData } from './compare-runs.js';
import { renderSummary } from './compare-table.js';
import { fetchFrame } from './compare-cells.js';
import { CompareGrid } from './compare-grid.js';

export { MAX_RUNS, MIN_RUNS, parseSelection } from './compare-runs.js';

const TERMS = { loss: 'loss', recon: 'recon', kl: 'KL', test: 'test loss' };
const XS = { step: 'step', epoch: 'epoch', images: 'images seen', time: 'wall time (s)' };

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
    this.grid = new CompareGrid($('compare-grid'));
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
    const streams = IMAGE_STREAMS.filter(s => this.streamsShown.has(s));
    const rows = this.rowNums().map(n => [String(n), this.flip ? `${this.flipped ? 'B' : 'A'}: ${this.label(n)} (f flips)` : this.label(n)]);
    const pair = this.diff && this.nums.length >= 2 ? this.nums.slice(0, 2) : [];
    this.grid.build(rows, streams, pair, pair.length ? `|${this.label(pair[0])} − ${this.label(pair[1])}|` : '');
    $('compare-switch').disabled = !this.flip;
  }

  label(num) { return this.labels[this.nums.indexOf(num)] ?? `#${num}`; }

  /** A live frame of a compared run: painted in its cell (and the difference) in the next animation frame. */
  onFrame(f, buf) {
    if (!this.live || !this.handles(f.job) || !this.streamsShown.has(f.kind)) return;
    const item = { row: String(f.job), kind: f.kind, step: f.step, note: '' };
    if (f.format === 'points') item.bitmap = { points: buf, close() {} }; else item.png = framePng(buf);
    this.grid.queue(item);
    this.updateSlider();
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
    // The difference needs both runs' images even when flip shows only one of them.
    const needed = new Set([...this.rowNums(), ...this.grid.pair]);
    const changed = new Set();
    await Promise.all([...needed].flatMap(n => streams.map(async kind => {
      const item = await this.fetchFrame(n, kind, step);
      if (token !== this.stepToken) { item.bitmap?.close(); return; }
      if (this.grid.paint(item) && this.grid.pair.includes(n)) changed.add(kind);
    })));
    if (token === this.stepToken) this.grid.drawDiffs(changed);
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
