// Frame images as the panels show them.
//
// The reconstruction frame is a grid of original|reconstruction pairs, 16 tiles wide and 4 high (a strip
// that would leave most of a square card empty). Knowing the renderer's layout (tiles separated and
// surrounded by a 2-pixel gap), the page stacks its right half under its left half: 8 tiles wide, 8 high.
// Anything that does not match that layout is shown as it came.
import { framePoints } from './protocol.js';

export const GAP = 2;
const RECON_TILE_COLUMNS = 16;

/** The square-ish canvas layout of a reconstruction frame, or null to show it as is. */
export function reconLayout(width, height) {
  const tile = (width - (RECON_TILE_COLUMNS + 1) * GAP) / RECON_TILE_COLUMNS;
  if (!Number.isInteger(tile) || tile < 1 || width < 2 * height) return null;
  const half = (width + GAP) / 2;
  return { width: half, height: 2 * height - GAP, half };
}

/**
 * Paints a decoded frame onto its panel's canvas, re-tiling or cropping as the kind needs; {@code maxSide}
 * (pixels) shrinks it to fit, for a canvas shown smaller than the frame (a smaller backing store is less to
 * paint and to hand to the compositor).
 */
export function drawFrame(kind, bitmap, canvas, maxSide = Infinity) {
  let w = bitmap.width, h = bitmap.height;
  const recon = kind === 'recon' ? reconLayout(w, h) : null;
  if (recon) { w = recon.width; h = recon.height; }
  // The latent frame's plot is its left height x height square; the page draws the legend itself.
  if (kind === 'latent') w = Math.min(w, h);
  const s = Math.min(1, maxSide / Math.max(w, h));
  const cw = Math.max(1, Math.round(w * s)), ch = Math.max(1, Math.round(h * s));
  if (canvas.width !== cw || canvas.height !== ch) { canvas.width = cw; canvas.height = ch; }
  const g = canvas.getContext('2d');
  g.setTransform(cw / w, 0, 0, ch / h, 0, 0);
  if (recon) {
    g.drawImage(bitmap, 0, 0, recon.half, bitmap.height, 0, 0, recon.half, bitmap.height);
    g.drawImage(bitmap, bitmap.width - recon.half, 0, recon.half, bitmap.height,
      0, bitmap.height - GAP, recon.half, bitmap.height);
  } else {
    g.drawImage(bitmap, 0, 0, w, h, 0, 0, w, h);
  }
  g.setTransform(1, 0, 0, 1, 0, 0);
}

/** The renderer's class colours (tab10), for the legend the page draws beside the latent plot. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf'];

/**
 * Paints a latent frame sent as points (binary format 2, see protocol.md): the plot square, its zero axes
 * and one translucent disc per point in its class colour, the way the server's PNG draws them.
 */
export function drawPoints(buf, canvas) {
  const { size, range: [x0, x1, y0, y1], count, x, y, labels } = framePoints(buf);
  if (canvas.width !== size || canvas.height !== size) { canvas.width = size; canvas.height = size; }
  const g = canvas.getContext('2d');
  g.globalAlpha = 1;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, size, size);
  g.fillStyle = '#ddd';
  const zx = Math.round((0 - x0) / (x1 - x0) * (size - 1)), zy = Math.round((y1 - 0) / (y1 - y0) * (size - 1));
  if (zx > 0 && zx < size - 1) g.fillRect(zx, 1, 1, size - 2);
  if (zy > 0 && zy < size - 1) g.fillRect(1, zy, size - 2, 1);
  const scale = (size - 1) / 65535;
  g.globalAlpha = POINT_ALPHA;
  const edge = size - 1 - R;
  // One path per class: ten fill calls, however many points.
  for (let c = 0; c < PALETTE.length; c++) {
    g.beginPath();
    for (let i = 0; i < count; i++) {
      if (labels[i] % PALETTE.length !== c) continue;
      // Points on the range's edge (the range holds 99% of them) are drawn whole, just inside the plot.
      const px = Math.min(edge, Math.max(R, x(i) * scale)), py = Math.min(edge, Math.max(R, (65535 - y(i)) * scale));
      g.moveTo(px + R, py);
      g.arc(px, py, R, 0, 2 * Math.PI);
    }
    g.fillStyle = PALETTE[c];
    g.fill();
  }
  g.globalAlpha = 1;
}

/** A point's radius in pixels. */
const R = 2.2;

/** The opacity of one point, as in the server's PNG. */
const POINT_ALPHA = 176 / 255;
