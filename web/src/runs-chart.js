// The compare view's chart: several runs' curves of one term, one colour per run.
import { pixelColumns } from './pixel-columns.js';
import { chartSize, recordRedraw } from './chart.js';

/**
 * Several runs' curves of one term on one chart, one colour per run, drawn from one grid of pixel columns
 * (pixelColumns): a redraw costs runs x width, not the runs' points. At most one redraw per animation frame.
 * {@code series} is [{label, color, x: [], y: []}] and may grow in place; call invalidate() after a change.
 */
export class RunsChart {
  constructor(el) {
    this.el = el;
    this.series = [];
    this.xLabel = 'step';
    this.yLabel = 'loss per image';
    this.log = true;
    this.points = false;
    this.plot = null;
    this.dirty = false;
    this.frameTimes = [];
    // A new width is a new grid of pixel columns.
    new ResizeObserver(() => { if (this.plot) { this.plot.setSize(this.size()); this.invalidate(); } }).observe(el);
  }

  size() { return chartSize(this.el); }

  /** New series (a new term, x axis or set of runs): the plot is built again. */
  setSeries(series, { xLabel, yLabel, points } = {}) {
    this.series = series;
    if (xLabel) this.xLabel = xLabel;
    if (yLabel) this.yLabel = yLabel;
    this.points = !!points;
    this.plot = null;
    this.invalidate();
  }

  setLog(v) { this.log = v; this.plot = null; this.invalidate(); }

  invalidate() {
    if (this.dirty) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.redraw(); });
  }

  data() {
    return pixelColumns(this.series, this.columns(), this.log);
  }

  /** Pixel columns of the plotting area (the element's whole width before the first draw). */
  columns() {
    const w = this.plot ? Math.round(this.plot.bbox.width / devicePixelRatio) : this.size().width;
    return Math.max(1, w);
  }

  redraw() {
    const t0 = performance.now();
    const data = this.data();
    if (!this.plot) {
      this.el.innerHTML = '';
      this.plot = new uPlot({
        ...this.size(),
        legend: { show: false },
        scales: { x: { time: false }, y: { distr: this.log ? 3 : 1 } },
        axes: [{ label: this.xLabel }, { label: this.yLabel, size: 60 }],
        series: [{ label: this.xLabel },
          ...this.series.map(s => ({ label: s.label, stroke: s.color, width: 1.5, spanGaps: true,
            points: { show: this.points, size: 6, fill: s.color } }))],
      }, data, this.el);
    } else {
      this.plot.setData(data);
    }
    recordRedraw(this, 'compare-chart-redraw', t0);
  }
}
