// The one WebSocket: connects, reconnects spread by full jitter, sends, and matches replies to requests
// by id. What the messages mean is the caller's: JSON goes to onMessage, binary frames to onFrame.
import { reconnectDelay } from './backoff.js';
import { VERSION } from './protocol.js';

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
  }

  connect() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.onState('connecting…', '');
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
    ws.onmessage = e => (typeof e.data === 'string' ? this.receive(JSON.parse(e.data)) : this.onFrame(e.data));
    ws.onclose = e => {
      if (this.ws !== ws) return;
      this.open = false;
      for (const [, p] of this.pending) p.reject(new Error('connection lost'));
      this.pending.clear();
      const wait = reconnectDelay(this.attempt++);
      this.outage ??= { closedAt: Date.now(), waits: [] };
      this.outage.waits.push(wait);
      this.onState(`disconnected${e.reason ? ': ' + e.reason : ''} — retrying in ${(wait / 1000).toFixed(1)} s`, 'closed');
      this.onClose?.();
      setTimeout(() => this.connect(), wait);
    };
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
