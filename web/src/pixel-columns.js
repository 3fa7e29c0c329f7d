// One grid of pixel columns for several runs' curves: what the compare chart hands to uPlot.
import { Lod } from './lod.js';

/**
 * Several series ([{x: [], y: []}], x in any order, y null where absent) on one shared grid of {@code width}
 * pixel columns over their common x range: uPlot data [xs, ys1, ys2, ...] with two slots per column, holding
 * the column's min and max of each series in the order they occur (null where a series has no point). A spike
 * stays the max of its column, so it stays drawn; nothing is sorted or joined. Each series' points are first
 * reduced to at most two per column by its own Lod (kept incrementally), and its column values are cached on
 * the series ({@code s.view}) until it grows, the grid moves or the axis changes between log and linear, so a
 * redraw costs the new points plus series x width. On a log axis values at or below 0 are left out.
 */
export function pixelColumns(series, width, log = false) {
  const keep = log ? v => v > 0 && Number.isFinite(v) : Number.isFinite;
  const picks = series.map(s => {
    const n = Math.min(s.x.length, s.y.length);
    if (s.view && s.view.n === n && s.view.log === log && s.view.width === width) return s.view;
    let idx;
    if (n <= width * 2) {
      idx = [];
      for (let i = 0; i < n; i++) if (s.y[i] != null && keep(s.y[i])) idx.push(i);
    } else {
      if (!s.lod || s.lod.ref !== s.y || s.lod.log !== log) { s.lod = new Lod(s.y, keep); s.lod.log = log; }
      idx = s.lod.indices(n, width);
    }
    idx = idx.filter(i => s.x[i] != null && Number.isFinite(s.x[i]));
    let x0 = Infinity, x1 = -Infinity;
    for (const i of idx) { const x = s.x[i]; if (x < x0) x0 = x; if (x > x1) x1 = x; }
    s.view = { n, log, width, idx, x0, x1, grid: null, ys: null };
    return s.view;
  });
  let x0 = Infinity, x1 = -Infinity;
  for (const p of picks) { if (p.x0 < x0) x0 = p.x0; if (p.x1 > x1) x1 = p.x1; }
  if (!(x0 <= x1)) return [[], ...series.map(() => [])];
  const cols = x1 > x0 ? width : 1, slots = cols * 2;
  const grid = `${x0}:${x1}:${cols}`;
  const xs = new Array(slots);
  for (let k = 0; k < slots; k++) xs[k] = cols === 1 ? x0 + k : x0 + (k * (x1 - x0)) / (slots - 1);
  const scale = cols / (x1 - x0 || 1);
  const out = [xs];
  series.forEach((s, j) => {
    const p = picks[j];
    if (p.grid !== grid) {
      const lo = new Int32Array(cols).fill(-1), hi = new Int32Array(cols).fill(-1);
      for (const i of p.idx) {
        const c = Math.min(cols - 1, Math.floor((s.x[i] - x0) * scale));
        const v = s.y[i];
        if (lo[c] < 0 || v < s.y[lo[c]]) lo[c] = i;
        if (hi[c] < 0 || v > s.y[hi[c]]) hi[c] = i;
      }
      const ys = new Array(slots).fill(null);
      for (let c = 0; c < cols; c++) {
        if (lo[c] < 0) continue;
        const [a, b] = lo[c] <= hi[c] ? [lo[c], hi[c]] : [hi[c], lo[c]];
        ys[2 * c] = s.y[a];
        if (b !== a) ys[2 * c + 1] = s.y[b];
      }
      Object.assign(p, { grid, ys });
    }
    out.push(p.ys);
  });
  return out;
}
