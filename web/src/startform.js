// The start form: the presets, the selected run's preset and spec, checked as you type, and `start`.
import { $, fieldError } from './ui.js';
import { checkSpec, knownKeys } from './spec.js';

export class StartForm {
  /** {@code onStarted(job)} runs with the job object of a run this form started. */
  constructor({ connection, token, runs, onStarted }) {
    Object.assign(this, { connection, token, runs, onStarted });
    this.presets = new Map();
    this.known = new Map();
    this.formFor = null;
    $('spec').addEventListener('input', () => this.validate());
    $('epochs').addEventListener('input', () => {
      const n = Number($('epochs').value);
      fieldError('epochs', Number.isInteger(n) && n >= 1 ? null : '"epochs" must be a whole number ≥ 1');
    });
    $('start-form').onsubmit = e => { e.preventDefault(); this.submit(); };
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
  }

  validate() {
    const problem = $('spec').value.trim() ? checkSpec($('spec').value, this.known) : null;
    fieldError('spec', problem);
    return problem;
  }

  async submit() {
    fieldError('epochs', null);
    const problem = this.validate();
    if (problem) { $('spec-details').open = true; $('spec').focus(); return; }
    if (!await this.token.ensure()) return;
    const preset = $('preset').value;
    const text = $('spec').value.trim();
    const { epochs: _, ...presetSpec } = this.presets.get(preset) ?? {};
    const spec = text ? JSON.parse(text) : null;
    const msg = !spec || canonical(spec) === canonical(presetSpec) ? { type: 'start', preset } : { type: 'start', spec };
    const epochs = Number($('epochs').value);
    if (epochs) msg.epochs = epochs;
    try {
      const r = await this.connection.request(msg);
      this.onStarted(r.result);
    } catch (err) {
      // The server names the key: put its message beside the field that holds it.
      if (/"epochs"/.test(err.message) && !(spec && 'epochs' in spec)) fieldError('epochs', err.message);
      else { $('spec-details').open = true; fieldError('spec', err.message); }
    }
  }
}

/** Same content, whatever the key order. */
function canonical(o) {
  if (Array.isArray(o)) return `[${o.map(canonical).join(',')}]`;
  if (o && typeof o === 'object') return `{${Object.keys(o).sort().map(k => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  return JSON.stringify(o);
}
