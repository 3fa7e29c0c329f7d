// Live settings: the form that changes a running job's learning rate, β or noise (`set`, with the token).
import { $, toast } from './ui.js';

const FIELDS = [['lr', 'set-lr'], ['beta', 'set-beta'], ['noise', 'set-noise']];

export class LiveSettings {
  constructor(connection, token, runs) {
    $('settings-form').onsubmit = async e => {
      e.preventDefault();
      if (!await token.ensure()) return;
      for (const [key, id] of FIELDS) {
        const raw = $(id).value;
        if (raw === '') continue;
        try {
          await connection.request({ type: 'set', job: runs.selected, key, value: Number(raw) });
          $(id).value = '';
        } catch (err) { toast(`Setting ${key} refused: ${err.message}`); }
      }
    };
  }
}
