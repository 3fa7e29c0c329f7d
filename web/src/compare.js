// The compare view: 2 to 8 runs side by side, live. One chart holds every run's curve of one term against
// one x axis; one step slider shows each chosen stream's frame of every run at the same step (runs are rows,
// streams columns); flip shows two runs' images in one place, difference shows |a − b|; a summary table
// sorts by any column. The address holds the selection (?compare=3,5,7), so a reload or a link restores it.
import { RunsChart } from './chart.js';
import { drawFrame, drawPoints } from './frames.js';
import { framePng, IMAGE_STREAMS } from './protocol.js';
import { $, toast } from './ui.js';

export const MIN_RUNS = 2, MAX_RUNS = 8;
const RUN_COLORS = ['#2f6fed', '#e8710a', '#1e8e3e', '#d01884', '#9334e6', '#12858f', '#8c564b', '#111827'];
const TERMS = { loss: 'loss', recon: 'recon', kl: 'KL', test: 'test loss' };
const XS = { step: 'step', epoch: 'epoch', images: 'images seen', time: 'wall time (s)' };
const DIFFABLE = ['recon', 'samples'];
const KEY_NAMES = { beta: 'β', latent: 'latent', lr: 'lr', hidden: 'hidden', model: 'model', dataset: 'data' };
const COLUMNS = [
  ['label', 'run'], ['status', 'status'], ['step', 'step'], ['epoch', 'epoch'], ['lastTest', 'last test loss'],
  ['bestTest', 'best test loss'], ['iwae', 'IWAE'], ['activeUnits', 'active units'], ['seconds', 'seconds trained'],
];

/** The compare selection in an address's query, or null: 2 to 8 distinct run numbers. */
export function parseSelection(search) {
  const raw = new URLSearchParams(search).get('compare');
  if (raw == null) return null;
  const nums = [...new Set(raw.split(',').map(s => s.trim()).filter(Boolean).map(Number))];
  if (nums.length < MIN_RUNS || nums.length > MAX_RUNS || !nums.every(n => Number.isInteger(n) && n > 0)) return null;
  return nums;
}

/** Each run's label: the spec keys whose values differ between the runs (`β=4 · latent=2`), else its number. */
export function differingLabels(jobs) {
  const flat = jobs.map(j => flatten({ ...(j?.spec ?? {}), name: undefined, description: undefined }));
  const keys = [...new Set(flat.flatMap(f => Object.keys(f)))].sort()
    .filter(k => new Set(flat.map(f => JSON.stringify(f[k]))).size > 1);
  const labels = flat.map((f, i) => keys.length
    ? keys.map(k => `${KEY_NAMES[k] ?? k}=${f[k] === undefined ? '–' : Array.isArray(f[k]) ? f[k].join('×') : f[k]}`).join(' · ')
    : `${jobs[i]?.name ?? 'run'} #${jobs[i]?.num}`);
  // Two runs of one spec: their numbers tell them apart.
  return labels.map((l, i) => labels.indexOf(l) !== labels.lastIndexOf(l) ? `${l} #${jobs[i]?.num}` : l);
}

function flatten(o, prefix = '', out = {}) {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, `${prefix}${k}.`, out);
    else out[prefix + k] = v;
  }
  return out;
}

/** One run's data as the compare view keeps it: columns per x axis and per term, grown in place. */
class RunData {
  constructor(job) {
    this.job = job;
    this.x = { step: [], epoch: [], images: [], time: [] };
    this.terms = {};
    this.test = { x: { step: [], epoch: [], images: [], time: [] }, y: [] };
    this.t0 = null;
    this.activeUnits = null;
    this.hasHistory = false;
  }

  xOf(step, time) {
    const j = this.job;
    return {
      step,
      epoch: j.batchesPerEpoch ? step / j.batchesPerEpoch : null,
      images: step * (j.spec?.batchSize ?? 1),
      time: time == null || this.t0 == null ? null : (time - this.t0) / 1000,
    };
  }

  append(cols) {
    const n = cols.step.length;
    if (this.t0 == null && cols.time?.length) this.t0 = cols.time[0];
    for (const t of Object.keys(cols)) if (!['step', 'epoch', 'time'].includes(t)) this.terms[t] ??= new Array(this.x.step.length).fill(null);
    for (let i = 0; i < n; i++) {
      const x = this.xOf(cols.step[i], cols.time?.[i]);
      for (const k of Object.keys(this.x)) this.x[k].push(x[k]);
    }
    for (const [t, ys] of Object.entries(this.terms)) ys.push(...(cols[t] ?? new Array(n).fill(null)));
  }

  addTest(step, loss) {
    const x = this.xOf(step, this.timeAt(step));
    for (const k of Object.keys(this.test.x)) this.test.x[k].push(x[k]);
    this.test.y.push(loss);
  }

  /** The wall-clock time of the last loss point at or before {@code step}. */
  timeAt(step) {
    const s = this.x.step;
    let lo = 0, hi = s.length - 1, at = -1;
    while (lo <= hi) { const mid = (lo + hi) >> 1; if (s[mid] <= step) { at = mid; lo = mid + 1; } else hi = mid - 1; }
    return at < 0 || this.x.time[at] == null ? null : this.t0 + this.x.time[at] * 1000;
  }

  lastStep() { return Math.max(this.x.step[this.x.step.length - 1] ?? 0, this.job.step ?? 0); }

  summary(label) {
    const j = this.job, y = this.test.y;
    const finite = y.filter(Number.isFinite);
    const time = this.x.time;
    return {
      label, status: j.status, step: j.step ?? this.lastStep(), epoch: j.epoch,
      lastTest: j.testLoss ?? (finite.length ? finite[finite.length - 1] : null),
      bestTest: finite.length ? Math.min(...finite) : j.testLoss ?? null,
      iwae: j.iwae ?? null, activeUnits: this.activeUnits,
      seconds: time.length ? Math.round(time[time.length - 1]) : null,
    };
  }
}

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
    else if (bitmap) drawFrame(kind, bitmap, canvas);
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
      if (!ca || !cb || ca.width !== cb.width || ca.height !== cb.height || !ca.width) {
        out.dataset.painted = 'false';
        note.textContent = 'needs both images';
        continue;
      }
      const pa = ca.getContext('2d').getImageData(0, 0, ca.width, ca.height).data;
      const pb = cb.getContext('2d').getImageData(0, 0, cb.width, cb.height).data;
      const d = new ImageData(ca.width, ca.height);
      for (let i = 0; i < pa.length; i += 4) {
        d.data[i] = Math.abs(pa[i] - pb[i]);
        d.data[i + 1] = Math.abs(pa[i + 1] - pb[i + 1]);
        d.data[i + 2] = Math.abs(pa[i + 2] - pb[i + 2]);
        d.data[i + 3] = 255;
      }
      out.width = ca.width;
      out.height = ca.height;
      out.getContext('2d').putImageData(d, 0, 0);
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
        drawFrame(kind, item.bitmap, c);
        c.dataset.step = item.step;
        this.spare.set(`${n}/${kind}`, c);
      }
    })));
    if (token === this.stepToken) this.drawDiffs();
  }

  async fetchFrame(num, kind, step) {
    const d = this.data.get(num);
    const row = String(num);
    if (!d) return { row, kind, step: null, bitmap: null, note: '' };
    const q = step == null ? '' : `?step=${step}`;
    let r;
    try { r = await fetch(`api/jobs/${encodeURIComponent(d.job.id)}/frames/${kind}.png${q}`); } catch { r = null; }
    const kept = Number(r?.headers.get('X-Step'));
    if (!r || !r.ok || (step != null && Number.isFinite(kept) && r.headers.get('X-Step') != null && kept > step)) {
      return { row, kind, step: null, bitmap: null, note: step == null ? 'no frame yet' : `no frame at step ${step} or before` };
    }
    const epoch = r.headers.get('X-Frame-Source') === 'epoch';
    const bitmap = await createImageBitmap(await r.blob());
    const at = r.headers.get('X-Step') != null ? kept : null;
    const note = epoch ? `epoch ${r.headers.get('X-Epoch') ?? '?'} image` : step != null && at != null && at < step ? `from step ${at}` : '';
    return { row, kind, step: at, bitmap, note };
  }

  // ---- the summary table --------------------------------------------------------------------------

  scheduleTable() {
    if (this.tableScheduled) return;
    this.tableScheduled = true;
    requestAnimationFrame(() => { this.tableScheduled = false; this.renderTable(); });
  }

  renderTable() {
    if (!this.active) return;
    const table = $('compare-table');
    table.innerHTML = '';
    const head = table.createTHead().insertRow();
    for (const [key, title] of COLUMNS) {
      const th = document.createElement('th');
      th.scope = 'col';
      th.setAttribute('aria-sort', this.sort.key === key ? (this.sort.dir > 0 ? 'ascending' : 'descending') : 'none');
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = title;
      b.onclick = () => { this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 }; this.renderTable(); };
      th.append(b);
      head.append(th);
    }
    const rows = this.nums.map((n, i) => ({ num: n, color: RUN_COLORS[i], ...this.data.get(n).summary(this.labels[i]) }));
    if (this.sort.key) {
      const k = this.sort.key, dir = this.sort.dir;
      rows.sort((a, b) => {
        const x = a[k], y = b[k];
        if (x == null || y == null) return x == null ? (y == null ? 0 : 1) : -1; // blanks last
        return (typeof x === 'number' ? x - y : String(x).localeCompare(String(y))) * dir;
      });
    }
    const body = table.createTBody();
    for (const r of rows) {
      const tr = body.insertRow();
      tr.dataset.job = r.num;
      tr.tabIndex = 0;
      tr.title = 'open this run';
      for (const [key] of COLUMNS) {
        const td = tr.insertCell();
        const v = r[key];
        td.textContent = v == null ? '–' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v);
        if (key === 'label') td.style.borderLeft = `4px solid ${r.color}`;
      }
      tr.onclick = () => this.onOpenRun(r.num);
      tr.onkeydown = e => { if (e.key === 'Enter') this.onOpenRun(r.num); };
    }
  }
}
