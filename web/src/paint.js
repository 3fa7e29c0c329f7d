// Decoded images onto canvases: the explorer's hover image and its strips. Each canvas counts its paints in
// data-painted (tests and benchmarks wait on it) and says what it shows in aria-label, for screen readers.

/** A base64 PNG of the server's → an ImageBitmap, drawn as the page's own decodes are. */
export const pngBitmap = b64 => createImageBitmap(new Blob([Uint8Array.from(atob(b64), c => c.charCodeAt(0))], { type: 'image/png' }));

function sized(canvas, width, height) {
  if (canvas.width !== width || canvas.height !== height) { canvas.width = width; canvas.height = height; }
  return canvas.getContext('2d');
}

function painted(canvas, label) {
  canvas.setAttribute('aria-label', label);
  canvas.dataset.painted = String(Number(canvas.dataset.painted ?? 0) + 1);
}

/** Draws {@code bitmap} (then closed) on {@code canvas} at the bitmap's size; CSS scales it. */
export function paint(canvas, bitmap, label) {
  sized(canvas, bitmap.width, bitmap.height).drawImage(bitmap, 0, 0);
  bitmap.close();
  painted(canvas, label);
}

/** Puts {@code image} (ImageData) on {@code canvas} at its size, at once: no bitmap to wait for. */
export function paintPixels(canvas, image, label) {
  sized(canvas, image.width, image.height).putImageData(image, 0, 0);
  painted(canvas, label);
}
