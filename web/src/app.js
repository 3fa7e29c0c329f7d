// The page's wiring: one connection (protocol version 1, see /api/protocol.md) and the modules that each
// own one part of the page. Kind to the server: reconnects spread by full jitter, a hidden tab asks for
// loss and status only, and only the streams of open panels are subscribed.
import { LossChart, termColor } from './chart.js';
import { CompareView, MAX_RUNS, MIN_RUNS, parseSelection } from './compare.js';
import { Connection } from './connection.js';
import { Diagnostics } from './diagnostics.js';
import { Explorer } from './explorer.js';
import { Panels } from './panels.js';
import { framePng, IMAGE_STREAMS, readFrame } from './protocol.js';
import { RunList } from './runs.js';
import { LiveSettings } from './settings.js';
import { StepSlider } from './slider.js';
import { StartForm } from './startform.js';
import { Token } from './token.js';
import { $, toast } from './ui.js';

const connection = new Connection({
  // The single view subscribes again once the welcome says which number its run has now (see 'welcome').
  onOpen: () => { token.onOpen(); if (compare.active) compare.resubscribe(); },
  onMessage: m => onMessage(m),
  onFrame: buf => onFrame(buf),
  onState: (text, cls) => { $('connection').textContent = text; $('connection').className = `badge ${cls}`; },
});
connection.onClose = () => token.onClose();
const token = new Token(connection, () => panels.forget());
const chart = new LossChart($('chart'));
const diagnostics = new Diagnostics({ bars: $('diag-bars'), heat: $('diag-heat'), body: document.querySelector('.diag-body'),
  empty: $('diag-empty'), summary: $('diag-summary'), warnings: $('warnings') });
const runs = new RunList({ onSelect: (num, previous) => onSelect(num, previous),
  onRender: j => { updateControls(j); showReconInput(j); settings.show(j); if (j?.classes) explorer.showClasses(j.classes); } });
const explorer = new Explorer(connection, runs);
const panels = new Panels(connection, runs, drawn => explorer.onLatentDrawn(drawn));
const slider = new StepSlider({ runs, chart, panels, onLive: (live, step) => explorer.setLive(live, step),
  onPastPlane: plane => explorer.onPastPlane(plane) });
const form = new StartForm({ connection, token, runs, onStarted: job => { runs.update(job); runs.select(job.num); },
  onSweep: jobs => { jobs.forEach(j => runs.update(j)); runs.render(); showCompare(jobs.slice(0, MAX_RUNS).map(j => j.num)); } });
const settings = new LiveSettings(connection, token, runs);
const compare = new CompareView({ connection, runs, onOpenRun: num => showSingle(num), onClose: () => showSingle(runs.selected) });
let pendingCompare = parseSelection(location.search); // opened once the welcome has named the runs
let framesReceived = 0;

// For tests and benchmarks: the page's state (read-only views of the modules') and its message entry points.
const state = Object.defineProperties({}, {
  authorized: { get: () => token.authorized }, selected: { get: () => runs.selected }, jobs: { get: () => runs.jobs },
  selectedId: { get: () => runs.selectedId }, gone: { get: () => runs.gone },
  streams: { get: () => panels.streams }, subscribes: { get: () => panels.subscribes }, pointFrames: { get: () => panels.pointFrames },
  framesReceived: { get: () => framesReceived }, frameSteps: { get: () => slider.frameSteps }, live: { get: () => slider.live },
  plane: { get: () => explorer.plane }, lastOutage: { get: () => connection.lastOutage }, connectedAt: { get: () => connection.connectedAt },
});
window.latentstream = { state, chart, diagnostics, compare, paint: (kind, blob) => panels.paint(kind, blob),
  connection, receive: m => connection.receive(m), explorer, frame: buf => onFrame(buf), showCompare: nums => showCompare(nums) };

function onMessage(m) {
  if (compare.handles(m.job)) { compare.onMessage(m); return; }
  const mine = m.job === runs.selected && !compare.active;
  switch (m.type) {
    case 'welcome': {
      token.setAuthorized(m.authorized);
      // After a reconnect (a restarted server, a dropped socket) the page keeps its run by id, never by number.
      const shown = runs.selectedId;
      const num = runs.replaceAll(m.jobs);
      if (shown != null && num == null) {
        runs.markGone(`The run this page showed (${shown}) is gone: it was deleted. Choose another run.`);
        clearView();
      }
      runs.render();
      if (pendingCompare) { const nums = pendingCompare; pendingCompare = null; showCompare(nums, false); }
      if (compare.active) break;
      if (num != null && num === runs.selected) panels.subscribe();
      else if (num != null) { runs.selected = null; runs.select(num); }
      else if (runs.selected == null && runs.gone == null && m.jobs.length) runs.select(RunList.pickDefault(m.jobs));
      break;
    }
    case 'status':
      runs.update(m.job);
      compare.onStatus(m.job);
      runs.render();
      if (runs.selected == null && runs.gone == null) runs.select(m.job.num);
      break;
    case 'history': if (mine) { chart.reset(m); slider.update(); m.settings?.forEach(x => settings.onSetting(x.key, x.value)); } break;
    case 'loss': if (mine) { chart.append(m.columns); slider.update(); } break;
    case 'epoch': if (mine) { chart.addTest(m.step, m.test); explorer.local.onEpoch(); } break;
    case 'setting': if (mine) { chart.addSetting({ step: m.step, key: m.key, value: m.value }); settings.onSetting(m.key, m.value); } break;
    case 'plane': if (mine) { explorer.onPlane(m.range); explorer.local.onPlane(m); } break;
    case 'diagnostics': if (mine) diagnostics.add(m); break;
    case 'warning': if (mine) diagnostics.warn(m); break;
    case 'deleted': {
      // The shown run deleted (here or elsewhere): the view says so and stays empty; no other run is
      // put in its place, so nobody mistakes the next run's curves for the one they were watching.
      const gone = runs.selected === m.job ? runs.current() : null;
      runs.remove(m.job);
      if (gone) {
        runs.markGone(`The run this page showed (${gone.name} #${gone.num}) was deleted. Choose another run.`);
        clearView();
      }
      runs.render();
      break;
    }
    case 'log': $('job-title').textContent = m.message; break;
    case 'error': toast(`Server: ${m.message}`); break;
    default: break;
  }
  $('point-count').textContent = `${chart.pointCount().toLocaleString()} points`;
}

function onFrame(buf) {
  const f = readFrame(buf);
  framesReceived++;
  if (compare.handles(f.job)) { compare.onFrame(f, buf); return; }
  if (f.job !== runs.selected || !f.kind) return;
  slider.addFrameStep(f.step);
  // A frame sent before a narrower subscribe took effect: not asked for any more.
  if (!slider.live || !panels.wants(f.kind)) return;
  if (f.format === 'points') panels.paintPoints(f.kind, buf);
  else panels.paint(f.kind, framePng(buf), f.job);
}

function onSelect(num, previous) {
  if (previous != null) connection.send({ type: 'unsubscribe', job: previous });
  panels.forget();
  slider.reset();
  explorer.reset();
  chart.reset(null);
  diagnostics.reset();
  panels.setNotes({});
  // Nothing of the last run stays on screen: a queued run has no images yet.
  for (const kind of IMAGE_STREAMS) panels.blank(kind);
  runs.render();
  form.showRun();
  panels.subscribe();
  slider.refreshIndex();
}

/** The compare view on {@code nums}, the address saying so ({@code push}: as a new history entry). */
function showCompare(nums, push = true) {
  if (runs.selected != null) connection.send({ type: 'unsubscribe', job: runs.selected });
  panels.forget();
  panels.paused = true;
  $('single-view').hidden = true;
  $('compare-view').hidden = false;
  if (!compare.open(nums)) { showSingle(runs.selected); return; }
  const url = `${location.pathname}?compare=${compare.nums.join(',')}`;
  if (push) history.pushState(null, '', url); else history.replaceState(null, '', url);
}

/** Back to one run's view ({@code num}, or the default run when null). */
function showSingle(num) {
  if (compare.active) compare.close();
  panels.paused = false;
  $('compare-view').hidden = true;
  $('single-view').hidden = false;
  if (new URLSearchParams(location.search).has('compare')) history.pushState(null, '', location.pathname);
  const target = num ?? (runs.jobs.size ? RunList.pickDefault([...runs.jobs.values()]) : null);
  if (target == null) return;
  if (runs.selected === target) { runs.selected = null; }
  runs.select(target);
}

runs.onPick = picked => {
  $('compare-open').disabled = picked.size < MIN_RUNS || picked.size > MAX_RUNS;
  $('compare-open').textContent = `Compare ticked runs (${picked.size})`;
};
$('compare-open').onclick = () => showCompare([...runs.picked].sort((a, b) => a - b));
window.addEventListener('popstate', () => {
  const nums = parseSelection(location.search);
  if (nums) showCompare(nums, false); else if (compare.active) showSingle(runs.selected);
});

/** Nothing of any run in the single view: no curves, frames, latent plane, legend or live settings. */
function clearView() {
  panels.forget();
  slider.reset();
  explorer.reset();
  chart.reset(null);
  diagnostics.reset();
  panels.setNotes({});
  for (const kind of ['recon', 'samples', 'latent', 'manifold']) panels.blank(kind);
  explorer.showClasses([]);
  settings.show(null);
}

/** The DAE's reconstruction frame pairs the noisy input it was given with its reconstruction. */
function showReconInput(j) {
  $('recon-what').textContent = j?.model === 'dae' ? '(noisy input | reconstruction)' : '(original | reconstruction)';
}

/** Which controls the selected run's state allows. */
function updateControls(j) {
  const s = j?.status;
  $('pause').disabled = s !== 'running';
  $('resume').disabled = !['paused', 'stopped', 'completed', 'interrupted', 'failed'].includes(s);
  $('stop').disabled = !['running', 'paused', 'queued'].includes(s);
  $('delete').disabled = !j || ['running', 'paused', 'queued'].includes(s);
}

async function control(type) {
  const j = runs.current();
  if (!j) { toast('Select a run first.'); return; }
  if (type === 'delete' && !confirm(`Delete ${j.name} #${j.num} and its run directory?`)) return;
  if (!await token.ensure()) return;
  connection.request({ type, job: j.num }).catch(e => toast(`${type} failed: ${e.message}`));
}

chart.onTerms = terms => {
  const box = $('terms');
  box.innerHTML = '';
  terms.forEach((t, i) => {
    const label = document.createElement('label');
    const input = document.createElement('input');
    input.type = 'checkbox';
    input.checked = !chart.hidden.has(t);
    input.onchange = () => chart.setShown(t, input.checked);
    const swatch = document.createElement('span');
    swatch.className = 'swatch';
    swatch.style.background = termColor(t, i);
    label.append(input, swatch, document.createTextNode(t));
    box.appendChild(label);
  });
};

$('pause').onclick = () => control('pause');
$('resume').onclick = () => control('resume');
$('stop').onclick = () => control('stop');
$('delete').onclick = () => control('delete');
$('log-scale').onchange = e => chart.setLog(e.target.checked);
$('y-range').onchange = e => chart.setRecent(Number(e.target.value));
$('smoothing').oninput = e => chart.setSmoothing(Number(e.target.value));

updateControls(null);
form.loadPresets().catch(e => toast(`Cannot load presets: ${e.message}`));
connection.connect();
