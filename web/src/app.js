// The live view: one WebSocket (protocol version 1, see /api/protocol.md), reconnecting with back-off
// and resuming with history; REST for presets, history frames and control.
import { LossChart } from './chart.js';
import { DrawPad } from './draw.js';

const KINDS = { 1: 'recon', 2: 'samples', 3: 'latent', 4: 'manifold' };
const $ = id => document.getElementById(id);

const state = {
  ws: null, open: false, authorized: false, backoff: 500, nextId: 1, pending: new Map(),
  jobs: new Map(), selected: null, live: true, frameSteps: [], plane: null, clickA: null,
  token: new URLSearchParams(location.search).get('token') || sessionStorage.getItem('latentstream-token'),
};
if (state.token) sessionStorage.setItem('latentstream-token', state.token);

const chart = new LossChart($('chart'));
window.latentstream = { state, chart, paint: (kind, blob) => paint(kind, blob) };

// ---- connection ---------------------------------------------------------------------------------

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  state.ws = ws;
  setConnection('connecting…', '');
  ws.onopen = () => {
    state.open = true;
    state.backoff = 500;
    setConnection('live', 'open');
    if (state.token) send({ type: 'hello', version: 1, token: state.token });
    if (state.selected != null) subscribe(state.selected);
  };
  ws.onmessage = e => typeof e.data === 'string' ? onJson(JSON.parse(e.data)) : onFrame(e.data);
  ws.onclose = e => {
    state.open = false;
    for (const [, p] of state.pending) p.reject(new Error('connection lost'));
    state.pending.clear();
    const wait = state.backoff;
    state.backoff = Math.min(10000, state.backoff * 2);
    setConnection(`disconnected${e.reason ? ': ' + e.reason : ''} — retrying in ${Math.round(wait / 1000)} s`, 'closed');
    setTimeout(connect, wait);
  };
}

function setConnection(text, cls) {
  const el = $('connection');
  el.textContent = text;
  el.className = `badge ${cls}`;
}

function send(msg) {
  if (state.open) state.ws.send(JSON.stringify(msg));
}

/** A request whose reply carries the same id. */
function request(msg) {
  const id = String(state.nextId++);
  return new Promise((resolve, reject) => {
    if (!state.open) { reject(new Error('not connected')); return; }
    state.pending.set(id, { resolve, reject });
    send({ ...msg, id });
  });
}

function toast(text) {
  const t = $('toast');
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

// ---- messages -----------------------------------------------------------------------------------

function onJson(m) {
  if (m.id != null && state.pending.has(String(m.id))) {
    const p = state.pending.get(String(m.id));
    state.pending.delete(String(m.id));
    if (m.type === 'error') p.reject(new Error(m.message)); else p.resolve(m);
    if (m.type === 'error' && m.code === 'unauthorized') forgetToken();
    return;
  }
  switch (m.type) {
    case 'welcome':
      state.authorized = m.authorized;
      m.jobs.forEach(j => state.jobs.set(j.num, j));
      renderRuns();
      if (state.selected == null && m.jobs.length) select(pickDefault(m.jobs));
      break;
    case 'hello': state.authorized = m.authorized; updateTokenButton(); break;
    case 'status':
      state.jobs.set(m.job.num, m.job);
      renderRuns();
      if (state.selected == null) select(m.job.num);
      break;
    case 'history': if (m.job === state.selected) { chart.reset(m); updateSlider(); } break;
    case 'loss': if (m.job === state.selected) { chart.append(m.columns); updateSlider(); } break;
    case 'epoch': if (m.job === state.selected) chart.addTest(m.step, m.test); break;
    case 'setting': if (m.job === state.selected) chart.addSetting({ step: m.step, key: m.key, value: m.value }); break;
    case 'plane': if (m.job === state.selected && state.live) state.plane = m.range; break;
    case 'deleted': state.jobs.delete(m.job); if (state.selected === m.job) state.selected = null; renderRuns(); break;
    case 'log': toastInfo(m.message); break;
    case 'error': toast(`Server: ${m.message}`); break;
    default: break;
  }
  $('point-count').textContent = `${chart.pointCount().toLocaleString()} points`;
}

function toastInfo(text) { $('job-title').textContent = text; }

function pickDefault(jobs) {
  const running = jobs.find(j => j.status === 'running' || j.status === 'paused');
  return (running ?? jobs[jobs.length - 1]).num;
}

async function onFrame(buf) {
  const v = new DataView(buf);
  const kind = KINDS[v.getUint8(1)];
  const job = v.getUint32(4);
  const step = Number(v.getBigUint64(8));
  if (job !== state.selected || !kind) return;
  if (!state.frameSteps.includes(step)) { state.frameSteps.push(step); updateSlider(); }
  if (!state.live) return;
  await paint(kind, new Blob([new Uint8Array(buf, 24)], { type: 'image/png' }));
}

async function paint(kind, blob) {
  const bitmap = await createImageBitmap(blob);
  const canvas = $(`panel-${kind}`);
  if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
  }
  canvas.getContext('2d').drawImage(bitmap, 0, 0);
  if (kind === 'latent') sizeOverlay();
}

// ---- runs ---------------------------------------------------------------------------------------

function renderRuns() {
  const ul = $('runs');
  ul.innerHTML = '';
  for (const j of [...state.jobs.values()].reverse()) {
    const li = document.createElement('li');
    li.setAttribute('role', 'option');
    li.setAttribute('aria-selected', String(j.num === state.selected));
    li.tabIndex = 0;
    const eta = j.etaSeconds != null ? ` · ETA ${formatSeconds(j.etaSeconds)}` : '';
    const test = j.testLoss != null ? ` · test ${j.testLoss.toFixed(2)}` : '';
    li.innerHTML = `<strong></strong> <span class="status"></span><br><small class="muted"></small>
      <progress max="1" aria-label="progress"></progress>`;
    li.querySelector('strong').textContent = j.name;
    li.querySelector('.status').textContent = j.status;
    li.querySelector('small').textContent = `${j.model} on ${j.dataset} · epoch ${j.epoch}/${j.epochs}${test}${eta}`;
    li.querySelector('progress').value = j.progress ?? 0;
    li.onclick = () => select(j.num);
    li.onkeydown = e => { if (e.key === 'Enter' || e.key === ' ') select(j.num); };
    ul.appendChild(li);
  }
  const j = state.jobs.get(state.selected);
  $('job-title').textContent = j ? `${j.name} — ${j.status}` : 'no run selected';
  if (j?.classes) fillClasses(j.classes);
}

function formatSeconds(s) {
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function select(num) {
  if (state.selected === num) return;
  if (state.selected != null) send({ type: 'unsubscribe', job: state.selected });
  state.selected = num;
  state.frameSteps = [];
  state.live = true;
  state.plane = null;
  $('live').setAttribute('aria-pressed', 'true');
  chart.reset(null);
  renderRuns();
  subscribe(num);
  fetch(`api/jobs/${encodeURIComponent(state.jobs.get(num).id)}/frames`).then(r => r.json()).then(index => {
    const steps = new Set(state.frameSteps);
    Object.values(index).forEach(list => list.forEach(s => steps.add(s)));
    state.frameSteps = [...steps].sort((a, b) => a - b);
    updateSlider();
  }).catch(() => {});
}

function subscribe(num) {
  request({ type: 'subscribe', job: num }).catch(e => toast(`Cannot watch this run: ${e.message}`));
}

async function control(type) {
  const j = state.jobs.get(state.selected);
  if (!j) { toast('Select a run first.'); return; }
  if (!await ensureToken()) return;
  request({ type, job: j.num }).catch(e => toast(`${type} failed: ${e.message}`));
}

async function ensureToken() {
  if (state.authorized) return true;
  if (!state.token) {
    const t = prompt('Control token (printed by latentstream serve):');
    if (!t) return false;
    state.token = t.trim();
    sessionStorage.setItem('latentstream-token', state.token);
  }
  try {
    const r = await request({ type: 'hello', version: 1, token: state.token });
    state.authorized = r.authorized;
    updateTokenButton();
    return true;
  } catch (e) {
    toast(`Token refused: ${e.message}`);
    forgetToken();
    return false;
  }
}

function forgetToken() {
  state.token = null;
  state.authorized = false;
  sessionStorage.removeItem('latentstream-token');
  updateTokenButton();
}

function updateTokenButton() {
  $('token-button').textContent = state.authorized ? 'Token ✓' : 'Enter token';
}

async function loadPresets() {
  const presets = await (await fetch('api/presets')).json();
  const select = $('preset');
  for (const p of presets) {
    const o = document.createElement('option');
    o.value = p.name;
    o.textContent = p.name;
    o.title = p.description ?? '';
    o.dataset.spec = JSON.stringify(p.spec, null, 1);
    select.appendChild(o);
  }
  const showSpec = () => { $('spec').value = select.selectedOptions[0]?.dataset.spec ?? ''; };
  select.onchange = showSpec;
  showSpec();
}

// ---- history scrubbing --------------------------------------------------------------------------

function updateSlider() {
  const s = $('step-slider');
  const steps = state.frameSteps;
  s.max = Math.max(0, steps.length - 1);
  if (state.live) { s.value = s.max; $('step-label').textContent = `live · step ${steps[steps.length - 1] ?? 0}`; }
}

async function scrubTo(index) {
  const step = state.frameSteps[index];
  if (step == null) return;
  state.live = index >= state.frameSteps.length - 1;
  $('live').setAttribute('aria-pressed', String(state.live));
  $('step-label').textContent = `${state.live ? 'live · ' : ''}step ${step}`;
  const id = encodeURIComponent(state.jobs.get(state.selected).id);
  await Promise.all(Object.values(KINDS).map(async kind => {
    const r = await fetch(`api/jobs/${id}/frames/${kind}.png?step=${step}`);
    if (r.ok) await paint(kind, await r.blob());
  }));
}

// ---- latent explorer ----------------------------------------------------------------------------

function sizeOverlay() {
  const base = $('panel-latent');
  const o = $('latent-overlay');
  o.width = base.width;
  o.height = base.height;
  o.style.width = base.clientWidth + 'px';
  o.style.height = base.clientHeight + 'px';
  drawMarker();
}

/** Pointer position → plane coordinates, or null outside the square plot area. */
function toPlane(e) {
  const o = $('latent-overlay');
  if (!state.plane || !o.width) return null;
  const r = o.getBoundingClientRect();
  const x = (e.clientX - r.left) * (o.width / r.width);
  const y = (e.clientY - r.top) * (o.height / r.height);
  const size = o.height;
  if (x < 0 || y < 0 || x > size || y > size) return null;
  const [x0, x1, y0, y1] = state.plane;
  return [x0 + (x / (size - 1)) * (x1 - x0), y1 - (y / (size - 1)) * (y1 - y0)];
}

function fromPlane([u, v]) {
  const o = $('latent-overlay');
  const [x0, x1, y0, y1] = state.plane;
  const size = o.height;
  return [(u - x0) / (x1 - x0) * (size - 1), (y1 - v) / (y1 - y0) * (size - 1)];
}

let hoverBusy = false;
async function hover(e) {
  const p = toPlane(e);
  if (!p || hoverBusy || state.selected == null) return;
  hoverBusy = true;
  try {
    const r = await request({ type: 'decode', job: state.selected, plane: p });
    $('hover-decode').src = `data:image/png;base64,${r.result.images[0]}`;
    $('hover-z').textContent = `(${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;
  } catch (err) {
    $('hover-z').textContent = err.message;
  } finally {
    hoverBusy = false;
  }
}

async function click(e) {
  const p = toPlane(e);
  if (!p) return;
  if (!state.clickA) { state.clickA = p; drawMarker(); return; }
  const a = state.clickA;
  state.clickA = null;
  drawMarker();
  try {
    const r = await request({ type: 'interpolate', job: state.selected, from: { plane: a }, to: { plane: p }, steps: 10,
      mode: $('spherical').checked ? 'spherical' : 'linear' });
    showStrip(r.result.images);
  } catch (err) { toast(`Interpolation failed: ${err.message}`); }
}

function showStrip(images) {
  const strip = $('strip');
  strip.innerHTML = '';
  images.forEach((b64, i) => {
    const img = document.createElement('img');
    img.src = `data:image/png;base64,${b64}`;
    img.alt = `step ${i + 1} of ${images.length}`;
    strip.appendChild(img);
  });
}

const marker = { point: null, std: null };
function drawMarker() {
  const o = $('latent-overlay');
  const ctx = o.getContext('2d');
  ctx.clearRect(0, 0, o.width, o.height);
  if (!state.plane) return;
  const scaleX = (o.height - 1) / (state.plane[1] - state.plane[0]);
  const scaleY = (o.height - 1) / (state.plane[3] - state.plane[2]);
  if (state.clickA) {
    const [x, y] = fromPlane(state.clickA);
    ctx.fillStyle = '#111';
    ctx.beginPath(); ctx.arc(x, y, 5, 0, 2 * Math.PI); ctx.fill();
  }
  if (marker.point) {
    const [x, y] = fromPlane(marker.point);
    ctx.strokeStyle = '#d01884';
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.ellipse(x, y, Math.max(3, marker.std[0] * scaleX), Math.max(3, marker.std[1] * scaleY), 0, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.fillStyle = '#d01884';
    ctx.beginPath(); ctx.arc(x, y, 4, 0, 2 * Math.PI); ctx.fill();
  }
}

function fillClasses(names) {
  for (const id of ['attr-plus', 'attr-minus']) {
    const sel = $(id);
    if (sel.options.length === names.length) continue;
    sel.innerHTML = '';
    names.forEach((n, i) => { const o = document.createElement('option'); o.value = i; o.textContent = n; sel.appendChild(o); });
  }
  if ($('attr-plus').selectedIndex === $('attr-minus').selectedIndex && names.length > 1) $('attr-minus').selectedIndex = 1;
}

// ---- draw to encode -----------------------------------------------------------------------------

let encodeBusy = false, encodeAgain = false;
async function encodeDrawing(pixels) {
  if (state.selected == null) return;
  if (encodeBusy) { encodeAgain = true; return; }
  encodeBusy = true;
  try {
    const r = await request({ type: 'encode', job: state.selected, pixels: Array.from(pixels, v => Math.round(v * 1000) / 1000) });
    $('pad-recon').src = `data:image/png;base64,${r.result.reconstructions[0]}`;
    marker.point = r.result.plane[0];
    marker.std = r.result.planeStd[0];
    drawMarker();
  } catch (e) {
    toast(`Encode failed: ${e.message}`);
  } finally {
    encodeBusy = false;
    if (encodeAgain) { encodeAgain = false; encodeDrawing(pad.pixels); }
  }
}

const pad = new DrawPad($('pad'), encodeDrawing);

// ---- wiring -------------------------------------------------------------------------------------

$('pause').onclick = () => control('pause');
$('resume').onclick = () => control('resume');
$('stop').onclick = () => control('stop');
$('token-button').onclick = () => { forgetToken(); ensureToken(); };
$('pad-clear').onclick = () => { pad.clear(); marker.point = null; drawMarker(); $('pad-recon').removeAttribute('src'); };
$('log-scale').onchange = e => chart.setLog(e.target.checked);
$('smoothing').oninput = e => chart.setSmoothing(Number(e.target.value));
$('step-slider').oninput = e => scrubTo(Number(e.target.value));
$('live').onclick = () => {
  state.live = true;
  $('live').setAttribute('aria-pressed', 'true');
  updateSlider();
  scrubTo(state.frameSteps.length - 1);
};
$('latent-overlay').onpointermove = hover;
$('latent-overlay').onclick = click;
$('attr-apply').onclick = async () => {
  try {
    const r = await request({ type: 'attribute', job: state.selected, from: { index: 0 },
      plus: Number($('attr-plus').value), minus: Number($('attr-minus').value), scale: 1 });
    showStrip(r.result.images);
  } catch (e) { toast(`Attribute failed: ${e.message}`); }
};
$('start-form').onsubmit = async e => {
  e.preventDefault();
  if (!await ensureToken()) return;
  let msg;
  const preset = $('preset').value;
  const text = $('spec').value.trim();
  const original = $('preset').selectedOptions[0]?.dataset.spec?.trim();
  try {
    msg = text && text !== original ? { type: 'start', spec: JSON.parse(text) } : { type: 'start', preset };
  } catch (err) { toast(`The spec is not valid JSON: ${err.message}`); return; }
  msg.epochs = Number($('epochs').value) || undefined;
  try {
    const r = await request(msg);
    state.jobs.set(r.result.num, r.result);
    select(r.result.num);
  } catch (err) { toast(`Start failed: ${err.message}`); }
};
$('settings-form').onsubmit = async e => {
  e.preventDefault();
  if (!await ensureToken()) return;
  for (const [key, id] of [['lr', 'set-lr'], ['beta', 'set-beta'], ['noise', 'set-noise']]) {
    const raw = $(id).value;
    if (raw === '') continue;
    try {
      await request({ type: 'set', job: state.selected, key, value: Number(raw) });
      $(id).value = '';
    } catch (err) { toast(`Setting ${key} refused: ${err.message}`); }
  }
};
window.addEventListener('resize', sizeOverlay);

updateTokenButton();
loadPresets().catch(e => toast(`Cannot load presets: ${e.message}`));
connect();
