// The page's decoder thread: holds the newest decoder weights and turns codes into pixels (decoder.js).
import { mlpDecoder, parseSafetensors } from './decoder.js';

let decoder = null;
self.onmessage = e => {
  const { id, weights, zs } = e.data;
  try {
    if (weights) { decoder = mlpDecoder(parseSafetensors(weights)); self.postMessage({ id, step: decoder.step }); return; }
    if (!decoder) throw new Error('no weights yet');
    for (const z of zs) if (z.length !== decoder.latent) throw new Error(`code has ${z.length} numbers, the decoder takes ${decoder.latent}`);
    const images = zs.map(z => decoder.decode(z));
    self.postMessage({ id, images, width: decoder.width, height: decoder.height }, images.map(p => p.buffer));
  } catch (err) { self.postMessage({ id, error: err.message }); }
};
