// The run list: every job the server told us of, which one is selected, and the list drawn from them.
import { $, formatSeconds } from './ui.js';

export class RunList {
  /** {@code onSelect(num)} runs after the selection changed; {@code onRender(job)} after each redraw. */
  constructor({ onSelect, onRender }) {
    this.jobs = new Map();
    this.selected = null;
    this.selectedId = null; // the selected run's id: what a reconnect looks it up by, as numbers could be reused
    this.gone = null; // what the view says when the run it showed is gone, until another is chosen
    this.onSelect = onSelect;
    this.onRender = onRender;
    this.picked = new Set(); // ticked for the compare view
    this.onPick = () => {};
  }

  /** The selected job's object, or undefined. */
  current() { return this.jobs.get(this.selected); }

  update(job) { this.jobs.set(job.num, job); }

  remove(num) {
    this.jobs.delete(num);
    this.picked.delete(num);
    if (this.selected === num) this.selected = null;
  }

  /**
   * The server's list replaces ours (a welcome, after each connect): runs it no longer has leave the list.
   * Returns the selected run's number now, found by id, or null when that run is gone.
   */
  replaceAll(jobs) {
    this.jobs.clear();
    jobs.forEach(j => this.update(j));
    for (const num of [...this.picked]) if (!this.jobs.has(num)) this.picked.delete(num);
    return jobs.find(j => j.id === this.selectedId)?.num ?? null;
  }

  /** The run this view showed is gone: nothing is selected and the view says so, until another run is chosen. */
  markGone(message) {
    this.selected = null;
    this.selectedId = null;
    this.gone = message;
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
    this.selectedId = this.jobs.get(num)?.id ?? null;
    this.gone = null;
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
      li.innerHTML = `<input type="checkbox" class="pick"><strong></strong> <span class="status"></span><br><small class="muted"></small>
        <progress max="1" aria-label="progress"></progress>`;
      const pick = li.querySelector('.pick');
      pick.checked = this.picked.has(j.num);
      pick.setAttribute('aria-label', `compare ${j.name} #${j.num}`);
      pick.onclick = e => e.stopPropagation();
      pick.onkeydown = e => e.stopPropagation();
      pick.onchange = () => { if (pick.checked) this.picked.add(j.num); else this.picked.delete(j.num); this.onPick(this.picked); };
      // The number tells two runs of one name apart (it is also the run's number in the address).
      li.querySelector('strong').textContent = `${j.name} #${j.num}`;
      li.querySelector('.status').textContent = j.status;
      const engine = j.engine ? ` · ${j.engine}` : '';
      // A failover group moved the job to another trainer node (docs/cluster.md).
      const moved = j.failovers > 0 ? ` · resumed on node ${j.node} at step ${j.resumedAtStep ?? 0}` : '';
      li.querySelector('small').textContent = `${j.model} on ${j.dataset}${engine} · epoch ${j.epoch}/${j.epochs}${test}${eta}${moved}`;
      li.querySelector('progress').value = j.progress ?? 0;
      li.onclick = () => this.select(j.num);
      li.onkeydown = e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.select(j.num); } };
      ul.appendChild(li);
    }
    const j = this.current();
    $('job-title').textContent = j ? `${j.name} — ${j.status}` : (this.gone ?? 'no run selected');
    $('job-title').classList.toggle('gone', !j && this.gone != null);
    this.onRender(j);
  }
}
