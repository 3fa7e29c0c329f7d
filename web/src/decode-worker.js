// The page's decoder thread for strips (interpolation, attribute vectors: many images at once): holds the
// newest decoder weights, turns codes into pixels (decoder.js) and, where it has an OffscreenCanvas, paints them
// and hands the main thread ImageBitmaps (transferred, not copied), so the main thread only draws them. Without
// one it sends the pixels. A hover's single image is decoded on the main thread instead (hover.js): the round
// trip here could not land in the frame of the move.
import { grayImageData, mlpDecoder, parseSafetensors } from './decoder.js';

let decoder = null;
let canvas = null;
self.onmessage = e => {
  const { id, weights, zs, bitmaps } = e.data;
  try {
    if (weights) { decoder = mlpDecoder(parseSafetensors(weights)); self.postMessage({ id, step: decoder.step }); return; }
    if (!decoder) throw new Error('no weights yet');
    for (const z of zs) if (z.length !== decoder.latent) throw new Error(`code has ${z.length} numbers, the decoder takes ${decoder.latent}`);
    const { width, height } = decoder;
    const images = zs.map(z => decoder.decode(z));
    if (bitmaps && typeof OffscreenCanvas === 'function') {
      if (!canvas || canvas.width !== width || canvas.height !== height) canvas = new OffscreenCanvas(width, height);
      const g = canvas.getContext('2d');
      const out = images.map(p => { g.putImageData(grayImageData(p, width, height), 0, 0); return canvas.transferToImageBitmap(); });
      self.postMessage({ id, bitmaps: out }, out);
      return;
    }
    self.postMessage({ id, images, width, height }, images.map(p => p.buffer));
  } catch (err) { self.postMessage({ id, error: err.message }); }
};
