// The marks over the latent plot, and the mapping between its pixels and plane coordinates: the keyboard
// cursor, an interpolation's first end, and a drawing's encoding (its mean, and one standard deviation).
import { $ } from './ui.js';

export class LatentOverlay {
  constructor() {
    this.canvas = $('latent-overlay');
    this.base = $('panel-latent');
  }

  /** Pointer event → plane coordinates within {@code plane} ([x0, x1, y0, y1]), or null outside the plot. */
  toPlane(plane, e) {
    if (!plane) return null;
    const r = this.canvas.getBoundingClientRect();
    const fx = (e.clientX - r.left) / r.width, fy = (e.clientY - r.top) / r.height;
    if (fx < 0 || fy < 0 || fx > 1 || fy > 1) return null;
    const [x0, x1, y0, y1] = plane;
    return [x0 + fx * (x1 - x0), y1 - fy * (y1 - y0)];
  }

  toPixel(plane, [u, v]) {
    const o = this.canvas;
    const [x0, x1, y0, y1] = plane;
    return [(u - x0) / (x1 - x0) * o.width, (y1 - v) / (y1 - y0) * o.height];
  }

  /** Draws {@code cursor}, {@code clickA} and {@code marker} ({point, std}) of {@code plane}; nothing without one. */
  draw(plane, { cursor, clickA, marker }) {
    const base = this.base, o = this.canvas;
    if (o.width !== base.width || o.height !== base.height) { o.width = base.width; o.height = base.height; }
    const ctx = o.getContext('2d');
    ctx.clearRect(0, 0, o.width, o.height);
    if (!plane) return;
    const s = o.width / 300; // marks keep their size relative to the plot
    if (cursor) {
      const [x, y] = this.toPixel(plane, cursor);
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 1.5 * s;
      ctx.beginPath();
      ctx.moveTo(x - 10 * s, y); ctx.lineTo(x + 10 * s, y); ctx.moveTo(x, y - 10 * s); ctx.lineTo(x, y + 10 * s);
      ctx.stroke();
    }
    if (clickA) {
      const [x, y] = this.toPixel(plane, clickA);
      ctx.fillStyle = '#111';
      ctx.beginPath(); ctx.arc(x, y, 5 * s, 0, 2 * Math.PI); ctx.fill();
    }
    if (marker.point) {
      const [x, y] = this.toPixel(plane, marker.point);
      const sx = o.width / (plane[1] - plane[0]), sy = o.height / (plane[3] - plane[2]);
      ctx.strokeStyle = '#d01884';
      ctx.lineWidth = 2 * s;
      ctx.beginPath();
      ctx.ellipse(x, y, Math.max(3, marker.std[0] * sx), Math.max(3, marker.std[1] * sy), 0, 0, 2 * Math.PI);
      ctx.stroke();
      ctx.fillStyle = '#d01884';
      ctx.beginPath(); ctx.arc(x, y, 4 * s, 0, 2 * Math.PI); ctx.fill();
    }
  }
}
