// A 28×28 drawing pad: pointer strokes paint a soft brush into a Float32Array of pixels in [0, 1];
// every change is reported (the caller throttles the encode requests).
export class DrawPad {
  constructor(canvas, onChange, side = 28) {
    this.canvas = canvas;
    this.side = side;
    this.pixels = new Float32Array(side * side);
    this.onChange = onChange;
    this.down = false;
    canvas.addEventListener('pointerdown', e => { this.down = true; canvas.setPointerCapture(e.pointerId); this.paint(e); });
    canvas.addEventListener('pointermove', e => { if (this.down) this.paint(e); });
    canvas.addEventListener('pointerup', () => { this.down = false; });
    canvas.addEventListener('keydown', e => { if (e.key === 'Delete' || e.key === 'Backspace') this.clear(); });
    this.render();
  }

  paint(e) {
    const r = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) / r.width) * this.side;
    const y = ((e.clientY - r.top) / r.height) * this.side;
    for (let j = Math.floor(y - 2); j <= Math.ceil(y + 2); j++) {
      for (let i = Math.floor(x - 2); i <= Math.ceil(x + 2); i++) {
        if (i < 0 || j < 0 || i >= this.side || j >= this.side) continue;
        const d = Math.hypot(i + 0.5 - x, j + 0.5 - y);
        const v = Math.max(0, Math.min(1, 1.6 - d));
        this.pixels[j * this.side + i] = Math.max(this.pixels[j * this.side + i], v);
      }
    }
    this.render();
    this.onChange(this.pixels);
  }

  clear() {
    this.pixels.fill(0);
    this.render();
  }

  render() {
    const ctx = this.canvas.getContext('2d');
    const cell = this.canvas.width / this.side;
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    for (let k = 0; k < this.pixels.length; k++) {
      const v = this.pixels[k];
      if (!v) continue;
      const g = Math.round(v * 255);
      ctx.fillStyle = `rgb(${g},${g},${g})`;
      ctx.fillRect((k % this.side) * cell, Math.floor(k / this.side) * cell, cell, cell);
    }
  }
}
