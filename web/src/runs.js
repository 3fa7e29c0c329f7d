// The run list: every job the server told us of, which one is selected, and the list drawn from them.
import { $, formatSeconds } from './ui.js';

export class RunList {
  /** {@code onSelect(num)} runs after the selection changed; {@code onRender(job)} after each redraw. */
  constructor({ onSelect, onRender }) {
    this.jobs = new Map();
    this.selected = null;
    this.onSelect = onSelect;
    this.onRender = onRender;
  }

  /** The selected job's object, or undefined. */
  current() { return this.jobs.get(this.selected); }

  update(job) { this.jobs.set(job.num, job); }

  remove(num) {
    this.jobs.delete(num);
    if (this.selected === num) this.selected = null;
  }

  /** The run a newcomer sees: a running (or paused) one, else the newest. */
  static pickDefault(jobs) {
    const running = jobs.find(j => j.status === 'running' || j.status === 'paused');
    return (running ?? jobs[jobs.length - 1]).num;
  }

  select(num) {
    if (this.selected === num) return;
    const previous = this.selected;
    this.selected = num;
    this.onSelect(num, previous);
  }

  render() {
    const ul = $('runs');
    ul.innerHTML = '';
    for (const j of [...this.jobs.values()].reverse()) {
      const li = document.createElement('li');
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', String(j.num === this.selected));
      li.tabIndex = 0;
      const eta = j.etaSeconds != null ? ` · ETA ${formatSeconds(j.etaSeconds)}` : '';
      const test = j.testLoss != null ? ` · test ${j.testLoss.toFixed(2)}` : '';
      li.innerHTML = `<strong></strong> <span class="status"></span><br><small class="muted"></small>
        <progress max="1" aria-label="progress"></progress>`;
      li.querySelector('strong').textContent = j.name;
      li.querySelector('.status').textContent = j.status;
      li.querySelector('small').textContent = `${j.model} on ${j.dataset} · epoch ${j.epoch}/${j.epochs}${test}${eta}`;
      li.querySelector('progress').value = j.progress ?? 0;
      li.onclick = () => this.select(j.num);
      li.onkeydown = e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.select(j.num); } };
      ul.appendChild(li);
    }
    const j = this.current();
    $('job-title').textContent = j ? `${j.name} — ${j.status}` : 'no run selected';
    this.onRender(j);
  }
}
