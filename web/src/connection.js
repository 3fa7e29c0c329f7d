// The one WebSocket: connects, reconnects spread by full jitter, sends, and matches replies to requests
// by id. What the messages mean is the caller's: JSON goes to onMessage, binary frames to onFrame.
import { reconnectDelay } from './backoff.js';
import { VERSION } from './protocol.js';

// Liveness: a pulled cable, a frozen host or a black-holing balancer closes nothing, so the socket would
// show "live" until the browser's TCP gives up (minutes). A socket that has carried nothing for QUIET_MS
// gets a `ping`; if nothing at all arrives within DEADLINE_MS after it, the socket is taken for dead and
// replaced with the usual back-off. A training stream talks many times a second, so a busy page never pings.
// A test shortens both by defining window.latentstreamLiveness = { quietMs, deadlineMs } before the page loads.
const LIVENESS = globalThis.latentstreamLiveness ?? {};
export const QUIET_MS = LIVENESS.quietMs ?? 10000;
export const DEADLINE_MS = LIVENESS.deadlineMs ?? 10000;

export class Connection {
  /** Callbacks: onOpen(), onMessage(json), onFrame(arrayBuffer), onState(text, cssClass). */
  constructor({ onOpen, onMessage, onFrame, onState }) {
    Object.assign(this, { onOpen, onMessage, onFrame, onState });
    this.ws = null;
    this.open = false;
    this.attempt = 0;
    this.nextId = 1;
    this.pending = new Map();
    this.outage = null;
    this.lastOutage = null;
    this.connectedAt = null;
    this.heardAt = 0; // when the current socket last carried anything (or was opened)
    this.pingedAt = null; // when the silence was answered with a ping, until anything arrives
    this.watchdog = null;
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.onState('connecting…', '');
    this.heard();
    this.watch(ws);
    ws.onopen = () => {
      this.open = true;
      this.attempt = 0;
      this.connectedAt = Date.now(); // read by the reconnect test
      // The outage just ended: when it began and the back-off waits drawn during it (read by the reconnect test).
      if (this.outage) this.lastOutage = { ...this.outage, connectedAt: this.connectedAt };
      this.outage = null;
      this.onState('live', 'open');
      this.onOpen();
    };
    ws.onmessage = e => {
      this.heard();
      if (typeof e.data === 'string') this.receive(JSON.parse(e.data));
      else this.onFrame(e.data);
    };
    ws.onclose = e => {
      if (this.ws === ws) this.lost(e.reason);
    };
  }

  /** The current socket is gone (closed, or silent past the deadline): tell, and reconnect after a back-off. */
  lost(reason) {
    clearTimeout(this.watchdog);
    this.open = false;
    for (const [, p] of this.pending) p.reject(new Error('connection lost'));
    this.pending.clear();
    const wait = reconnectDelay(this.attempt++);
    this.outage ??= { closedAt: Date.now(), waits: [] };
    this.outage.waits.push(wait);
    this.onState(`disconnected${reason ? ': ' + reason : ''} — retrying in ${(wait / 1000).toFixed(1)} s`, 'closed');
    this.onClose?.();
    setTimeout(() => this.connect(), wait);
  }

  heard() {
    this.heardAt = Date.now();
    this.pingedAt = null;
  }

  /**
   * One timer per socket, re-armed from its own callback rather than on every message: after QUIET_MS of
   * silence it pings (a socket still opening cannot, and just waits), and after DEADLINE_MS more with nothing
   * heard it drops the socket. A dead link may not even complete a close handshake, so the page detaches
   * the old socket and goes on at once instead of waiting for its close event.
   */
  watch(ws) {
    clearTimeout(this.watchdog);
    const check = () => {
      if (this.ws !== ws) return;
      const now = Date.now();
      if (this.pingedAt == null) {
        const quiet = now - this.heardAt;
        if (quiet < QUIET_MS) { this.watchdog = setTimeout(check, QUIET_MS - quiet); return; }
        this.pingedAt = now;
        if (this.open) this.request({ type: 'ping' }).catch(() => {}); // a lost socket rejects it; lost() tells
        this.watchdog = setTimeout(check, DEADLINE_MS);
        return;
      }
      const silent = Math.round((now - this.heardAt) / 1000);
      this.ws = null;
      ws.close(4000, 'no answer');
      this.lost(`no answer from the server for ${silent} s`);
    };
    this.watchdog = setTimeout(check, QUIET_MS);
  }

  /** Closes this socket on purpose and opens a fresh one at once (e.g. to drop its authorisation). */
  replace(reason) {
    const old = this.ws;
    this.ws = null;
    this.open = false;
    old?.close(1000, reason);
    this.connect();
  }

  /** A reply to a pending request settles it; anything else goes to onMessage. */
  receive(m) {
    const id = m.id != null ? String(m.id) : null;
    if (id != null && this.pending.has(id)) {
      const p = this.pending.get(id);
      this.pending.delete(id);
      if (m.type === 'error') p.reject(Object.assign(new Error(m.message), { code: m.code, retryAfterMs: m.retryAfterMs }));
      else p.resolve(m);
      return;
    }
    this.onMessage(m);
  }

  send(msg) {
    if (this.open) this.ws.send(JSON.stringify(msg));
  }

  /** A request whose reply carries the same id; an `error` reply rejects with its code and message. */
  request(msg) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      if (!this.open) { reject(Object.assign(new Error('not connected'), { code: 'not_connected' })); return; }
      this.pending.set(id, { resolve, reject });
      this.send({ ...msg, id });
    });
  }

  /**
   * A model request (encode, interpolate, attribute) that waits out `busy` replies as the server says, at most
   * 2 s a time and 20 s in all, telling {@code onWait} each time; any other error, or a busy trainer past that,
   * rejects as {@link request} does.
   */
  async modelRequest(msg, onWait) {
    const deadline = Date.now() + 20000;
    for (;;) {
      try {
        return await this.request(msg);
      } catch (err) {
        if (err.code !== 'busy' || Date.now() > deadline) throw err;
        const wait = Math.min(2000, Math.max(50, err.retryAfterMs ?? 200));
        onWait?.(wait);
        await new Promise(done => setTimeout(done, wait));
      }
    }
  }

  hello(token) {
    return this.request({ type: 'hello', version: VERSION, token });
  }
}
