// The step slider of the selected run: it runs over steps, ticks mark the steps with kept images, and
// moving it shows each panel's frame at or before that step; "Live" follows the newest step.
import { $ } from './ui.js';
import { framePlane, IMAGE_STREAMS } from './protocol.js';

export class StepSlider {
  /**
   * {@code onLive(live, step)} runs whenever following the newest step starts or stops, and at each past step
   * shown; {@code onPastPlane(plane)} when a past step's latent frame is shown, with its plane message (null
   * when not known).
   */
  constructor({ runs, chart, panels, onLive, onPastPlane }) {
    Object.assign(this, { runs, chart, panels, onLive, onPastPlane });
    this.frameSteps = [];
    this.live = true;
    this.marksScheduled = false;
    this.scrubTarget = null;
    this.scrubbing = false;
    $('step-slider').oninput = e => {
      if (this.live) this.refreshIndex();
      this.scrubTo(Number(e.target.value));
    };
    $('live').onclick = () => {
      this.setLive(true);
      this.panels.setNotes({});
      this.update();
      this.scrubTo(this.headStep());
    };
    window.addEventListener('resize', () => this.update());
  }

  /** A new run: no steps known yet, and live. */
  reset() {
    this.frameSteps = [];
    this.setLive(true);
  }

  setLive(live, step = null) {
    this.live = live;
    $('live').setAttribute('aria-pressed', String(live));
    this.onLive(live, step);
  }

  /** The steps that have kept frames, from the server's index. */
  refreshIndex() {
    const j = this.runs.current();
    if (!j) return Promise.resolve();
    return fetch(`api/jobs/${encodeURIComponent(j.id)}/frames`).then(r => r.json()).then(index => {
      const steps = new Set();
      Object.values(index).forEach(list => Array.isArray(list) && list.forEach(s => steps.add(s)));
      this.frameSteps = [...steps].sort((a, b) => a - b);
      this.update();
    }).catch(() => {});
  }

  addFrameStep(step) {
    const s = this.frameSteps;
    if (s.length && s[s.length - 1] >= step) { if (!s.includes(step)) { s.push(step); s.sort((a, b) => a - b); } } else s.push(step);
    this.update();
  }

  headStep() {
    return Math.max(this.chart.lastStep(), this.frameSteps[this.frameSteps.length - 1] ?? 0);
  }

  update() {
    const s = $('step-slider');
    const head = this.headStep();
    s.max = head;
    s.step = 1;
    if (this.live) {
      s.value = head;
      $('step-label').textContent = `live · step ${head}`;
      s.setAttribute('aria-valuetext', `live, step ${head}`);
    }
    if (this.marksScheduled) return;
    this.marksScheduled = true;
    requestAnimationFrame(() => { this.marksScheduled = false; this.drawMarks(); });
  }

  drawMarks() {
    const c = $('slider-marks');
    const w = Math.max(1, Math.round(c.clientWidth * devicePixelRatio)), h = Math.max(1, Math.round(c.clientHeight * devicePixelRatio));
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    const g = c.getContext('2d');
    g.clearRect(0, 0, w, h);
    const head = this.headStep();
    if (!head) return;
    // The thumb's centre travels between half a thumb (≈8 px) from each end of the track.
    const inset = 8 * devicePixelRatio;
    g.fillStyle = '#2f6fed';
    for (const step of this.frameSteps) g.fillRect(Math.round(inset + (step / head) * (w - 2 * inset)), 0, Math.max(1, devicePixelRatio), h);
  }

  /** Shows {@code step}; moves that arrive while one is being fetched collapse into the newest. */
  async scrubTo(step) {
    this.scrubTarget = step;
    if (this.scrubbing) return;
    this.scrubbing = true;
    try {
      while (this.scrubTarget != null) {
        const target = this.scrubTarget;
        this.scrubTarget = null;
        await this.showStep(target);
      }
    } finally { this.scrubbing = false; }
  }

  /**
   * Shows each panel's frame for {@code step}: the one kept at or before it, else that epoch's saved image
   * (labelled so), else "not kept". A frame from after the step is never shown.
   */
  async showStep(step) {
    const j = this.runs.current();
    if (!j) return;
    this.setLive(step >= this.headStep(), step);
    $('step-label').textContent = `${this.live ? 'live · ' : ''}step ${step}`;
    $('step-slider').setAttribute('aria-valuetext', `step ${step}`);
    const id = encodeURIComponent(j.id);
    const notes = {};
    await Promise.all(IMAGE_STREAMS.map(async kind => {
      let r;
      try { r = await fetch(`api/jobs/${id}/frames/${kind}.png?step=${step}`); } catch { notes[kind] = 'not kept'; return; }
      const kept = Number(r.headers.get('X-Step'));
      if (kind === 'latent') this.onPastPlane(r.ok && !(kept > step) ? framePlane(r) : null);
      if (r.ok && r.headers.get('X-Frame-Source') === 'epoch') {
        notes[kind] = `epoch ${r.headers.get('X-Epoch') ?? '?'} image`;
      } else if (!r.ok || (Number.isFinite(kept) && kept > step)) {
        notes[kind] = 'not kept';
        this.panels.blank(kind);
        return;
      } else if (!this.live && Number.isFinite(kept) && kept < step) {
        notes[kind] = `from step ${kept}`;
      }
      await this.panels.paint(kind, await r.blob(), j.num);
    }));
    this.panels.setNotes(this.live ? {} : notes);
  }
}
