// The wire, as the page sees it: the one place that knows message types, the binary frame header's
// offsets and the frame kinds (web/api/protocol.md is the reference; a test holds these tables to it).
// Everything else in the page asks this module.

export const VERSION = 1;

/** Binary frames: the 24-byte big-endian header's fields, by byte offset. */
export const FRAME_HEADER = Object.freeze({
  version: 0, // u8
  kind: 1, // u8
  format: 2, // u8
  reserved: 3, // u8
  job: 4, // u32
  step: 8, // u64
  epoch: 16, // u32
  width: 20, // u16
  height: 22, // u16
  payload: 24, // PNG bytes (format 1) or the points (format 2)
});
export const FRAME_HEADER_BYTES = 24;

/** Frame kinds by their code in the header; the same names are the image streams of `subscribe`. */
export const FRAME_KINDS = Object.freeze({ 1: 'recon', 2: 'samples', 3: 'latent', 4: 'manifold' });
export const IMAGE_STREAMS = Object.freeze(Object.values(FRAME_KINDS));

/** Frame formats by their code in the header. */
export const FRAME_FORMATS = Object.freeze({ 1: 'png', 2: 'points' });

/** Format 2 (a latent frame as points): its fields after the header, by byte offset. */
export const POINTS = Object.freeze({
  range: 24, // 4 × f32: xMin, xMax, yMin, yMax
  count: 40, // u32
  points: 44, // count × (u16 x, u16 y); then count × u8 class labels
});

/** Message types the page sends; each that expects a reply names it. */
export const REQUESTS = Object.freeze({
  hello: 'hello', subscribe: 'subscribed', unsubscribe: 'unsubscribed', start: 'started', pause: 'paused',
  resume: 'resumed', stop: 'stopped', delete: 'deleted', set: 'set', decode: 'decoded', encode: 'encoded',
  interpolate: 'interpolated', attribute: 'attributed', ping: 'pong',
});

/** Message types the server sends unasked. */
export const EVENTS = Object.freeze(['welcome', 'status', 'history', 'loss', 'epoch', 'setting', 'plane', 'log',
  'diagnostics', 'warning', 'deleted', 'error']);

/** A binary frame's header and payload; kind is null for a kind this page does not know. */
export function readFrame(buf) {
  const v = new DataView(buf);
  return {
    version: v.getUint8(FRAME_HEADER.version),
    kind: FRAME_KINDS[v.getUint8(FRAME_HEADER.kind)] ?? null,
    format: FRAME_FORMATS[v.getUint8(FRAME_HEADER.format)] ?? null,
    job: v.getUint32(FRAME_HEADER.job),
    step: Number(v.getBigUint64(FRAME_HEADER.step)),
    epoch: v.getUint32(FRAME_HEADER.epoch),
    width: v.getUint16(FRAME_HEADER.width),
    height: v.getUint16(FRAME_HEADER.height),
    buffer: buf,
  };
}

/** A format-1 frame's PNG, ready for createImageBitmap. */
export function framePng(buf) {
  return new Blob([new Uint8Array(buf, FRAME_HEADER.payload)], { type: 'image/png' });
}

/** A format-2 frame's points: the plane's range, and per point its position in 0..65535 and class label. */
export function framePoints(buf) {
  const v = new DataView(buf);
  const count = v.getUint32(POINTS.count);
  const r = POINTS.range;
  return {
    size: v.getUint16(FRAME_HEADER.height) || 512,
    range: [v.getFloat32(r), v.getFloat32(r + 4), v.getFloat32(r + 8), v.getFloat32(r + 12)],
    count,
    x: i => v.getUint16(POINTS.points + 4 * i),
    y: i => v.getUint16(POINTS.points + 4 * i + 2),
    labels: new Uint8Array(buf, POINTS.points + 4 * count, count),
  };
}

/**
 * The plane message a latent frame fetched over REST carries in its X-Plane header (a kept frame has one, an
 * epoch's saved image none): {range, origin, axes}, or null.
 */
export function framePlane(response) {
  try {
    const m = JSON.parse(response.headers.get('X-Plane'));
    return Array.isArray(m?.range) ? m : null;
  } catch { return null; }
}
