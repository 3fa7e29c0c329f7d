// The latent diagnostics panel: per-dimension bars for the latest `diagnostics` message (KL in nats for
// the variational models, code variance for the others) and a heat-map of the same values against step,
// plus the server's `warning` messages. Works with no message at all: it then says none has arrived.
const MAX_COLUMNS = 240;
const ACTIVE = 0.01; // Burda et al.'s activity threshold, used by the server for `activeUnits`

export class Diagnostics {
  constructor({ bars, heat, body, empty, summary, warnings }) {
    Object.assign(this, { bars, heat, body, empty, summary, warnings });
    this.reset();
    new ResizeObserver(() => this.invalidate()).observe(bars);
  }

  reset() {
    this.history = [];
    this.seen = new Set();
    this.warnings.innerHTML = '';
    this.body.hidden = true;
    this.empty.hidden = false;
    this.summary.textContent = '';
    this.dirty = false;
  }

  add(m) {
    if (!Array.isArray(m.values) || m.values.length === 0) return;
    const last = this.history[this.history.length - 1];
    if (last && last.step === m.step) this.history.pop();
    this.history.push({ step: m.step, kind: m.kind, values: m.values.map(Number) });
    if (this.history.length > MAX_COLUMNS) this.history.shift();
    this.body.hidden = false;
    this.empty.hidden = true;
    const unit = m.kind === 'kl' ? 'KL per dimension (nats)' : 'code variance per dimension';
    const top = m.topK != null && m.topKFraction != null
      ? ` · top ${m.topK} hold ${Math.round(m.topKFraction * 100)}%` : '';
    // Two measures, each named: the server's active units (variance of the means, Burda et al.) and the
    // dimensions whose KL is under the threshold the warnings use, which the grey bars show.
    const quiet = m.kind === 'kl' ? ` · ${m.values.filter(v => Number(v) < ACTIVE).length} with KL under ${ACTIVE} nats` : '';
    const active = `${m.activeUnits ?? '?'} of ${m.values.length} active (variance of the means over ${ACTIVE})`;
    this.summary.textContent = `step ${m.step}: ${active}${quiet}${top}`;
    this.bars.setAttribute('aria-label', `${unit} at step ${m.step}: ${m.values.map(v => Number(v).toFixed(3)).join(', ')}`);
    this.heat.setAttribute('aria-label', `${unit} against step, ${this.history.length} steps`);
    this.invalidate();
  }

  /**
   * A `warning`: one line per code, however often it is raised. Its newest message shows, with how many
   * times and since which step, so a run that warns every epoch does not push the bars off the card.
   */
  warn(m) {
    const key = `${m.code}@${m.step}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const code = m.code ?? '';
    let li = [...this.warnings.children].find(x => x.dataset.code === code);
    if (!li) {
      li = document.createElement('li');
      li.dataset.code = code;
      li.dataset.count = '0';
      li.dataset.first = String(m.step ?? '?');
    }
    li.dataset.count = String(Number(li.dataset.count) + 1);
    const n = Number(li.dataset.count);
    const again = n > 1 ? ` (${n} times since step ${li.dataset.first})` : '';
    li.textContent = `Step ${m.step ?? '?'}: ${m.message}${m.setting ? ` (setting: ${m.setting})` : ''}${again}`;
    this.warnings.prepend(li);
  }

  invalidate() {
    if (this.dirty || !this.history.length) return;
    this.dirty = true;
    requestAnimationFrame(() => { this.dirty = false; this.draw(); });
  }

  draw() {
    const t0 = performance.now();
    const latest = this.history[this.history.length - 1];
    const max = Math.max(1e-9, ...this.history.flatMap(h => h.values));
    drawBars(fit(this.bars), latest.values, max);
    drawHeat(fit(this.heat), this.history, max);
    performance.measure('diagnostics-draw', { start: t0, end: performance.now() });
  }
}

/** Sizes the canvas's bitmap to its box, returning its 2D context. */
function fit(canvas) {
  const w = Math.max(1, Math.round(canvas.clientWidth * devicePixelRatio));
  const h = Math.max(1, Math.round(canvas.clientHeight * devicePixelRatio));
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  return canvas.getContext('2d');
}

// Room for the axes' labels, in CSS pixels: dimension numbers under the plot, values (or steps) beside it.
const LEFT = 34, BOTTOM = 16;

function axisFont(g) {
  g.font = `${10 * devicePixelRatio}px sans-serif`;
  g.fillStyle = '#1d232b';
}

/** Every k-th dimension number, k chosen so that labels keep about 18 px apart. */
function dimStep(dims, px) {
  return Math.max(1, Math.ceil(dims / Math.max(1, px / (18 * devicePixelRatio))));
}

function drawBars(g, values, max) {
  const { width, height } = g.canvas;
  g.clearRect(0, 0, width, height);
  const left = LEFT * devicePixelRatio, bottom = BOTTOM * devicePixelRatio;
  const pw = width - left, ph = height - bottom - 6 * devicePixelRatio;
  const w = pw / values.length;
  values.forEach((v, i) => {
    const h = Math.max(1, (v / max) * ph);
    g.fillStyle = v >= ACTIVE ? '#2f6fed' : '#c7ccd4';
    g.fillRect(left + i * w + w * 0.1, height - bottom - h, Math.max(1, w * 0.8), h);
  });
  axisFont(g);
  g.fillRect(left, height - bottom, pw, devicePixelRatio);
  g.fillRect(left - devicePixelRatio, height - bottom - ph, devicePixelRatio, ph);
  g.textAlign = 'center';
  g.textBaseline = 'top';
  const k = dimStep(values.length, pw);
  for (let i = 0; i < values.length; i += k) g.fillText(String(i), left + (i + 0.5) * w, height - bottom + 2 * devicePixelRatio);
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  for (const f of [0, 0.5, 1]) g.fillText(label(max * f), left - 4 * devicePixelRatio, height - bottom - f * ph);
}

function label(v) { return v === 0 ? '0' : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(1) : v.toPrecision(2); }

function drawHeat(g, history, max) {
  const { width, height } = g.canvas;
  g.clearRect(0, 0, width, height);
  const left = LEFT * devicePixelRatio, bottom = BOTTOM * devicePixelRatio;
  const pw = width - left, ph = height - bottom;
  const dims = history[history.length - 1].values.length;
  const cw = pw / history.length, ch = ph / dims;
  // sqrt: a collapsed dimension (≈0) and a weak one (0.05) must look different next to a strong one.
  history.forEach((h, x) => h.values.forEach((v, d) => {
    const t = Math.sqrt(Math.max(0, v) / max);
    g.fillStyle = `hsl(220, 80%, ${Math.round(97 - t * 60)}%)`;
    g.fillRect(left + Math.floor(x * cw), Math.floor(d * ch), Math.ceil(cw), Math.ceil(ch));
  }));
  axisFont(g);
  g.textAlign = 'right';
  g.textBaseline = 'middle';
  const k = dimStep(dims, ph);
  for (let d = 0; d < dims; d += k) g.fillText(`${d}`, left - 4 * devicePixelRatio, (d + 0.5) * ch);
  g.textBaseline = 'top';
  g.textAlign = 'left';
  g.fillText(`step ${history[0].step}`, left, ph + 2 * devicePixelRatio);
  g.textAlign = 'right';
  g.fillText(`step ${history[history.length - 1].step}`, width, ph + 2 * devicePixelRatio);
}
