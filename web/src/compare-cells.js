// The compare view's image cells: a run's frame of one stream nearest at or before a step, fetched from
// the server's kept frames, and the per-pixel difference |a − b| of two runs' images.

/**
 * Run {@code job}'s frame of {@code kind} at or before {@code step} (null: the newest), as a cell item
 * {row, kind, step, bitmap, note}: the bitmap is null, and the note says why, when there is no such frame.
 */
export async function fetchFrame(job, kind, step) {
  const row = String(job.num);
  const q = step == null ? '' : `?step=${step}`;
  let r;
  try { r = await fetch(`api/jobs/${encodeURIComponent(job.id)}/frames/${kind}.png${q}`); } catch { r = null; }
  const kept = Number(r?.headers.get('X-Step'));
  if (!r || !r.ok || (step != null && Number.isFinite(kept) && r.headers.get('X-Step') != null && kept > step)) {
    return { row, kind, step: null, bitmap: null, note: step == null ? 'no frame yet' : `no frame at step ${step} or before` };
  }
  const epoch = r.headers.get('X-Frame-Source') === 'epoch';
  const bitmap = await createImageBitmap(await r.blob());
  const at = r.headers.get('X-Step') != null ? kept : null;
  const note = epoch ? `epoch ${r.headers.get('X-Epoch') ?? '?'} image` : step != null && at != null && at < step ? `from step ${at}` : '';
  return { row, kind, step: at, bitmap, note };
}

/** Paints |a − b| per pixel and channel of canvases {@code a} and {@code b} into {@code out}; false when they differ in size. */
export function drawDifference(a, b, out) {
  if (!a || !b || a.width !== b.width || a.height !== b.height || !a.width) return false;
  const pa = a.getContext('2d').getImageData(0, 0, a.width, a.height).data;
  const pb = b.getContext('2d').getImageData(0, 0, b.width, b.height).data;
  const d = new ImageData(a.width, a.height);
  for (let i = 0; i < pa.length; i += 4) {
    d.data[i] = Math.abs(pa[i] - pb[i]);
    d.data[i + 1] = Math.abs(pa[i + 1] - pb[i + 1]);
    d.data[i + 2] = Math.abs(pa[i + 2] - pb[i + 2]);
    d.data[i + 3] = 255;
  }
  out.width = a.width;
  out.height = a.height;
  out.getContext('2d').putImageData(d, 0, 0);
  return true;
}
