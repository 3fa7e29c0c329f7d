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
    this.summary.textContent = `step ${m.step}: ${m.activeUnits ?? '?'} of ${m.values.length} active${top}`;
    this.bars.setAttribute('aria-label', `${unit} at step ${m.step}: ${m.values.map(v => Number(v).toFixed(3)).join(', ')}`);
    this.heat.setAttribute('aria-label', `${unit} against step, ${this.history.length} steps`);
    this.invalidate();
  }

  warn(m) {
    const key = `${m.code}@${m.step}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const li = document.createElement('li');
    li.dataset.code = m.code ?? '';
    li.textContent = `Step ${m.step ?? '?'}: ${m.message}${m.setting ? ` (setting: ${m.setting})` : ''}`;
    this.warnings.prepend(li);
    while (this.warnings.children.length > 5) this.warnings.lastChild.remove();
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

function drawBars(g, values, max) {
  const { width, height } = g.canvas;
  g.clearRect(0, 0, width, height);
  const w = width / values.length;
  values.forEach((v, i) => {
    const h = Math.max(1, (v / max) * (height - 2));
    g.fillStyle = v > ACTIVE ? '#2f6fed' : '#c7ccd4';
    g.fillRect(i * w + w * 0.1, height - h, Math.max(1, w * 0.8), h);
  });
}

function drawHeat(g, history, max) {
  const { width, height } = g.canvas;
  g.clearRect(0, 0, width, height);
  const dims = history[history.length - 1].values.length;
  const cw = width / history.length, ch = height / dims;
  // sqrt: a collapsed dimension (≈0) and a weak one (0.05) must look different next to a strong one.
  history.forEach((h, x) => h.values.forEach((v, d) => {
    const t = Math.sqrt(Math.max(0, v) / max);
    g.fillStyle = `hsl(220, 80%, ${Math.round(97 - t * 60)}%)`;
    g.fillRect(Math.floor(x * cw), Math.floor(d * ch), Math.ceil(cw), Math.ceil(ch));
  }));
}
