// The page's decoder thread: holds the newest decoder weights and turns codes into pixels (decoder.js).
import { mlpDecoder, parseSafetensors } from './decoder.js';

let decoder = null;
self.onmessage = e => {
  const { id, weights, z } = e.data;
  try {
    if (weights) { decoder = mlpDecoder(parseSafetensors(weights)); self.postMessage({ id, step: decoder.step }); return; }
    if (!decoder) throw new Error('no weights yet');
    if (z.length !== decoder.latent) throw new Error(`code has ${z.length} numbers, the decoder takes ${decoder.latent}`);
    const pixels = decoder.decode(z);
    self.postMessage({ id, pixels, width: decoder.width, height: decoder.height }, [pixels.buffer]);
  } catch (err) { self.postMessage({ id, error: err.message }); }
};
