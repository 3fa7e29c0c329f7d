// The runs of the compare view: which ones an address names, how each is labelled (by the spec keys that
// differ between them), and each one's data, kept in columns per x axis and per term.
export const MIN_RUNS = 2, MAX_RUNS = 8;
export const RUN_COLORS = ['#2f6fed', '#e8710a', '#1e8e3e', '#d01884', '#9334e6', '#12858f', '#8c564b', '#111827'];
const KEY_NAMES = { beta: 'β', latent: 'latent', lr: 'lr', hidden: 'hidden', model: 'model', dataset: 'data' };

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
export class RunData {
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
