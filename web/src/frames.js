// Frame images as the panels show them.
//
// The reconstruction frame is a grid of original|reconstruction pairs, 16 tiles wide and 4 high (a strip
// that would leave most of a square card empty). Knowing the renderer's layout (tiles separated and
// surrounded by a 2-pixel gap), the page stacks its right half under its left half: 8 tiles wide, 8 high.
// Anything that does not match that layout is shown as it came.
export const GAP = 2;
const RECON_TILE_COLUMNS = 16;

/** The square-ish canvas layout of a reconstruction frame, or null to show it as is. */
export function reconLayout(width, height) {
  const tile = (width - (RECON_TILE_COLUMNS + 1) * GAP) / RECON_TILE_COLUMNS;
  if (!Number.isInteger(tile) || tile < 1 || width < 2 * height) return null;
  const half = (width + GAP) / 2;
  return { width: half, height: 2 * height - GAP, half };
}

/** Paints a decoded frame onto its panel's canvas, re-tiling or cropping as the kind needs. */
export function drawFrame(kind, bitmap, canvas) {
  let w = bitmap.width, h = bitmap.height;
  const recon = kind === 'recon' ? reconLayout(w, h) : null;
  if (recon) { w = recon.width; h = recon.height; }
  // The latent frame's plot is its left height x height square; the page draws the legend itself.
  if (kind === 'latent') w = Math.min(w, h);
  if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
  const g = canvas.getContext('2d');
  if (recon) {
    g.drawImage(bitmap, 0, 0, recon.half, bitmap.height, 0, 0, recon.half, bitmap.height);
    g.drawImage(bitmap, bitmap.width - recon.half, 0, recon.half, bitmap.height,
      0, bitmap.height - GAP, recon.half, bitmap.height);
  } else {
    g.drawImage(bitmap, 0, 0, w, h, 0, 0, w, h);
  }
}

/** The renderer's class colours (tab10), for the legend the page draws beside the latent plot. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f',
  '#bcbd22', '#17becf'];
