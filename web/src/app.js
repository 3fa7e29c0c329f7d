// The page's wiring: one connection (protocol version 1, see /api/protocol.md) and the modules that each
// own one part of the page. Kind to the server: reconnects spread by full jitter, a hidden tab asks for
// loss and status only, and only the streams of open panels are subscribed.
import { COLORS, LossChart } from './chart.js';
import { Connection } from './connection.js';
import { Diagnostics } from './diagnostics.js';
import { Explorer } from './explorer.js';
import { Panels } from './panels.js';
import { framePng, readFrame } from './protocol.js';
import { RunList } from './runs.js';
import { LiveSettings } from './settings.js';
import { StepSlider } from './slider.js';
import { StartForm } from './startform.js';
import { Token } from './token.js';
import { $, toast } from './ui.js';

const connection = new Connection({
  onOpen: () => { token.onOpen(); if (runs.selected != null) panels.subscribe(); },
  onMessage: m => onMessage(m),
  onFrame: buf => onFrame(buf),
  onState: (text, cls) => { $('connection').textContent = text; $('connection').className = `badge ${cls}`; },
});
connection.onClose = () => token.onClose();
const token = new Token(connection, () => panels.forget());
const chart = new LossChart($('chart'));
const diagnostics = new Diagnostics({ bars: $('diag-bars'), heat: $('diag-heat'), body: document.querySelector('.diag-body'),
  empty: $('diag-empty'), summary: $('diag-summary'), warnings: $('warnings') });
const runs = new RunList({ onSelect: (num, previous) => onSelect(num, previous), onRender: j => { if (j?.classes) explorer.showClasses(j.classes); } });
const explorer = new Explorer(connection, runs);
const panels = new Panels(connection, runs, drawn => explorer.onLatentDrawn(drawn));
const slider = new StepSlider({ runs, chart, panels, onLive: live => explorer.setLive(live) });
const form = new StartForm({ connection, token, runs, onStarted: job => { runs.update(job); runs.select(job.num); } });
new LiveSettings(connection, token, runs);
let framesReceived = 0;

// For tests and benchmarks: the page's state (read-only views of the modules') and its message entry points.
const state = Object.defineProperties({}, {
  authorized: { get: () => token.authorized }, selected: { get: () => runs.selected }, jobs: { get: () => runs.jobs },
  streams: { get: () => panels.streams }, subscribes: { get: () => panels.subscribes }, pointFrames: { get: () => panels.pointFrames },
  framesReceived: { get: () => framesReceived }, frameSteps: { get: () => slider.frameSteps }, live: { get: () => slider.live },
  plane: { get: () => explorer.plane }, lastOutage: { get: () => connection.lastOutage }, connectedAt: { get: () => connection.connectedAt },
});
window.latentstream = { state, chart, diagnostics, paint: (kind, blob) => panels.paint(kind, blob), receive: m => connection.receive(m) };

function onMessage(m) {
  const mine = m.job === runs.selected;
  switch (m.type) {
    case 'welcome':
      token.setAuthorized(m.authorized);
      m.jobs.forEach(j => runs.update(j));
      runs.render();
      if (runs.selected == null && m.jobs.length) runs.select(RunList.pickDefault(m.jobs));
      break;
    case 'status':
      runs.update(m.job);
      runs.render();
      if (runs.selected == null) runs.select(m.job.num);
      break;
    case 'history': if (mine) { chart.reset(m); slider.update(); } break;
    case 'loss': if (mine) { chart.append(m.columns); slider.update(); } break;
    case 'epoch': if (mine) chart.addTest(m.step, m.test); break;
    case 'setting': if (mine) chart.addSetting({ step: m.step, key: m.key, value: m.value }); break;
    case 'plane': if (mine) explorer.onPlane(m.range); break;
    case 'diagnostics': if (mine) diagnostics.add(m); break;
    case 'warning': if (mine) diagnostics.warn(m); break;
    case 'deleted': runs.remove(m.job); runs.render(); break;
    case 'log': $('job-title').textContent = m.message; break;
    case 'error': toast(`Server: ${m.message}`); break;
    default: break;
  }
  $('point-count').textContent = `${chart.pointCount().toLocaleString()} points`;
}

function onFrame(buf) {
  const f = readFrame(buf);
  framesReceived++;
  if (f.job !== runs.selected || !f.kind) return;
  slider.addFrameStep(f.step);
  // A frame sent before a narrower subscribe took effect: not asked for any more.
  if (!slider.live || !panels.wants(f.kind)) return;
  if (f.format === 'points') panels.paintPoints(f.kind, buf);
  else panels.paint(f.kind, framePng(buf));
}

function onSelect(num, previous) {
  if (previous != null) connection.send({ type: 'unsubscribe', job: previous });
  panels.forget();
  slider.reset();
  explorer.reset();
  chart.reset(null);
  diagnostics.reset();
  panels.setNotes({});
  runs.render();
  form.showRun();
  panels.subscribe();
  slider.refreshIndex();
}

async function control(type) {
  const j = runs.current();
  if (!j) { toast('Select a run first.'); return; }
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
    swatch.style.background = COLORS[i % COLORS.length];
    label.append(input, swatch, document.createTextNode(t));
    box.appendChild(label);
  });
};

$('pause').onclick = () => control('pause');
$('resume').onclick = () => control('resume');
$('stop').onclick = () => control('stop');
$('log-scale').onchange = e => chart.setLog(e.target.checked);
$('y-range').onchange = e => chart.setRecent(Number(e.target.value));
$('smoothing').oninput = e => chart.setSmoothing(Number(e.target.value));

form.loadPresets().catch(e => toast(`Cannot load presets: ${e.message}`));
connection.connect();
