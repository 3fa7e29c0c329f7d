// The loss chart: uPlot fed columnar data, at most one redraw per animation frame, min/max decimation
// when points outnumber pixels, optional EMA smoothing and a log scale. Live-setting changes are drawn
// as vertical markers.
const COLORS = ['#2f6fed', '#e8710a', '#1e8e3e', '#9334e6', '#d01884', '#12858f'];

export class LossChart {
  constructor(el) {
    this.el = el;
    this.columns = { step: [] };
    this.terms = [];
    this.test = { step: [], loss: [] };
    this.settings = [];
    this.smoothing = 0.6;
    this.log = true;
    this.dirty = false;
    this.plot = null;
    this.frameTimes = [];
    new ResizeObserver(() => this.plot && this.plot.setSize(this.size())).observe(el);
  }

  size() {
    return { width: Math.max(200, this.el.clientWidth), height: 260 };
  }

  reset(history) {
    this.columns = { step: [] };
    this.terms = [];
    this.test = { step: [], loss: [] };
    this.settings = [];
    if (history) {
      this.append(history.columns);
      this.test = { step: [...history.test.step], loss: [...history.test.loss] };
      this.settings = [...history.settings];
    }
    this.rebuild();
  }

  append(cols) {
    const terms = Object.keys(cols).filter(k => !['step', 'epoch', 'time'].includes(k));
    if (terms.join() !== this.terms.join() && this.columns.step.length === 0) {
      this.terms = terms;
      for (const t of terms) this.columns[t] = [];
      this.plot = null;
    }
    this.columns.step.push(...cols.step);
    for (const t of this.terms) this.columns[t].push(...(cols[t] ?? cols.step.map(() => null)));
    this.invalidate();
  }

  addTest(step, loss) { this.test.step.push(step); this.test.loss.push(loss); this.invalidate(); }
  addSetting(s) { this.settings.push(s); this.invalidate(); }
  setSmoothing(v) { this.smoothing = v; this.invalidate(); }
  setLog(v) { this.log = v; this.plot = null; this.invalidate(); }
  pointCount() { return this.columns.step.length; }

  invalidate() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.redraw(); });
  }

  rebuild() { this.plot = null; this.invalidate(); }

  // Columns for display: smoothed, then decimated to at most two points (min, max) per pixel.
  displayData() {
    const xs = this.columns.step;
    const n = xs.length;
    const width = this.size().width;
    const series = this.terms.map(t => ema(this.columns[t], this.smoothing));
    let idx;
    if (n > width * 2) {
      idx = [];
      const per = n / width;
      for (let b = 0; b < width; b++) {
        const from = Math.floor(b * per), to = Math.min(n, Math.floor((b + 1) * per));
        if (to <= from) continue;
        let lo = from, hi = from;
        const ref = series[series.length - 1];
        for (let i = from; i < to; i++) { if (ref[i] < ref[lo]) lo = i; if (ref[i] > ref[hi]) hi = i; }
        if (lo < hi) idx.push(lo, hi); else if (hi < lo) idx.push(hi, lo); else idx.push(lo);
      }
    } else {
      idx = null;
    }
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

  redraw() {
    const t0 = performance.now();
    const data = this.displayData();
    if (!this.plot) {
      this.el.innerHTML = '';
      const settings = () => this.settings;
      this.plot = new uPlot({
        ...this.size(),
        scales: { x: { time: false }, y: { distr: this.log ? 3 : 1 } },
        axes: [{ label: 'step' }, { label: 'loss per image' }],
        series: [{ label: 'step' },
          ...this.terms.map((t, i) => ({ label: t, stroke: COLORS[i % COLORS.length], width: 1.5, points: { show: false } })),
          { label: 'test', stroke: '#111', width: 0, points: { show: true, size: 7, fill: '#111' }, spanGaps: false }],
        hooks: { draw: [u => drawSettings(u, settings())] },
      }, data, this.el);
    } else {
      this.plot.setData(data);
    }
    this.frameTimes.push(performance.now() - t0);
    if (this.frameTimes.length > 1000) this.frameTimes.shift();
  }
}

function ema(values, alpha) {
  if (!alpha) return values;
  const out = new Array(values.length);
  let last = null;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null || !Number.isFinite(v)) { out[i] = last; continue; }
    last = last == null ? v : alpha * last + (1 - alpha) * v;
    out[i] = last;
  }
  return out;
}

function drawSettings(u, settings) {
  const ctx = u.ctx;
  ctx.save();
  ctx.strokeStyle = '#c0392b';
  ctx.fillStyle = '#c0392b';
  ctx.setLineDash([4, 4]);
  ctx.font = `${11 * devicePixelRatio}px sans-serif`;
  for (const s of settings) {
    const x = u.valToPos(s.step, 'x', true);
    if (!Number.isFinite(x)) continue;
    ctx.beginPath();
    ctx.moveTo(x, u.bbox.top);
    ctx.lineTo(x, u.bbox.top + u.bbox.height);
    ctx.stroke();
    ctx.fillText(`${s.key}=${s.value}`, x + 3, u.bbox.top + 12 * devicePixelRatio);
  }
  ctx.restore();
}
