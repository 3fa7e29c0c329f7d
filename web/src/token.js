// The control token: asked for in a dialog, kept in this tab's sessionStorage, and visibly forgettable.
// Forgetting an authorised socket replaces it, since the server's authorisation belongs to the socket.
import { $, toast } from './ui.js';

const TOKEN_KEY = 'latentstream-token';

export class Token {
  /** {@code onReplaced} runs when forgetting the token replaced the socket. */
  constructor(connection, onReplaced) {
    this.connection = connection;
    this.onReplaced = onReplaced;
    this.authorized = false;
    // A token in the address (as `serve` prints it) moves to this tab's storage and out of the address bar,
    // so "forget" is not undone by a reload.
    const params = new URLSearchParams(location.search);
    const fromUrl = params.get('token');
    if (fromUrl) {
      sessionStorage.setItem(TOKEN_KEY, fromUrl);
      params.delete('token');
      history.replaceState(null, '', location.pathname + (params.size ? `?${params}` : ''));
    }
    this.value = sessionStorage.getItem(TOKEN_KEY);
    $('token-button').onclick = async () => {
      const t = await this.openDialog();
      if (!t) return;
      this.set(t);
      try {
        if (!await this.hello()) throw new Error('not accepted');
      } catch (e) { this.refused(e); }
    };
    // Cancel is a plain button, so Enter in the field submits the form with Save, its only submit button.
    $('token-cancel').onclick = () => $('token-dialog').close('cancel');
    $('token-forget').onclick = () => { this.forget(); toast('Token forgotten in this tab.', 'info'); };
    this.updateButtons();
  }

  /** On a new socket: says hello with the kept token, forgetting it only when the server refuses it. */
  onOpen() {
    if (!this.value) return;
    this.hello().catch(e => { if (e.code === 'unauthorized') { this.forget(); toast(`Token refused: ${e.message}`); } });
  }

  onClose() { this.authorized = false; }

  setAuthorized(authorized) {
    this.authorized = authorized;
    this.updateButtons();
  }

  openDialog(error = '') {
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

  async hello() {
    const r = await this.connection.hello(this.value);
    this.setAuthorized(r.authorized);
    return r.authorized;
  }

  /** True once the connection is authorised, asking for the token when none is kept. */
  async ensure(error = '') {
    if (this.authorized) return true;
    if (!this.value || error) {
      const t = await this.openDialog(error);
      if (!t) return false;
      this.set(t);
    }
    try {
      if (await this.hello()) return true;
      throw new Error('not accepted');
    } catch (e) {
      this.refused(e);
      return false;
    }
  }

  /** A hello that failed: the token is forgotten only when the server refused it, not when the socket was down. */
  refused(e) {
    if (e.code === 'not_connected' || e.message === 'connection lost') {
      toast(`Cannot check the token: ${e.message === 'connection lost' ? 'the connection was lost' : 'not connected'}; `
        + 'it is kept, try again once the page is live');
      return;
    }
    this.forget();
    toast(`Token refused: ${e.message}`);
  }

  set(t) {
    this.value = t;
    sessionStorage.setItem(TOKEN_KEY, t);
    this.updateButtons();
  }

  /** Drops the token here and on the server: the socket is authorised, so a fresh one replaces it. */
  forget() {
    this.value = null;
    sessionStorage.removeItem(TOKEN_KEY);
    const wasAuthorized = this.authorized;
    this.authorized = false;
    this.updateButtons();
    if (wasAuthorized && this.connection.ws) {
      this.connection.replace('token forgotten');
      this.onReplaced();
    }
  }

  updateButtons() {
    $('token-button').textContent = this.authorized ? 'Token ✓' : this.value ? 'Token (unchecked)' : 'Enter token';
    $('token-forget').hidden = !this.value && !this.authorized;
  }
}
