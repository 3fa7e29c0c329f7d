// Small page helpers shared by the modules: element lookup, the toast and a form field's error line.
export const $ = id => document.getElementById(id);

/** Shows {@code text} for 6 s; {@code kind} 'info' for news, 'error' (the default) for failures. */
export function toast(text, kind = 'error') {
  const t = $('toast');
  t.textContent = text;
  t.dataset.kind = kind;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 6000);
}

export function fieldError(id, message) {
  $(`${id}-error`).textContent = message ?? '';
  if (message) $(id).setAttribute('aria-invalid', 'true'); else $(id).removeAttribute('aria-invalid');
}

export function formatSeconds(s) {
  return s >= 3600 ? `${Math.floor(s / 3600)}h${Math.round((s % 3600) / 60)}m` : s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}
