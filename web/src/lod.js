// Min/max decimation: which points of a curve to draw when it has more points than the chart has pixels,
// so that it looks the same, every spike included, at a cost that grows with the new points only.

/**
 * Indices of the min and max of {@code ref} per bucket of a power-of-two size (at most {@code width}
 * buckets), among the values {@code keep} accepts (finite ones by default; a log axis drops those at or below 0).
 * Complete buckets are kept between calls and merged pairwise when the size doubles, so a call costs the new
 * points and the buckets, not the whole run. A bucket with no kept value has index -1 and gives no point.
 */
export class Lod {
  constructor(ref, keep = Number.isFinite) {
    Object.assign(this, { ref, keep, n: 0, size: 1, lo: [], hi: [] });
  }

  indices(n, width) {
    const ref = this.ref, keep = this.keep;
    if (this.n > n) Object.assign(this, { n: 0, size: 1, lo: [], hi: [] });
    const lower = (a, b) => (a < 0 ? b : b < 0 ? a : ref[a] <= ref[b] ? a : b);
    const upper = (a, b) => (a < 0 ? b : b < 0 ? a : ref[a] >= ref[b] ? a : b);
    while (n / this.size > width) {
      const lo = [], hi = [];
      for (let b = 0; b + 1 < this.lo.length; b += 2) {
        lo.push(lower(this.lo[b], this.lo[b + 1]));
        hi.push(upper(this.hi[b], this.hi[b + 1]));
      }
      Object.assign(this, { size: this.size * 2, lo, hi });
    }
    const scan = (from, to) => {
      let lo = -1, hi = -1;
      for (let i = from; i < to; i++) {
        const v = ref[i];
        if (v == null || !keep(v)) continue;
        if (lo < 0 || v < ref[lo]) lo = i;
        if (hi < 0 || v > ref[hi]) hi = i;
      }
      return [lo, hi];
    };
    for (let b = this.lo.length; (b + 1) * this.size <= n; b++) {
      const [lo, hi] = scan(b * this.size, (b + 1) * this.size);
      this.lo.push(lo);
      this.hi.push(hi);
    }
    this.n = n;
    const idx = [];
    const add = (lo, hi) => {
      if (lo < 0) return;
      if (lo < hi) idx.push(lo, hi); else if (hi < lo) idx.push(hi, lo); else idx.push(lo);
    };
    for (let b = 0; b < this.lo.length; b++) add(this.lo[b], this.hi[b]);
    const rest = this.lo.length * this.size;
    if (rest < n) add(...scan(rest, n));
    return idx;
  }
}
