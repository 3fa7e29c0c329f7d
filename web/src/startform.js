// The start form: the presets, the selected run's preset and spec, checked as you type, and `start`.
import { $, fieldError } from './ui.js';
import { checkSpec, knownKeys } from './spec.js';

export class StartForm {
  /** {@code onStarted(job)} runs with the job object of a run this form started. */
  constructor({ connection, token, runs, onStarted, onSweep }) {
    Object.assign(this, { connection, token, runs, onStarted, onSweep });
    this.presets = new Map();
    this.known = new Map();
    this.formFor = null;
    this.filled = {}; // what each number field was filled with: only a field the user changed overrides the spec
    $('spec').addEventListener('input', () => { this.validate(); this.fillFields(); });
    for (const f of FIELDS) {
      $(f.id).addEventListener('input', () => fieldError(f.id, $(f.id).value.trim() === this.filled[f.key] ? null : this.values(f).error));
    }
    $('start-form').onsubmit = e => { e.preventDefault(); this.submit(); };
  }

  /** A field's values: one number, or a comma-separated list of them (a sweep); {error} when one is bad. */
  values(f) {
    const raw = $(f.id).value.trim();
    if (raw === '') return { list: [] };
    const list = raw.split(',').map(t => t.trim());
    for (const t of list) {
      const n = Number(t);
      if (t === '' || !Number.isFinite(n) || (f.whole && !Number.isInteger(n)) || n < f.min || n > f.max) {
        return { error: `"${f.key}" must be ${f.whole ? 'a whole number' : 'a number'} from ${f.min} to ${f.max}`
          + `${list.length > 1 ? ', each of a comma-separated list' : ''}; got "${t}"` };
      }
    }
    if (new Set(list.map(Number)).size !== list.length) return { error: `"${f.key}" lists a value twice` };
    return { list: list.map(Number) };
  }

  async loadPresets() {
    const presets = await (await fetch('api/presets')).json();
    const sel = $('preset');
    for (const p of presets) {
      if (!p.spec) continue;
      this.presets.set(p.name, p.spec);
      const o = document.createElement('option');
      o.value = p.name;
      o.textContent = p.name;
      o.title = p.description ?? '';
      sel.appendChild(o);
    }
    this.known = knownKeys([...this.presets.values()]);
    sel.onchange = () => { this.showSpec(this.presets.get(sel.value)); };
    if (!this.showRun()) this.showSpec(this.presets.get(sel.value));
  }

  /** Puts the selected run's preset and spec in the form; false when there is no run (or no presets yet). */
  showRun() {
    const j = this.runs.current();
    if (!j || !this.presets.size || this.formFor === j.num) return false;
    this.formFor = j.num;
    if (this.presets.has(j.name)) $('preset').value = j.name;
    this.showSpec(j.spec ?? this.presets.get($('preset').value));
    if (j.epochs) $('epochs').value = j.epochs;
    return true;
  }

  showSpec(spec) {
    const { epochs, ...rest } = spec ?? {};
    $('spec').value = spec ? JSON.stringify(rest, null, 1) : '';
    if (epochs) $('epochs').value = epochs;
    this.validate();
    this.fillFields(rest);
  }

  /** The number fields show the spec's values ({@code spec}, else the text's when it parses). */
  fillFields(spec) {
    if (!spec) {
      try { spec = JSON.parse($('spec').value); } catch { return; }
      if (!spec || typeof spec !== 'object') return;
    }
    for (const f of FIELDS) {
      if (f.key === 'epochs') continue;
      $(f.id).value = spec[f.key] ?? '';
      this.filled[f.key] = $(f.id).value;
      fieldError(f.id, null);
    }
  }

  validate() {
    const problem = $('spec').value.trim() ? checkSpec($('spec').value, this.known) : null;
    fieldError('spec', problem);
    return problem;
  }

  async submit() {
    const problem = this.validate();
    if (problem) { $('spec-details').open = true; $('spec').focus(); return; }
    const lists = {};
    for (const f of FIELDS) {
      if (f.key !== 'epochs' && $(f.id).value.trim() === this.filled[f.key]) continue; // as the spec says
      const v = this.values(f);
      fieldError(f.id, v.error);
      if (v.error) { $(f.id).focus(); return; }
      if (v.list.length) lists[f.key] = v.list;
    }
    if (!await this.token.ensure()) return;
    const preset = $('preset').value;
    const text = $('spec').value.trim();
    const { epochs: _, ...presetSpec } = this.presets.get(preset) ?? {};
    let spec = text ? JSON.parse(text) : null;
    const sweep = {};
    let epochs = null;
    for (const [key, list] of Object.entries(lists)) {
      if (list.length > 1) sweep[key] = list;
      else if (key === 'epochs') epochs = list[0];
      else if ((spec ?? presetSpec)[key] !== list[0]) spec = { ...(spec ?? presetSpec), [key]: list[0] };
    }
    const msg = !spec || canonical(spec) === canonical(presetSpec) ? { type: 'start', preset } : { type: 'start', spec };
    if (epochs) msg.epochs = epochs;
    if (Object.keys(sweep).length) msg.sweep = sweep;
    try {
      const r = await this.connection.request(msg);
      if (msg.sweep) this.onSweep(r.result.jobs);
      else this.onStarted(r.result);
    } catch (err) {
      // The server names the key: put its message beside the field that holds it.
      const f = FIELDS.find(x => new RegExp(`"(sweep\\.)?${x.key}"`).test(err.message) && !(spec && x.key in spec && !(x.key in lists)));
      if (f) fieldError(f.id, err.message);
      else { $('spec-details').open = true; fieldError('spec', err.message); }
    }
  }
}

/** The start form's number fields; a comma-separated list in one makes a sweep over that key. */
const FIELDS = [
  { id: 'epochs', key: 'epochs', whole: true, min: 1, max: 100000 },
  { id: 'start-lr', key: 'lr', whole: false, min: 1e-12, max: 10 },
  { id: 'start-beta', key: 'beta', whole: false, min: 0, max: 1e6 },
  { id: 'start-latent', key: 'latent', whole: true, min: 1, max: 4096 },
];

/** Same content, whatever the key order. */
function canonical(o) {
  if (Array.isArray(o)) return `[${o.map(canonical).join(',')}]`;
  if (o && typeof o === 'object') return `{${Object.keys(o).sort().map(k => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  return JSON.stringify(o);
}
