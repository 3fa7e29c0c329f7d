/* lsframes: see include/lsframes.h for the contract of every function. */
#include "lsframes.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static const uint8_t PALETTE[10][3] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c}, {0xd6, 0x27, 0x28},
                                       {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}, {0xe3, 0x77, 0xc2}, {0x7f, 0x7f, 0x7f},
                                       {0xbc, 0xbd, 0x22}, {0x17, 0xbe, 0xcf}};

static const int32_t POINT_ALPHA = 176;

const char *lsf_version(void) { return "1.0.0"; }

const char *lsf_strerror(int status) {
  switch (status) {
    case LSF_OK: return "ok";
    case LSF_EINVAL: return "invalid argument";
    case LSF_ETOOSMALL: return "buffer too small";
    case LSF_EZLIB: return "zlib compression failed";
    case LSF_ENULL: return "null pointer";
    default: return "unknown status";
  }
}

int lsf_grid_size(int32_t n, int32_t h, int32_t w, int32_t columns, int32_t gap, int32_t *out_width,
                  int32_t *out_height) {
  if (out_width == NULL || out_height == NULL) return LSF_ENULL;
  if (n < 1 || h < 1 || w < 1 || columns < 1 || gap < 0 || h > 65535 || w > 65535) return LSF_EINVAL;
  int32_t cols = columns < n ? columns : n;
  int32_t rows = (n + cols - 1) / cols;
  int64_t width = (int64_t)cols * w + (int64_t)(cols + 1) * gap;
  int64_t height = (int64_t)rows * h + (int64_t)(rows + 1) * gap;
  if (width > 65535 || height > 65535) return LSF_EINVAL;
  *out_width = (int32_t)width;
  *out_height = (int32_t)height;
  return LSF_OK;
}

static uint8_t to_byte(float v, float lo, float scale, float hi) {
  if (!(v > lo)) return 0; /* also NaN */
  if (v >= hi) return 255;
  /* (v - lo) * scale + 0.5 is positive here, so truncation is floor. */
  return (uint8_t)(int32_t)((v - lo) * scale + 0.5f);
}

/* Tiles `tiles` images; image t comes from sources[t % nsrc] at index t / nsrc. */
static int tile(const float *const *sources, int32_t nsrc, int64_t count, int32_t tiles, int32_t h, int32_t w,
                int32_t columns, int32_t gap, float lo, float hi, uint8_t *dst, int64_t dst_size) {
  for (int32_t s = 0; s < nsrc; s++) {
    if (sources[s] == NULL) return LSF_ENULL;
  }
  if (dst == NULL) return LSF_ENULL;
  if (!(hi > lo)) return LSF_EINVAL;
  int32_t width, height;
  int status = lsf_grid_size(tiles, h, w, columns, gap, &width, &height);
  if (status != LSF_OK) return status;
  if (count < (int64_t)(tiles / nsrc) * h * w) return LSF_ETOOSMALL;
  if (dst_size < (int64_t)width * height) return LSF_ETOOSMALL;
  int32_t cols = columns < tiles ? columns : tiles;
  float scale = 255.0f / (hi - lo);
  memset(dst, 0, (size_t)width * (size_t)height);
  for (int32_t t = 0; t < tiles; t++) {
    const float *img = sources[t % nsrc] + (int64_t)(t / nsrc) * h * w;
    int32_t ox = gap + (t % cols) * (w + gap);
    int32_t oy = gap + (t / cols) * (h + gap);
    for (int32_t y = 0; y < h; y++) {
      uint8_t *row = dst + (int64_t)(oy + y) * width + ox;
      const float *in = img + (int64_t)y * w;
      for (int32_t x = 0; x < w; x++) row[x] = to_byte(in[x], lo, scale, hi);
    }
  }
  return LSF_OK;
}

int lsf_tile_grey(const float *src, int64_t src_count, int32_t n, int32_t h, int32_t w, int32_t columns, int32_t gap,
                  float lo, float hi, uint8_t *dst, int64_t dst_size) {
  const float *sources[1] = {src};
  return tile(sources, 1, src_count, n, h, w, columns, gap, lo, hi, dst, dst_size);
}

int lsf_tile_pairs(const float *originals, const float *reconstructions, int64_t count, int32_t n, int32_t h, int32_t w,
                   int32_t columns, int32_t gap, float lo, float hi, uint8_t *dst, int64_t dst_size) {
  if (n < 1 || columns < 1 || n > (1 << 29) || columns > (1 << 29)) return LSF_EINVAL;
  const float *sources[2] = {originals, reconstructions};
  return tile(sources, 2, count, 2 * n, h, w, 2 * columns, gap, lo, hi, dst, dst_size);
}

int lsf_scatter_rgba(const float *xy, const int32_t *labels, int32_t n, float xmin, float xmax, float ymin, float ymax,
                     int32_t size, uint8_t *rgba, int32_t width, int32_t height, int64_t rgba_size) {
  if (xy == NULL || labels == NULL || rgba == NULL) return LSF_ENULL;
  if (n < 0 || size < 2 || width < size || height < size || !(xmax > xmin) || !(ymax > ymin)) return LSF_EINVAL;
  if (rgba_size < (int64_t)width * height * 4) return LSF_ETOOSMALL;
  for (int32_t i = 0; i < n; i++) {
    float x = xy[2 * i];
    float y = xy[2 * i + 1];
    if (!isfinite(x) || !isfinite(y)) continue;
    int32_t px = (int32_t)floorf((x - xmin) / (xmax - xmin) * (float)(size - 1) + 0.5f);
    int32_t py = (int32_t)floorf((ymax - y) / (ymax - ymin) * (float)(size - 1) + 0.5f);
    if (px < 0 || py < 0 || px >= size || py >= size) continue;
    int32_t label = labels[i] % 10;
    if (label < 0) label += 10;
    const uint8_t *c = PALETTE[label];
    for (int32_t dy = -2; dy <= 2; dy++) {
      for (int32_t dx = -2; dx <= 2; dx++) {
        if (dx * dx + dy * dy > 5) continue; /* a 5-pixel-wide disc */
        int32_t qx = px + dx, qy = py + dy;
        if (qx < 0 || qy < 0 || qx >= size || qy >= size) continue;
        uint8_t *p = rgba + ((int64_t)qy * width + qx) * 4;
        for (int k = 0; k < 3; k++) {
          p[k] = (uint8_t)((c[k] * POINT_ALPHA + p[k] * (255 - POINT_ALPHA) + 127) / 255);
        }
        p[3] = 255;
      }
    }
  }
  return LSF_OK;
}

int64_t lsf_png_bound(int32_t width, int32_t height, int32_t channels) {
  if (width < 1 || height < 1 || (channels != 1 && channels != 4)) return LSF_EINVAL;
  uint64_t raw = (uint64_t)height * ((uint64_t)width * (uint64_t)channels + 1);
  return (int64_t)(compressBound((uLong)raw) + 8 + 25 + 12 + 12 + 64);
}

static uint8_t *put32(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
  return p + 4;
}

/* Writes a chunk whose data is already at p + 8 (length `len`); returns the position after it. */
static uint8_t *finish_chunk(uint8_t *p, const char type[4], uint32_t len) {
  put32(p, len);
  memcpy(p + 4, type, 4);
  uLong crc = crc32(0L, p + 4, len + 4);
  return put32(p + 8 + len, (uint32_t)crc);
}

/* Paeth predictor (PNG spec, section 9.4). */
static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
  int p = (int)a + (int)b - (int)c;
  int pa = abs(p - (int)a), pb = abs(p - (int)b), pc = abs(p - (int)c);
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/*
 * Filters one row with PNG filter `type` (0 none, 1 sub, 2 up, 4 paeth) into out; prev is the previous
 * unfiltered row (all zero for the first). bpp is bytes per pixel. Returns the sum of |signed byte|, the
 * heuristic libpng uses to pick a filter.
 */
static uint64_t filter_row(int type, const uint8_t *row, const uint8_t *prev, int64_t stride, int bpp, uint8_t *out) {
  uint64_t sum = 0;
  for (int64_t i = 0; i < stride; i++) {
    uint8_t a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
    uint8_t v = row[i];
    switch (type) {
      case 1: v = (uint8_t)(v - a); break;
      case 2: v = (uint8_t)(v - b); break;
      case 4: v = (uint8_t)(v - paeth(a, b, c)); break;
      default: break;
    }
    out[i] = v;
    sum += v < 128 ? v : 256 - v;
  }
  return sum;
}

/* Writes signature, IHDR (bit depth 8, `color_type`) and, with a palette, PLTE; returns where IDAT goes. */
static uint8_t *png_head(uint8_t *dst, int32_t width, int32_t height, uint8_t color_type, const uint8_t *palette,
                         int32_t entries) {
  static const uint8_t SIGNATURE[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  uint8_t *p = dst;
  memcpy(p, SIGNATURE, 8);
  p += 8;
  uint8_t *ihdr = p + 8;
  put32(ihdr, (uint32_t)width);
  put32(ihdr + 4, (uint32_t)height);
  ihdr[8] = 8;                        /* bit depth */
  ihdr[9] = color_type;               /* 0 grey, 3 palette, 6 RGBA */
  ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering, no interlace */
  p = finish_chunk(p, "IHDR", 13);
  if (palette != NULL) {
    memcpy(p + 8, palette, (size_t)entries * 3);
    p = finish_chunk(p, "PLTE", (uint32_t)entries * 3);
  }
  return p;
}

/*
 * The IDAT chunk of `height` rows of `stride` bytes at p. Level 0-1: no filter and run-length matching (fast,
 * for flat frames). Level 2-9: each row filtered with the cheapest of none, sub, up and paeth (grey and RGBA),
 * or none (palette, whose indices do not predict each other), then zlib's default strategy.
 */
static int png_idat(const uint8_t *pixels, int32_t height, int64_t stride, int bpp, int filtered, int32_t level,
                    uint8_t *p, uint8_t *end, uint8_t **after) {
  uint8_t *idat = p + 8;
  z_stream z;
  memset(&z, 0, sizeof z);
  if (deflateInit2(&z, level, Z_DEFLATED, 15, 8, level <= 1 ? Z_RLE : Z_DEFAULT_STRATEGY) != Z_OK) return LSF_EZLIB;
  z.next_out = idat;
  z.avail_out = (uInt)(end - idat - 24);
  /* Scratch owned by this call (freed below): one zero row, then one candidate row per filter type. A failed
     allocation is reported like a zlib failure: the frame cannot be compressed. */
  uint8_t *scratch = NULL;
  int use_filters = filtered && level >= 2;
  if (use_filters) {
    scratch = calloc(4, (size_t)stride);
    if (scratch == NULL) {
      deflateEnd(&z);
      return LSF_EZLIB;
    }
  }
  int status = Z_OK;
  for (int32_t y = 0; y < height && status == Z_OK; y++) {
    const uint8_t *row = pixels + (int64_t)y * stride;
    uint8_t filter = 0;
    const uint8_t *data = row;
    if (use_filters) {
      const uint8_t *prev = y == 0 ? scratch : row - stride;
      static const int TYPES[3] = {1, 2, 4};
      uint64_t best = 0;
      for (int64_t i = 0; i < stride; i++) best += row[i] < 128 ? row[i] : 256 - row[i];
      for (int t = 0; t < 3; t++) {
        uint8_t *out = scratch + stride * (t + 1);
        uint64_t sum = filter_row(TYPES[t], row, prev, stride, bpp, out);
        if (sum < best) {
          best = sum;
          filter = (uint8_t)TYPES[t];
          data = out;
        }
      }
    }
    z.next_in = &filter;
    z.avail_in = 1;
    status = deflate(&z, Z_NO_FLUSH);
    if (status != Z_OK) break;
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)stride;
    status = deflate(&z, Z_NO_FLUSH);
  }
  if (status == Z_OK) status = deflate(&z, Z_FINISH);
  uLong compressed = z.total_out;
  deflateEnd(&z);
  free(scratch);
  if (status != Z_STREAM_END) return LSF_EZLIB;
  p = finish_chunk(p, "IDAT", (uint32_t)compressed);
  *after = finish_chunk(p, "IEND", 0);
  return LSF_OK;
}

int lsf_png_encode(const uint8_t *pixels, int64_t pixels_size, int32_t width, int32_t height, int32_t channels,
                   int32_t level, uint8_t *dst, int64_t dst_capacity, int64_t *out_size) {
  if (pixels == NULL || dst == NULL || out_size == NULL) return LSF_ENULL;
  if (width < 1 || height < 1 || (channels != 1 && channels != 4) || level < 0 || level > 9) return LSF_EINVAL;
  int64_t stride = (int64_t)width * channels;
  if (pixels_size < stride * height) return LSF_ETOOSMALL;
  int64_t bound = lsf_png_bound(width, height, channels);
  if (dst_capacity < bound) return LSF_ETOOSMALL;
  uint8_t *p = png_head(dst, width, height, channels == 1 ? 0 : 6, NULL, 0);
  uint8_t *after;
  int status = png_idat(pixels, height, stride, channels, 1, level, p, dst + dst_capacity, &after);
  if (status != LSF_OK) return status;
  *out_size = after - dst;
  return LSF_OK;
}

int lsf_png_encode_indexed(const uint8_t *indices, int64_t indices_size, int32_t width, int32_t height,
                           const uint8_t *palette_rgb, int32_t entries, int32_t level, uint8_t *dst,
                           int64_t dst_capacity, int64_t *out_size) {
  if (indices == NULL || palette_rgb == NULL || dst == NULL || out_size == NULL) return LSF_ENULL;
  if (width < 1 || height < 1 || entries < 1 || entries > 256 || level < 0 || level > 9) return LSF_EINVAL;
  if (indices_size < (int64_t)width * height) return LSF_ETOOSMALL;
  if (dst_capacity < lsf_png_bound(width, height, 1) + 780) return LSF_ETOOSMALL;
  for (int64_t i = 0; i < (int64_t)width * height; i++) {
    if (indices[i] >= entries) return LSF_EINVAL;
  }
  uint8_t *p = png_head(dst, width, height, 3, palette_rgb, entries);
  uint8_t *after;
  int status = png_idat(indices, height, width, 1, 0, level, p, dst + dst_capacity, &after);
  if (status != LSF_OK) return status;
  *out_size = after - dst;
  return LSF_OK;
}

/* Built for AVX-512, AVX2+FMA and baseline x86-64; the loader picks the best the CPU supports. The loop is
   bound by its square root and division, not by memory: on the EPYC used here the AVX-512 build takes
   0.16 ms for the MLP VAE's 650k parameters against 0.28 ms with AVX2. The AVX-512 and AVX2 builds contract
   the same multiply-adds, so they give the same floats. */
__attribute__((target_clones("arch=x86-64-v4", "avx2,fma", "default"))) static void adam_loop(
    float *restrict param, const float *restrict grad, float *restrict m, float *restrict v, int64_t n, float step_size,
    float beta1, float beta2, float eps, float bias2_sqrt) {
  float c1 = 1.0f - beta1, c2 = 1.0f - beta2;
  for (int64_t i = 0; i < n; i++) {
    float g = grad[i];
    float mi = beta1 * m[i] + c1 * g;
    float vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    param[i] -= step_size * mi / (sqrtf(vi) / bias2_sqrt + eps);
  }
}

/*
 * The BCE kernel in 16-wide vectors (GCC vector extensions; each clone below compiles them to its own
 * instruction set, the AVX2 one as pairs of 8): 16 wide, the AVX-512 build took 90 us for a 128 x 784 batch
 * against 167 us with 8 (the polynomials' long FMA chains leave room for twice the lanes). glibc's expf and log1pf are
 * scalar calls, and with them the kernel took 1.4 ms of a 6 ms MLP-VAE step (128 x 784 values). The auto-vectoriser
 * does not take the loop on its own without -ffast-math, which would also let the compiler drop the NaN a diverging run
 * must report. exp and log are the Cephes single-precision polynomials (as in sse_mathfun), with the same range
 * reductions, accurate to a few ulp on the ranges used here.
 */
typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) v16f v16_splat(float a) {
  return (v16f){a, a, a, a, a, a, a, a, a, a, a, a, a, a, a, a};
}

/* mask ? a : b, lane by lane; mask lanes are all ones or all zeros (a vector comparison's result). */
static inline __attribute__((always_inline)) v16f v16_select(v16i mask, v16f a, v16f b) {
  return (v16f)((mask & (v16i)a) | (~mask & (v16i)b));
}

/* exp(x) for x <= 0 (NaN stays NaN). */
static inline __attribute__((always_inline)) v16f v16_exp_neg(v16f x) {
  /* Below -87.3 the result would be subnormal: clamp so 2^n stays a normal float. */
  x = v16_select(x < v16_splat(-87.0f), v16_splat(-87.0f), x);
  v16f t = x * 1.44269504088896341f + 0.5f;
  v16f fx = __builtin_convertvector(__builtin_convertvector(t, v16i), v16f); /* t <= 0.5: truncation, then floor */
  fx = v16_select(fx > t, fx - 1.0f, fx);
  x -= fx * 0.693359375f;
  x -= fx * -2.12194440e-4f;
  v16f z = x * x;
  v16f y = v16_splat(1.9875691500E-4f);
  y = y * x + 1.3981999507E-3f;
  y = y * x + 8.3334519073E-3f;
  y = y * x + 4.1665795894E-2f;
  y = y * x + 1.6666665459E-1f;
  y = y * x + 5.0000001201E-1f;
  y = y * z + x + 1.0f;
  v16i pow2 = (__builtin_convertvector(fx, v16i) + 127) << 23;
  return y * (v16f)pow2;
}

/* log(1 + e) for e in [0, 1]: log of u = 1 + e, plus the rounding error of 1 + e carried as c / u. */
static inline __attribute__((always_inline)) v16f v16_log1p_unit(v16f e) {
  v16f u = 1.0f + e;
  v16f c = e - (u - 1.0f);
  /* u in [1, 2]: above sqrt(2) take log(u / 2) + log 2, so the polynomial's argument stays in [-0.3, 0.42]. */
  v16i high = u > v16_splat(1.41421356237f);
  v16f k = v16_select(high, v16_splat(1.0f), v16_splat(0.0f));
  v16f f = v16_select(high, u * 0.5f, u) - 1.0f;
  v16f z = f * f;
  v16f y = v16_splat(7.0376836292E-2f);
  y = y * f - 1.1514610310E-1f;
  y = y * f + 1.1676998740E-1f;
  y = y * f - 1.2420140846E-1f;
  y = y * f + 1.4249322787E-1f;
  y = y * f - 1.6668057665E-1f;
  y = y * f + 2.0000714765E-1f;
  y = y * f - 2.4999993993E-1f;
  y = y * f + 3.3333331174E-1f;
  y = y * f * z;
  y += -2.12194440e-4f * k;
  y += -0.5f * z;
  return f + y + 0.693359375f * k + c / u;
}

/* Sixteen values: the gradients (sigmoid(l) - x) * scale into *grad, and the losses returned. */
static inline __attribute__((always_inline)) v16f v16_bce(const float *lp, const float *xp, float grad_scale,
                                                          v16f *grad) {
  v16f l, x;
  memcpy(&l, lp, sizeof l);
  memcpy(&x, xp, sizeof x);
  v16i negative = l < v16_splat(0.0f);
  v16f abs_l = v16_select(negative, -l, l);
  v16f e = v16_exp_neg(-abs_l);
  v16f r = 1.0f / (1.0f + e);
  v16f s = v16_select(negative, e * r, r);
  *grad = (s - x) * grad_scale;
  /* max(l, 0) - l x + log(1 + e^-|l|); a NaN logit gives a NaN loss through l * x. */
  return v16_select(negative, v16_splat(0.0f), l) - l * x + v16_log1p_unit(e);
}

/* Sums in 16 float lanes over blocks of 1024 values (each lane adds 64, well inside float precision),
 * then in double across blocks. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) static double bce_loop(
    const float *logits, const float *target, int64_t n, float grad_scale, float *grad) {
  enum { BLOCK = 1024 };
  double sum = 0;
  int64_t i = 0;
  while (i + 16 <= n) {
    int64_t end = n - i < BLOCK ? i + ((n - i) & ~(int64_t)15) : i + BLOCK;
    v16f acc = v16_splat(0.0f);
    for (; i < end; i += 16) {
      v16f g;
      acc += v16_bce(logits + i, target + i, grad_scale, &g);
      memcpy(grad + i, &g, sizeof g);
    }
    for (int j = 0; j < 16; j++) sum += acc[j];
  }
  if (i < n) {
    /* The last n % 16 values, padded: only their own lanes are kept. */
    int rest = (int)(n - i);
    float lp[16] = {0}, xp[16] = {0}, gp[16];
    memcpy(lp, logits + i, sizeof(float) * rest);
    memcpy(xp, target + i, sizeof(float) * rest);
    v16f g;
    v16f loss = v16_bce(lp, xp, grad_scale, &g);
    memcpy(gp, &g, sizeof g);
    memcpy(grad + i, gp, sizeof(float) * rest);
    for (int j = 0; j < rest; j++) sum += loss[j];
  }
  return sum;
}

int lsf_bce_logits(const float *logits, const float *target, int64_t n, float grad_scale, float *grad,
                   double *loss_sum) {
  if (logits == NULL || target == NULL || grad == NULL || loss_sum == NULL) return LSF_ENULL;
  if (n < 0) return LSF_EINVAL;
  *loss_sum = bce_loop(logits, target, n, grad_scale, grad);
  return LSF_OK;
}

int lsf_adam_step(float *param, const float *grad, float *exp_avg, float *exp_avg_sq, int64_t n, float lr, float beta1,
                  float beta2, float eps, int64_t step) {
  if (param == NULL || grad == NULL || exp_avg == NULL || exp_avg_sq == NULL) return LSF_ENULL;
  if (n < 0 || step < 1 || !(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps > 0)) {
    return LSF_EINVAL;
  }
  double bias1 = 1.0 - pow((double)beta1, (double)step);
  double bias2 = 1.0 - pow((double)beta2, (double)step);
  adam_loop(param, grad, exp_avg, exp_avg_sq, n, (float)(lr / bias1), beta1, beta2, eps, (float)sqrt(bias2));
  return LSF_OK;
}

/*
 * The elementwise parts of an MLP VAE step done by hand (lsf_bias_act .. lsf_vae_latent_backward): the
 * GEMMs go to OpenBLAS, these fill the gaps between them, each one pass over its matrix.
 */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) int lsf_bias_act(float *y,
                                                                                               const float *bias,
                                                                                               int64_t rows,
                                                                                               int64_t cols, int relu) {
  if (y == NULL || bias == NULL) return LSF_ENULL;
  if (rows < 0 || cols < 0) return LSF_EINVAL;
  for (int64_t r = 0; r < rows; r++) {
    float *row = y + r * cols;
    for (int64_t c = 0; c < cols; c++) row[c] += bias[c];
    if (relu) {
      int64_t c = 0;
      for (; c + 16 <= cols; c += 16) {
        v16f v;
        memcpy(&v, row + c, sizeof v);
        v = v16_select(v > v16_splat(0.0f), v, v16_splat(0.0f));
        memcpy(row + c, &v, sizeof v);
      }
      for (; c < cols; c++) row[c] = row[c] > 0.0f ? row[c] : 0.0f;
    }
  }
  return LSF_OK;
}

__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) int lsf_relu_grad_colsum(
    float *grad, const float *act, int64_t rows, int64_t cols, float *bias_grad) {
  if (grad == NULL || bias_grad == NULL) return LSF_ENULL;
  if (rows < 0 || cols < 0) return LSF_EINVAL;
  for (int64_t c = 0; c < cols; c++) bias_grad[c] = 0.0f;
  for (int64_t r = 0; r < rows; r++) {
    float *g = grad + r * cols;
    if (act != NULL) {
      const float *a = act + r * cols;
      int64_t c = 0;
      for (; c + 16 <= cols; c += 16) {
        v16f gv, av;
        memcpy(&gv, g + c, sizeof gv);
        memcpy(&av, a + c, sizeof av);
        gv = v16_select(av > v16_splat(0.0f), gv, v16_splat(0.0f));
        memcpy(g + c, &gv, sizeof gv);
      }
      for (; c < cols; c++) g[c] = a[c] > 0.0f ? g[c] : 0.0f;
    }
    for (int64_t c = 0; c < cols; c++) bias_grad[c] += g[c];
  }
  return LSF_OK;
}

int lsf_vae_sample(const float *mu, const float *log_var, const float *eps, int64_t n, float *z, float *std) {
  if (mu == NULL || log_var == NULL || eps == NULL || z == NULL || std == NULL) return LSF_ENULL;
  if (n < 0) return LSF_EINVAL;
  for (int64_t i = 0; i < n; i++) {
    std[i] = expf(0.5f * log_var[i]);
    z[i] = mu[i] + eps[i] * std[i];
  }
  return LSF_OK;
}

int lsf_vae_latent_backward(const float *grad_z, const float *mu, const float *log_var, const float *eps,
                            const float *std, int64_t n, float kl_scale, float *grad_mu, float *grad_log_var,
                            double *kl_sum) {
  if (grad_z == NULL || mu == NULL || log_var == NULL || eps == NULL || std == NULL || grad_mu == NULL
      || grad_log_var == NULL || kl_sum == NULL)
    return LSF_ENULL;
  if (n < 0) return LSF_EINVAL;
  double sum = 0;
  for (int64_t i = 0; i < n; i++) {
    double m = mu[i], lv = log_var[i], variance = exp(lv);
    sum += -0.5 * (1.0 + lv - m * m - variance);
    grad_mu[i] = grad_z[i] + (float)(kl_scale * m);
    grad_log_var[i] = grad_z[i] * eps[i] * 0.5f * std[i] + (float)(kl_scale * 0.5 * (variance - 1.0));
  }
  *kl_sum = sum;
  return LSF_OK;
}

/* Cloned like the kernels above: the baseline build converts and divides four values at a time, and the
   gather of a 128-image batch took about 0.13 ms of each training step. */
__attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default"))) int lsf_gather_unit(
    const uint8_t *pixels, int64_t images, int64_t image_size, const int64_t *order, int64_t count, float *out) {
  if (pixels == NULL || order == NULL || out == NULL) return LSF_ENULL;
  if (images < 0 || image_size < 0 || count < 0) return LSF_EINVAL;
  for (int64_t i = 0; i < count; i++) {
    if (order[i] < 0 || order[i] >= images) return LSF_EINVAL;
  }
  enum { AHEAD = 4 };
  for (int64_t i = 0; i < count; i++) {
    const uint8_t *src = pixels + order[i] * image_size;
    float *dst = out + i * image_size;
    /* The images are scattered over the split (47 MB for Fashion-MNIST), so each one starts with cache
       misses the hardware prefetcher cannot guess: ask for an image a few ahead while this one converts. */
    if (i + AHEAD < count) {
      const uint8_t *next = pixels + order[i + AHEAD] * image_size;
      for (int64_t j = 0; j < image_size; j += 64) __builtin_prefetch(next + j);
    }
    /* b / 255.0f, the same IEEE division libtorch's to(Float).div(255) does */
    for (int64_t j = 0; j < image_size; j++) dst[j] = (float)src[j] / 255.0f;
  }
  return LSF_OK;
}
