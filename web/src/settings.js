// Live settings of the selected run: each field shows the run's current value (its spec, then every change
// since), only the settings its model has (β, free bits and KL warm-up for variational models, noise for the
// DAE), and Apply sends `set` (with the token) for the fields the user changed, and nothing else.
import { $, toast } from './ui.js';

const FIELDS = [
  { key: 'lr', id: 'set-lr', models: null },
  { key: 'beta', id: 'set-beta', models: ['vae', 'conv-vae'] },
  { key: 'freeBits', id: 'set-freeBits', models: ['vae', 'conv-vae'] },
  { key: 'klWarmupSteps', id: 'set-klWarmupSteps', models: ['vae', 'conv-vae'] },
  { key: 'noise', id: 'set-noise', models: ['dae'] },
];

export class LiveSettings {
  constructor(connection, token, runs) {
    Object.assign(this, { connection, token, runs });
    this.current = {};
    this.job = null;
    $('settings-form').onsubmit = e => { e.preventDefault(); this.apply(); };
  }

  /** The selected run (or none): its model's fields, holding its spec's values. */
  show(job) {
    if (job?.num === this.job && job) return;
    this.job = job?.num ?? null;
    const spec = job?.spec ?? {};
    this.current = {
      lr: spec.lr, beta: spec.beta ?? (job && ['vae', 'conv-vae'].includes(job.model) ? 1 : undefined),
      freeBits: spec.freeBits ?? 0, klWarmupSteps: spec.klWarmupSteps ?? 0, noise: spec.noise?.level,
    };
    for (const f of FIELDS) {
      const shown = !!job && (!f.models || f.models.includes(job.model));
      for (const el of [$(f.id), document.querySelector(`label[for="${f.id}"]`)]) el.hidden = !shown;
      $(f.id).value = this.current[f.key] ?? '';
    }
    $('settings-note').textContent = job ? '' : 'Select a run to change its settings.';
  }

  /** A `setting` message of the selected run (or one from its history): the field follows it. */
  onSetting(key, value) {
    this.current[key] = value;
    const f = FIELDS.find(x => x.key === key);
    if (f && document.activeElement !== $(f.id)) $(f.id).value = value;
  }

  async apply() {
    const job = this.runs.current();
    if (!job) return;
    const changes = FIELDS.filter(f => !$(f.id).hidden && $(f.id).value !== '' && Number($(f.id).value) !== this.current[f.key]);
    if (!changes.length) { $('settings-note').textContent = 'Nothing changed.'; return; }
    if (!await this.token.ensure()) return;
    const applied = [];
    for (const f of changes) {
      const value = Number($(f.id).value);
      try {
        await this.connection.request({ type: 'set', job: job.num, key: f.key, value });
        this.current[f.key] = value;
        applied.push(`${f.key} = ${value}`);
      } catch (err) { toast(`Setting ${f.key} refused: ${err.message}`); }
    }
    $('settings-note').textContent = applied.length ? `Applied ${applied.join(', ')}.` : '';
  }
}
