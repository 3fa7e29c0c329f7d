// The loss chart: uPlot fed columnar data, at most one redraw per animation frame, min/max decimation
// when points outnumber pixels, EMA smoothing kept incrementally, a log or linear y-axis whose range can
// follow the recent part of the run (early losses are far larger and would squash the part people watch),
// and per-term visibility. Live-setting changes are drawn as vertical markers. The compare view's chart of
// several runs is runs-chart.js; both decimate with lod.js.
import { Lod } from './lod.js';

export const COLORS = ['#2f6fed', '#e8710a', '#1e8e3e', '#9334e6', '#d01884', '#12858f'];
/** One colour per term name, whatever the model: "loss" is the same blue for a VAE and an AE. */
const TERM_COLORS = { loss: '#2f6fed', recon: '#e8710a', kl: '#1e8e3e', disc: '#9334e6', gen: '#d01884' };

export function termColor(term, i = 0) {
  return TERM_COLORS[term] ?? COLORS[(i + 5) % COLORS.length];
}

/**
 * Ticks for a log axis from {@code min} to {@code max}: 1, 2 and 5 times each power of ten inside the range,
 * or every whole multiple (1-9) when that gives fewer than three; labels with at most three significant digits.
 */
export function logTicks(min, max) {
  if (!(min > 0) || !(max > min)) return [];
  const ticks = (mults) => {
    const out = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
      for (const m of mults) { const v = m * 10 ** e; if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) out.push(+v.toPrecision(12)); }
    }
    return out;
  };
  let t = ticks([1, 2, 5]);
  if (t.length < 3) t = ticks([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  if (t.length < 3) t = ticks([1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9]);
  return t;
}

export function tickLabel(v) {
  return Math.abs(v) >= 1e5 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(+v.toPrecision(3));
}

/** Setting markers' labels: those within 40 px of an earlier one go one line lower instead of on top of it. */
export function settingRows(xs) {
  const rows = [];
  xs.forEach((x, i) => {
    let row = 0;
    while (xs.slice(0, i).some((y, j) => rows[j] === row && Math.abs(y - x) < 40)) row++;
    rows.push(row);
  });
  return rows;
}

const NOT_TERMS = ['step', 'epoch', 'time'];

/** A chart's size in CSS pixels: the element's width, a height that follows the window's (both charts). */
export function chartSize(el) {
  return { width: Math.max(200, el.clientWidth), height: Math.round(Math.min(460, Math.max(220, innerHeight * 0.3))) };
}

/** Records a redraw that began at {@code t0}: a Performance measure named {@code name}, and the chart's last 1000 times. */
export function recordRedraw(chart, name, t0) {
  const t1 = performance.now();
  performance.measure(name, { start: t0, end: t1 });
  chart.frameTimes.push(t1 - t0);
  if (chart.frameTimes.length > 1000) chart.frameTimes.shift();
}

export class LossChart {
  constructor(el) {
    this.el = el;
    this.smoothing = 0.6;
    this.log = true;
    this.recent = 0.2;
    this.hidden = new Set();
    this.dirty = false;
    this.plot = null;
    this.frameTimes = [];
    this.onTerms = () => {};
    this.clear();
    new ResizeObserver(() => this.plot && this.plot.setSize(this.size())).observe(el);
  }

  clear() {
    this.columns = { step: [] };
    this.smoothed = {};
    this.terms = [];
    this.test = { step: [], loss: [] };
    this.settings = [];
  }

  size() { return chartSize(this.el); }

  reset(history) {
    this.clear();
    if (history) {
      this.append(history.columns);
      this.test = { step: [...history.test.step], loss: [...history.test.loss] };
      this.settings = [...history.settings];
    }
    this.rebuild();
  }

  append(cols) {
    const terms = Object.keys(cols).filter(k => !NOT_TERMS.includes(k));
    if (terms.join() !== this.terms.join() && this.columns.step.length === 0) {
      this.terms = terms;
      for (const t of terms) { this.columns[t] = []; this.smoothed[t] = []; }
      this.plot = null;
      this.onTerms(terms);
    }
    this.columns.step.push(...cols.step);
    for (const t of this.terms) {
      const from = this.columns[t].length;
      this.columns[t].push(...(cols[t] ?? cols.step.map(() => null)));
      smoothInto(this.columns[t], this.smoothed[t], from, this.smoothing);
    }
    this.invalidate();
  }

  addTest(step, loss) { this.test.step.push(step); this.test.loss.push(loss); this.invalidate(); }
  addSetting(s) { this.settings.push(s); this.invalidate(); }
  setSmoothing(v) {
    this.smoothing = v;
    for (const t of this.terms) { this.smoothed[t] = []; smoothInto(this.columns[t], this.smoothed[t], 0, v); }
    this.invalidate();
  }
  setLog(v) { this.log = v; this.plot = null; this.invalidate(); }
  /** Fraction of the run (by steps, from the end) whose values set the y-range; 1 for the whole run. */
  setRecent(f) { this.recent = f; this.invalidate(); }
  setShown(term, shown) {
    if (shown) this.hidden.delete(term); else this.hidden.add(term);
    const i = this.terms.indexOf(term);
    if (this.plot && i >= 0) this.plot.setSeries(i + 1, { show: shown });
    this.invalidate();
  }
  pointCount() { return this.columns.step.length; }
  lastStep() { return this.columns.step[this.columns.step.length - 1] ?? 0; }

  invalidate() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.redraw(); });
  }

  rebuild() { this.plot = null; this.invalidate(); }

  // Columns for display: the smoothed series decimated to the min and max per pixel of every shown term, so a
  // spike in any term (not only the loss) stays drawn.
  displayData() {
    const xs = this.columns.step;
    const n = xs.length;
    const width = this.size().width;
    const series = this.terms.map(t => (this.smoothing ? this.smoothed[t] : this.columns[t]));
    const idx = n > width * 2 ? this.decimated(series, n, width) : null;
    const pick = a => idx ? idx.map(i => a[i]) : a;
    const x = pick(xs);
    const test = new Array(x.length).fill(null);
    let j = 0;
    for (let k = 0; k < this.test.step.length; k++) {
      const s = this.test.step[k];
      while (j < x.length - 1 && x[j] < s) j++;
      if (x.length) test[j] = this.test.loss[k];
    }
    return [x, ...series.map(pick), test];
  }

  /** The sorted union of each shown term's min/max indices per bucket (each term keeps its own Lod). */
  decimated(series, n, width) {
    this.lods ??= new Map();
    const shown = this.terms.map((t, i) => [t, series[i]]).filter(([t]) => !this.hidden.has(t));
    const union = new Set();
    for (const [term, ref] of shown.length ? shown : this.terms.map((t, i) => [t, series[i]])) {
      let lod = this.lods.get(term);
      if (!lod || lod.ref !== ref) this.lods.set(term, (lod = new Lod(ref)));
      for (const i of lod.indices(n, width)) union.add(i);
    }
    return Array.from(union).sort((a, b) => a - b);
  }

  /** [min, max] of the shown series over the recent part of the run, padded; null when there is nothing. */
  yRange(data) {
    const x = data[0];
    if (!x.length) return null;
    const first = x[0], last = x[x.length - 1];
    const from = last - (last - first) * this.recent;
    let start = 0;
    while (start < x.length - 1 && x[start] < from) start++;
    let lo = Infinity, hi = -Infinity;
    for (let s = 1; s < data.length; s++) {
      const term = this.terms[s - 1];
      if (term != null && this.hidden.has(term)) continue;
      const ys = data[s];
      for (let i = start; i < ys.length; i++) {
        const v = ys[i];
        if (v == null || !Number.isFinite(v) || (this.log && v <= 0)) continue;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
    if (!(lo <= hi)) return null;
    if (this.log) {
      const a = Math.log10(lo), b = Math.log10(hi), pad = Math.max(0.02, (b - a) * 0.08);
      return [10 ** (a - pad), 10 ** (b + pad)];
    }
    const pad = Math.max(Math.abs(hi) * 0.01, (hi - lo) * 0.08);
    return [lo - pad, hi + pad];
  }

  redraw() {
    const t0 = performance.now();
    const data = this.displayData();
    this.range = this.yRange(data);
    if (!this.plot) {
      this.el.innerHTML = '';
      const settings = () => this.settings;
      this.plot = new uPlot({
        ...this.size(),
        // uPlot's legend shows each series' value under the cursor, and names the test-loss dots.
        legend: { show: true, live: true },
        scales: {
          x: { time: false },
          y: { distr: this.log ? 3 : 1, range: (u, min, max) => this.range ?? [min, max] },
        },
        axes: [{ label: 'step' }, { label: 'loss per image', size: 60,
          ...(this.log ? { splits: (u, i, min, max) => logTicks(min, max) } : {}),
          values: (u, vals) => vals.map(v => (v == null ? '' : tickLabel(v))) }],
        series: [{ label: 'step' },
          // The loss line is dashed: where it equals another term (an AE's recon) that one shows through.
          ...this.terms.map((t, i) => ({ label: t, show: !this.hidden.has(t), stroke: termColor(t, i),
            width: t === 'loss' ? 2 : 1.5, dash: t === 'loss' && this.terms.length > 1 ? [8, 5] : undefined,
            points: { show: false }, value: (u, v) => (v == null ? '–' : v.toFixed(2)) })),
          { label: 'test loss (per epoch)', stroke: '#111', width: 0, points: { show: true, size: 7, fill: '#111' },
            spanGaps: false, value: (u, v) => (v == null ? '–' : v.toFixed(2)) }],
        hooks: { draw: [u => drawSettings(u, settings())] },
      }, data, this.el);
    } else {
      this.plot.setData(data);
    }
    recordRedraw(this, 'chart-redraw', t0);
  }
}

/** Extends {@code out} (the EMA of {@code values}) from index {@code from}: appends cost only their own points. */
function smoothInto(values, out, from, alpha) {
  let last = from > 0 ? out[from - 1] : null;
  for (let i = from; i < values.length; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v)) { out[i] = last; continue; }
    last = last == null || !alpha ? v : alpha * last + (1 - alpha) * v;
    out[i] = last;
  }
}

function drawSettings(u, settings) {
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = '#c0392b';
  ctx.fillStyle = '#c0392b';
  ctx.setLineDash([4, 4]);
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  const xs = settings.map(s => u.valToPos(s.step, 'x', true));
  const rows = settingRows(xs.map(x => x / devicePixelRatio));
  settings.forEach((s, i) => {
    const x = xs[i];
    if (!Number.isFinite(x)) return;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillText(`${s.key}=${s.value}`, x + 3, u.bbox.top + (12 + 13 * rows[i]) * devicePixelRatio);
  });
  ctx.restore();
}
