// The live view: one WebSocket (protocol version 1, see /api/protocol.md) and REST for presets, history
// frames and control. Kind to the server: reconnects spread by full jitter, a hidden tab asks for loss and
// status only, and only the streams of open panels are subscribed.
import { COLORS, LossChart } from './chart.js';
import { DrawPad } from './draw.js';
import { reconnectDelay } from './backoff.js';
import { drawFrame, drawPoints, PALETTE } from './frames.js';
import { checkSpec, knownKeys } from './spec.js';
import { Diagnostics } from './diagnostics.js';

const KINDS = { 1: 'recon', 2: 'samples', 3: 'latent', 4: 'manifold' };
const TOKEN_KEY = 'latentstream-token';
const $ = id => document.getElementById(id);

const state = {
  ws: null, open: false, authorized: false, attempt: 0, nextId: 1, pending: new Map(),
  jobs: new Map(), selected: null, live: true, frameSteps: [], plane: null, clickA: null, cursor: null,
  token: null, streams: [], unsupported: new Set(), framesReceived: 0, pointFrames: 0, subscribes: 0,
  presets: new Map(), known: new Map(), formFor: null,
};

const chart = new LossChart($('chart'));
const diagnostics = new Diagnostics({ bars: $('diag-bars'), heat: $('diag-heat'), body: document.querySelector('.diag-body'),
  empty: $('diag-empty'), summary: $('diag-summary'), warnings: $('warnings') });
// For tests and benchmarks: the page's state and its message entry points.
window.latentstream = { state, chart, diagnostics, paint: (kind, blob) => paint(kind, blob), receive: m => onJson(m) };

// ---- connection ---------------------------------------------------------------------------------

function connect() {
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  const ws = new WebSocket(url);
  ws.binaryType = 'arraybuffer';
  state.ws = ws;
  setConnection('connecting…', '');
  ws.onopen = () => {
    state.open = true;
    state.attempt = 0;
    state.connectedAt = Date.now(); // read by the reconnect test
    // The outage just ended: when it began and the back-off waits drawn during it (read by the reconnect test).
    if (state.outage) state.lastOutage = { ...state.outage, connectedAt: state.connectedAt };
    state.outage = null;
    setConnection('live', 'open');
    if (state.token) {
      hello().catch(e => { if (e.code === 'unauthorized') { forgetToken(); toast(`Token refused: ${e.message}`); } });
    }
    if (state.selected != null) subscribe();
  };
  ws.onmessage = e => typeof e.data === 'string' ? onJson(JSON.parse(e.data)) : onFrame(e.data);
  ws.onclose = e => {
    if (state.ws !== ws) return;
    state.open = false;
    state.authorized = false;
    for (const [, p] of state.pending) p.reject(new Error('connection lost'));
    state.pending.clear();
    const wait = reconnectDelay(state.attempt++);
    state.outage ??= { closedAt: Date.now(), waits: [] };
    state.outage.waits.push(wait);
    setConnection(`disconnected${e.reason ? ': ' + e.reason : ''} — retrying in ${(wait / 1000).toFixed(1)} s`, 'closed');
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

/** A request whose reply carries the same id; an `error` reply rejects with its code and message. */
function request(msg) {
  const id = String(state.nextId++);
  return new Promise((resolve, reject) => {
    if (!state.open) { reject(new Error('not connected')); return; }
    state.pending.set(id, { resolve, reject });
    send({ ...msg, id });
  });
}

/**
 * A model request (encode, interpolate, attribute) that waits out `busy` replies as the server says, at most
 * 2 s a time and 20 s in all, telling {@code onWait} each time; any other error, or a busy trainer past that,
 * rejects as {@link request} does.
 */
async function modelRequest(msg, onWait) {
  const deadline = Date.now() + 20000;
  for (;;) {
    try {
      return await request(msg);
    } catch (err) {
      if (err.code !== 'busy' || Date.now() > deadline) throw err;
      const wait = Math.min(2000, Math.max(50, err.retryAfterMs ?? 200));
      onWait?.(wait);
      await new Promise(done => setTimeout(done, wait));
    }
  }
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
    if (m.type === 'error') p.reject(Object.assign(new Error(m.message), { code: m.code, retryAfterMs: m.retryAfterMs }));
    else p.resolve(m);
    return;
  }
  const mine = m.job === state.selected;
  switch (m.type) {
    case 'welcome':
      state.authorized = m.authorized;
      updateTokenButtons();
      m.jobs.forEach(j => state.jobs.set(j.num, j));
      renderRuns();
      if (state.selected == null && m.jobs.length) select(pickDefault(m.jobs));
      break;
    case 'status':
      state.jobs.set(m.job.num, m.job);
      renderRuns();
      if (state.selected == null) select(m.job.num);
      break;
    case 'history': if (mine) { chart.reset(m); updateSlider(); } break;
    case 'loss': if (mine) { chart.append(m.columns); updateSlider(); } break;
    case 'epoch': if (mine) chart.addTest(m.step, m.test); break;
    case 'setting': if (mine) chart.addSetting({ step: m.step, key: m.key, value: m.value }); break;
    case 'plane':
      if (mine) {
        state.livePlane = m.range;
        if (state.live) { state.plane = m.range; drawOverlay(); }
      }
      break;
    case 'diagnostics': if (mine) diagnostics.add(m); break;
    case 'warning': if (mine) diagnostics.warn(m); break;
    case 'deleted': state.jobs.delete(m.job); if (state.selected === m.job) state.selected = null; renderRuns(); break;
    case 'log': $('job-title').textContent = m.message; break;
    case 'error': toast(`Server: ${m.message}`); break;
    default: break;
  }
  $('point-count').textContent = `${chart.pointCount().toLocaleString()} points`;
}

function pickDefault(jobs) {
  const running = jobs.find(j => j.status === 'running' || j.status === 'paused');
  return (running ?? jobs[jobs.length - 1]).num;
}

function onFrame(buf) {
  const v = new DataView(buf);
  const kind = KINDS[v.getUint8(1)];
  const job = v.getUint32(4);
  const step = Number(v.getBigUint64(8));
  state.framesReceived++;
  if (job !== state.selected || !kind) return;
  addFrameStep(step);
  // A frame sent before a narrower subscribe took effect: not asked for any more.
  if (!state.live || !state.streams.includes(kind)) return;
  if (v.getUint8(2) === 2) paintPoints(kind, buf);
  else paint(kind, new Blob([new Uint8Array(buf, 24)], { type: 'image/png' }));
}

// Decoded frames wait here and are drawn together in the next animation frame: one draw per panel per
// frame, however fast they arrive.
const pendingPaint = new Map();
let paintScheduled = false;

async function paint(kind, blob) {
  schedulePaint(kind, await createImageBitmap(blob));
}

/** A latent frame sent as points (format 2): drawn by the page, in the same animation frame as the rest. */
function paintPoints(kind, buf) {
  state.pointFrames++;
  schedulePaint(kind, { points: buf, close() {} });
}

function schedulePaint(kind, bitmap) {
  pendingPaint.get(kind)?.close();
  pendingPaint.set(kind, bitmap);
  if (paintScheduled) return;
  paintScheduled = true;
  requestAnimationFrame(() => {
    const t0 = performance.now();
    paintScheduled = false;
    for (const [k, b] of pendingPaint) {
      if (b.points) drawPoints(b.points, $(`panel-${k}`));
      else drawFrame(k, b, $(`panel-${k}`));
      $(`panel-${k}`).dataset.painted = 'true';
      b.close();
      if (k === 'latent') drawOverlay();
    }
    pendingPaint.clear();
    performance.measure('panels-paint', { start: t0, end: performance.now() });
  });
}

// ---- subscriptions ------------------------------------------------------------------------------

/** loss and status always; image and diagnostics streams only for open panels of a visible page. */
function wantedStreams() {
  if (document.visibilityState === 'hidden') return ['loss', 'status'];
  const open = [...document.querySelectorAll('details.panel[open]')].map(d => d.dataset.stream);
  return ['loss', 'status', ...open].filter(s => !state.unsupported.has(s));
}

/** (Re)subscribes the selected job; a repeated subscribe replaces the socket's streams for it. */
async function subscribe() {
  const num = state.selected;
  if (num == null || !state.open) return;
  const streams = wantedStreams();
  if (streams.join() === state.streams.join() && state.subscribedTo === num && state.subscribedSocket === state.ws) return;
  state.streams = streams;
  state.subscribedTo = num;
  state.subscribedSocket = state.ws;
  try {
    await request({ type: 'subscribe', job: num, streams });
    state.subscribes++;
  } catch (e) {
    // A server older than the page does not know every stream (e.g. diagnostics): drop it and ask again.
    const unknown = /unknown stream '([^']+)'/.exec(e.message);
    if (unknown) {
      state.unsupported.add(unknown[1]);
      state.streams = [];
      subscribe();
    } else {
      state.streams = []; // so that the next change asks again
      toast(`Cannot watch this run: ${e.message}`);
    }
  }
}

document.addEventListener('visibilitychange', () => subscribe());
document.querySelectorAll('details.panel').forEach(d => d.addEventListener('toggle', () => subscribe()));

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
    li.onkeydown = e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(j.num); } };
    ul.appendChild(li);
  }
  const j = state.jobs.get(state.selected);
  $('job-title').textContent = j ? `${j.name} — ${j.status}` : 'no run selected';
  if (j?.classes) { fillClasses(j.classes); renderLegend(j.classes); }
}

function formatSeconds(s) {
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function select(num) {
  if (state.selected === num) return;
  if (state.selected != null) send({ type: 'unsubscribe', job: state.selected });
  state.selected = num;
  state.streams = [];
  state.frameSteps = [];
  state.live = true;
  state.plane = null;
  state.livePlane = null;
  state.clickA = null;
  $('live').setAttribute('aria-pressed', 'true');
  chart.reset(null);
  diagnostics.reset();
  setNotes({});
  renderRuns();
  showRunInForm();
  subscribe();
  refreshFrameIndex();
}

function refreshFrameIndex() {
  const j = state.jobs.get(state.selected);
  if (!j) return Promise.resolve();
  return fetch(`api/jobs/${encodeURIComponent(j.id)}/frames`).then(r => r.json()).then(index => {
    const steps = new Set();
    Object.values(index).forEach(list => Array.isArray(list) && list.forEach(s => steps.add(s)));
    state.frameSteps = [...steps].sort((a, b) => a - b);
    updateSlider();
  }).catch(() => {});
}

async function control(type) {
  const j = state.jobs.get(state.selected);
  if (!j) { toast('Select a run first.'); return; }
  if (!await ensureToken()) return;
  request({ type, job: j.num }).catch(e => toast(`${type} failed: ${e.message}`));
}

// ---- token: a dialog, kept in this tab's sessionStorage, and a visible "forget" -------------------

function openTokenDialog(error = '') {
  const dialog = $('token-dialog');
  $('token-input').value = '';
  $('token-error').textContent = error;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise(resolve => dialog.addEventListener('close', () => {
    const t = $('token-input').value.trim();
    resolve(dialog.returnValue === 'save' && t ? t : null);
  }, { once: true }));
}

async function hello() {
  const r = await request({ type: 'hello', version: 1, token: state.token });
  state.authorized = r.authorized;
  updateTokenButtons();
  return r.authorized;
}

/** True once the connection is authorised, asking for the token when none is kept. */
async function ensureToken(error = '') {
  if (state.authorized) return true;
  if (!state.token || error) {
    const t = await openTokenDialog(error);
    if (!t) return false;
    setToken(t);
  }
  try {
    if (await hello()) return true;
    throw new Error('not accepted');
  } catch (e) {
    forgetToken();
    toast(`Token refused: ${e.message}`);
    return false;
  }
}

function setToken(t) {
  state.token = t;
  sessionStorage.setItem(TOKEN_KEY, t);
  updateTokenButtons();
}

/** Drops the token here and on the server: the socket is authorised, so a fresh one replaces it. */
function forgetToken() {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  const wasAuthorized = state.authorized;
  state.authorized = false;
  updateTokenButtons();
  if (wasAuthorized && state.ws) {
    const old = state.ws;
    state.ws = null;
    state.open = false;
    old.close(1000, 'token forgotten');
    state.streams = [];
    connect();
  }
}

function updateTokenButtons() {
  $('token-button').textContent = state.authorized ? 'Token ✓' : state.token ? 'Token (unchecked)' : 'Enter token';
  $('token-forget').hidden = !state.token && !state.authorized;
}

// ---- start form: the selected run's preset and spec, checked as you type --------------------------

async function loadPresets() {
  const presets = await (await fetch('api/presets')).json();
  const sel = $('preset');
  for (const p of presets) {
    if (!p.spec) continue;
    state.presets.set(p.name, p.spec);
    const o = document.createElement('option');
    o.value = p.name;
    o.textContent = p.name;
    o.title = p.description ?? '';
    sel.appendChild(o);
  }
  state.known = knownKeys([...state.presets.values()]);
  sel.onchange = () => { showSpec(state.presets.get(sel.value)); };
  if (!showRunInForm()) showSpec(state.presets.get(sel.value));
}

/** Puts the selected run's preset and spec in the start form; false when there is no run (or no presets yet). */
function showRunInForm() {
  const j = state.jobs.get(state.selected);
  if (!j || !state.presets.size || state.formFor === j.num) return false;
  state.formFor = j.num;
  if (state.presets.has(j.name)) $('preset').value = j.name;
  showSpec(j.spec ?? state.presets.get($('preset').value));
  if (j.epochs) $('epochs').value = j.epochs;
  return true;
}

function showSpec(spec) {
  const { epochs, ...rest } = spec ?? {};
  $('spec').value = spec ? JSON.stringify(rest, null, 1) : '';
  if (epochs) $('epochs').value = epochs;
  validateSpec();
}

function validateSpec() {
  const problem = $('spec').value.trim() ? checkSpec($('spec').value, state.known) : null;
  fieldError('spec', problem);
  return problem;
}

function fieldError(id, message) {
  $(`${id}-error`).textContent = message ?? '';
  if (message) $(id).setAttribute('aria-invalid', 'true'); else $(id).removeAttribute('aria-invalid');
}

/** Same content, whatever the key order. */
function canonical(o) {
  if (Array.isArray(o)) return `[${o.map(canonical).join(',')}]`;
  if (o && typeof o === 'object') return `{${Object.keys(o).sort().map(k => `${JSON.stringify(k)}:${canonical(o[k])}`).join(',')}}`;
  return JSON.stringify(o);
}

$('spec').addEventListener('input', validateSpec);
$('epochs').addEventListener('input', () => {
  const n = Number($('epochs').value);
  fieldError('epochs', Number.isInteger(n) && n >= 1 ? null : '"epochs" must be a whole number ≥ 1');
});

$('start-form').onsubmit = async e => {
  e.preventDefault();
  fieldError('epochs', null);
  const problem = validateSpec();
  if (problem) { $('spec-details').open = true; $('spec').focus(); return; }
  if (!await ensureToken()) return;
  const preset = $('preset').value;
  const text = $('spec').value.trim();
  const { epochs: _, ...presetSpec } = state.presets.get(preset) ?? {};
  const spec = text ? JSON.parse(text) : null;
  const msg = !spec || canonical(spec) === canonical(presetSpec) ? { type: 'start', preset } : { type: 'start', spec };
  const epochs = Number($('epochs').value);
  if (epochs) msg.epochs = epochs;
  try {
    const r = await request(msg);
    state.jobs.set(r.result.num, r.result);
    select(r.result.num);
  } catch (err) {
    // The server names the key: put its message beside the field that holds it.
    if (/"epochs"/.test(err.message) && !(spec && 'epochs' in spec)) fieldError('epochs', err.message);
    else { $('spec-details').open = true; fieldError('spec', err.message); }
  }
};

// ---- history scrubbing: the slider runs over steps, ticks mark the steps with kept images ---------

function addFrameStep(step) {
  const s = state.frameSteps;
  if (s.length && s[s.length - 1] >= step) { if (!s.includes(step)) { s.push(step); s.sort((a, b) => a - b); } } else s.push(step);
  updateSlider();
}

function headStep() {
  return Math.max(chart.lastStep(), state.frameSteps[state.frameSteps.length - 1] ?? 0);
}

let marksScheduled = false;
function updateSlider() {
  const s = $('step-slider');
  const head = headStep();
  s.max = head;
  s.step = 1;
  if (state.live) {
    s.value = head;
    $('step-label').textContent = `live · step ${head}`;
    s.setAttribute('aria-valuetext', `live, step ${head}`);
  }
  if (marksScheduled) return;
  marksScheduled = true;
  requestAnimationFrame(() => { marksScheduled = false; drawMarks(); });
}

function drawMarks() {
  const c = $('slider-marks');
  const w = Math.max(1, Math.round(c.clientWidth * devicePixelRatio)), h = Math.max(1, Math.round(c.clientHeight * devicePixelRatio));
  if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
  const g = c.getContext('2d');
  g.clearRect(0, 0, w, h);
  const head = headStep();
  if (!head) return;
  // The thumb's centre travels between half a thumb (≈8 px) from each end of the track.
  const inset = 8 * devicePixelRatio;
  g.fillStyle = '#2f6fed';
  for (const step of state.frameSteps) g.fillRect(Math.round(inset + (step / head) * (w - 2 * inset)), 0, Math.max(1, devicePixelRatio), h);
}

function setNotes(notes) {
  for (const kind of Object.values(KINDS)) $(`note-${kind}`).textContent = notes[kind] ?? '';
}

let scrubTarget = null, scrubbing = false;
async function scrubTo(step) {
  scrubTarget = step;
  if (scrubbing) return;
  scrubbing = true;
  try {
    while (scrubTarget != null) {
      const target = scrubTarget;
      scrubTarget = null;
      await showStep(target);
    }
  } finally { scrubbing = false; }
}

/**
 * Shows each panel's frame for {@code step}: the one kept at or before it, else that epoch's saved image
 * (labelled so), else "not kept". A frame from after the step is never shown.
 */
async function showStep(step) {
  const j = state.jobs.get(state.selected);
  if (!j) return;
  state.live = step >= headStep();
  if (state.live) state.plane = state.livePlane;
  $('live').setAttribute('aria-pressed', String(state.live));
  $('step-label').textContent = `${state.live ? 'live · ' : ''}step ${step}`;
  $('step-slider').setAttribute('aria-valuetext', `step ${step}`);
  const id = encodeURIComponent(j.id);
  const notes = {};
  await Promise.all(Object.values(KINDS).map(async kind => {
    let r;
    try { r = await fetch(`api/jobs/${id}/frames/${kind}.png?step=${step}`); } catch { notes[kind] = 'not kept'; return; }
    const kept = Number(r.headers.get('X-Step'));
    if (r.ok && r.headers.get('X-Frame-Source') === 'epoch') {
      notes[kind] = `epoch ${r.headers.get('X-Epoch') ?? '?'} image`;
    } else if (!r.ok || (Number.isFinite(kept) && kept > step)) {
      notes[kind] = 'not kept';
      blank(kind);
      return;
    } else if (!state.live && Number.isFinite(kept) && kept < step) {
      notes[kind] = `from step ${kept}`;
    }
    await paint(kind, await r.blob());
  }));
  setNotes(state.live ? {} : notes);
}

function blank(kind) {
  const c = $(`panel-${kind}`);
  c.getContext('2d').clearRect(0, 0, c.width, c.height);
  if (kind === 'latent') { state.plane = null; drawOverlay(); }
}

// ---- latent explorer: pointer and keyboard ------------------------------------------------------

function renderLegend(classes) {
  const ul = $('latent-legend');
  if (ul.dataset.for === classes.join('\u0000')) return;
  ul.dataset.for = classes.join('\u0000');
  ul.innerHTML = '';
  classes.forEach((name, i) => {
    const li = document.createElement('li');
    const swatch = document.createElement('i');
    swatch.style.background = PALETTE[i % PALETTE.length];
    li.append(swatch, document.createTextNode(name));
    ul.appendChild(li);
  });
}

/** Pointer position → plane coordinates, or null outside the plot. */
function pointerToPlane(e) {
  const o = $('latent-overlay');
  if (!state.plane) return null;
  const r = o.getBoundingClientRect();
  const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
  if (fx < 0 || fy < 0 || fx > 1 || fy > 1) return null;
  const [x0, x1, y0, y1] = state.plane;
  return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
}

function planeToPixel([u, v]) {
  const o = $('latent-overlay');
  const [x0, x1, y0, y1] = state.plane;
  return [(u - x0) / (x1 - x0) * o.width, (y1 - v) / (y1 - y0) * o.height];
}

let decodeBusy = false, decodeNext = null;
async function decodeAt(p) {
  if (state.selected == null) return;
  if (decodeBusy) { decodeNext = p; return; }
  decodeBusy = true;
  try {
    const r = await request({ type: 'decode', job: state.selected, plane: p });
    $('hover-decode').src = `data:image/png;base64,${r.result.images[0]}`;
    $('hover-decode').alt = `decode of (${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;
    $('hover-z').textContent = `decoded (${p[0].toFixed(2)}, ${p[1].toFixed(2)})`;
  } catch (err) {
    $('hover-z').textContent = err.code === 'busy' ? 'the trainer is busy; decoding again shortly' : err.message;
    // Rationed: wait as told (at most 2 s), then decode the newest point, not every one missed meanwhile.
    if (err.code === 'busy') {
      await new Promise(done => setTimeout(done, Math.min(2000, Math.max(50, err.retryAfterMs ?? 200))));
      decodeNext = decodeNext ?? p;
    }
  } finally {
    decodeBusy = false;
    if (decodeNext) { const n = decodeNext; decodeNext = null; decodeAt(n); }
  }
}

/** First call marks the start, the second interpolates from it to {@code p}. */
async function markEnd(p) {
  if (!state.clickA) {
    state.clickA = p;
    drawOverlay();
    $('explorer-status').textContent = `interpolation start marked at (${p[0].toFixed(2)}, ${p[1].toFixed(2)}); mark the end`;
    return;
  }
  const a = state.clickA;
  state.clickA = null;
  drawOverlay();
  try {
    const r = await modelRequest({ type: 'interpolate', job: state.selected, from: { plane: a }, to: { plane: p }, steps: 10,
      mode: $('spherical').checked ? 'spherical' : 'linear' },
      () => { $('explorer-status').textContent = 'the trainer is busy; interpolating again shortly'; });
    showStrip(r.result.images);
    $('explorer-status').textContent = `interpolated ${r.result.images.length} images`;
  } catch (err) { toast(`Interpolation failed: ${err.message}`); }
}

function onExplorerKey(e) {
  if (!state.plane) return;
  const [x0, x1, y0, y1] = state.plane;
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  const p = state.cursor ?? [cx, cy];
  const f = e.shiftKey ? 0.1 : 0.02;
  const moves = { ArrowLeft: [-f, 0], ArrowRight: [f, 0], ArrowUp: [0, f], ArrowDown: [0, -f] };
  if (moves[e.key]) {
    e.preventDefault();
    const [dx, dy] = moves[e.key];
    state.cursor = [Math.min(x1, Math.max(x0, p[0] + dx * (x1 - x0))), Math.min(y1, Math.max(y0, p[1] + dy * (y1 - y0)))];
    drawOverlay();
    decodeAt(state.cursor);
  } else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    state.cursor = p;
    markEnd(p);
  } else if (e.key === 'Escape' && state.clickA) {
    state.clickA = null;
    drawOverlay();
    $('explorer-status').textContent = 'interpolation start cleared';
  }
}

function showStrip(images) {
  const strip = $('strip');
  strip.innerHTML = '';
  images.forEach((b64, i) => {
    const img = document.createElement('img');
    img.src = `data:image/png;base64,${b64}`;
    img.alt = `${i + 1} of ${images.length}`;
    strip.appendChild(img);
  });
}

const marker = { point: null, std: null };
function drawOverlay() {
  const base = $('panel-latent'), o = $('latent-overlay');
  if (o.width !== base.width || o.height !== base.height) { o.width = base.width; o.height = base.height; }
  const ctx = o.getContext('2d');
  ctx.clearRect(0, 0, o.width, o.height);
  if (!state.plane) return;
  const s = o.width / 300; // marks keep their size relative to the plot
  if (state.cursor) {
    const [x, y] = planeToPixel(state.cursor);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 1.5 * s;
    ctx.beginPath();
    ctx.moveTo(x - 10 * s, y); ctx.lineTo(x + 10 * s, y); ctx.moveTo(x, y - 10 * s); ctx.lineTo(x, y + 10 * s);
    ctx.stroke();
  }
  if (state.clickA) {
    const [x, y] = planeToPixel(state.clickA);
    ctx.fillStyle = '#111';
    ctx.beginPath(); ctx.arc(x, y, 5 * s, 0, 2 * Math.PI); ctx.fill();
  }
  if (marker.point) {
    const [x, y] = planeToPixel(marker.point);
    const sx = o.width / (state.plane[1] - state.plane[0]), sy = o.height / (state.plane[3] - state.plane[2]);
    ctx.strokeStyle = '#d01884';
    ctx.lineWidth = 2 * s;
    ctx.beginPath();
    ctx.ellipse(x, y, Math.max(3, marker.std[0] * sx), Math.max(3, marker.std[1] * sy), 0, 0, 2 * Math.PI);
    ctx.stroke();
    ctx.fillStyle = '#d01884';
    ctx.beginPath(); ctx.arc(x, y, 4 * s, 0, 2 * Math.PI); ctx.fill();
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
    const r = await modelRequest({ type: 'encode', job: state.selected,
      pixels: Array.from(pixels, v => Math.round(v * 1000) / 1000) });
    $('pad-recon').src = `data:image/png;base64,${r.result.reconstructions[0]}`;
    marker.point = r.result.plane[0];
    marker.std = r.result.planeStd[0];
    drawOverlay();
  } catch (e) {
    toast(`Encode failed: ${e.message}`);
  } finally {
    encodeBusy = false;
    if (encodeAgain) { encodeAgain = false; encodeDrawing(pad.pixels); }
  }
}

const pad = new DrawPad($('pad'), encodeDrawing);

// ---- wiring -------------------------------------------------------------------------------------

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
$('token-button').onclick = async () => {
  const t = await openTokenDialog();
  if (!t) return;
  setToken(t);
  try {
    if (!await hello()) throw new Error('not accepted');
  } catch (e) { forgetToken(); toast(`Token refused: ${e.message}`); }
};
$('token-forget').onclick = () => { forgetToken(); toast('Token forgotten in this tab.'); };
$('pad-clear').onclick = () => { pad.clear(); marker.point = null; drawOverlay(); $('pad-recon').removeAttribute('src'); };
$('log-scale').onchange = e => chart.setLog(e.target.checked);
$('y-range').onchange = e => chart.setRecent(Number(e.target.value));
$('smoothing').oninput = e => chart.setSmoothing(Number(e.target.value));
$('step-slider').oninput = e => {
  if (state.live) refreshFrameIndex();
  scrubTo(Number(e.target.value));
};
$('live').onclick = () => {
  state.live = true;
  state.plane = state.livePlane;
  $('live').setAttribute('aria-pressed', 'true');
  setNotes({});
  updateSlider();
  scrubTo(headStep());
};
$('latent-overlay').onpointermove = e => { const p = pointerToPlane(e); if (p) decodeAt(p); };
$('latent-overlay').onclick = e => { const p = pointerToPlane(e); if (p) markEnd(p); };
$('latent-overlay').onkeydown = onExplorerKey;
$('latent-overlay').onfocus = () => {
  if (state.cursor || !state.plane) return;
  const [x0, x1, y0, y1] = state.plane;
  state.cursor = [(x0 + x1) / 2, (y0 + y1) / 2];
  drawOverlay();
};
$('attr-apply').onclick = async () => {
  try {
    const r = await modelRequest({ type: 'attribute', job: state.selected, from: { index: 0 },
      plus: Number($('attr-plus').value), minus: Number($('attr-minus').value), scale: 1 });
    showStrip(r.result.images);
  } catch (e) { toast(`Attribute failed: ${e.message}`); }
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
window.addEventListener('resize', () => { drawOverlay(); updateSlider(); });

// A token in the address (as `serve` prints it) moves to this tab's storage and out of the address bar,
// so "forget" is not undone by a reload.
const fromUrl = new URLSearchParams(location.search).get('token');
if (fromUrl) {
  sessionStorage.setItem(TOKEN_KEY, fromUrl);
  history.replaceState(null, '', location.pathname);
}
state.token = sessionStorage.getItem(TOKEN_KEY);
updateTokenButtons();
loadPresets().catch(e => toast(`Cannot load presets: ${e.message}`));
connect();
