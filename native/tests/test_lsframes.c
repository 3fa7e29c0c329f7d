/* C-level tests of lsframes; built with AddressSanitizer and UBSan by `make check`. */
#include "lsframes.h"

#include <zlib.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(int condition, const char *what) {
  if (!condition) {
    fprintf(stderr, "FAIL: %s\n", what);
    failures++;
  }
}

static void test_grid_layout_and_value_mapping(void) {
  float img[2 * 2 * 3] = {0.0f, 0.5f, 1.0f, 2.0f, -1.0f, NAN, INFINITY, -INFINITY, 0.25f, 0.75f, 0.999f, 0.001f};
  int32_t w, h;
  expect(lsf_grid_size(2, 2, 3, 5, 1, &w, &h) == LSF_OK, "grid size ok");
  expect(w == 2 * 3 + 3 && h == 2 + 2, "grid size clamps columns to n");
  uint8_t out[9 * 4];
  expect(lsf_tile_grey(img, 12, 2, 2, 3, 5, 1, 0.0f, 1.0f, out, sizeof out) == LSF_OK, "tile ok");
  expect(out[0] == 0, "gap is background");
  expect(out[1 * 9 + 1] == 0 && out[1 * 9 + 2] == 128 && out[1 * 9 + 3] == 255, "0, 0.5, 1 map to 0, 128, 255");
  expect(out[2 * 9 + 1] == 255 && out[2 * 9 + 2] == 0 && out[2 * 9 + 3] == 0, "clamps above, below; NaN is 0");
  expect(out[1 * 9 + 5] == 255 && out[1 * 9 + 6] == 0, "+inf is 255, -inf is 0");
}

static void test_pairs_interleave(void) {
  float a[4] = {1, 1, 1, 1};
  float b[4] = {0, 0, 0, 0};
  uint8_t out[64];
  int32_t w, h;
  lsf_grid_size(2, 2, 1, 2, 0, &w, &h);
  expect(lsf_tile_pairs(a, b, 2, 1, 2, 1, 1, 0, 0.0f, 1.0f, out, sizeof out) == LSF_OK, "pairs ok");
  expect(out[0] == 255 && out[1] == 0, "original then reconstruction");
}

static void test_errors_never_crash(void) {
  float img[4] = {0};
  uint8_t small[3];
  expect(lsf_tile_grey(img, 4, 1, 2, 2, 1, 0, 0, 1, small, sizeof small) == LSF_ETOOSMALL, "small dst");
  expect(lsf_tile_grey(img, 3, 1, 2, 2, 1, 0, 0, 1, small, 100) == LSF_ETOOSMALL, "short src");
  expect(lsf_tile_grey(img, 4, 0, 2, 2, 1, 0, 0, 1, small, sizeof small) == LSF_EINVAL, "empty batch");
  expect(lsf_tile_grey(img, 4, 1, 2, 2, 1, 0, 1, 1, small, sizeof small) == LSF_EINVAL, "hi <= lo");
  expect(lsf_tile_grey(NULL, 4, 1, 2, 2, 1, 0, 0, 1, small, sizeof small) == LSF_ENULL, "null src");
  int64_t size = 0;
  uint8_t px[4] = {1, 2, 3, 4};
  uint8_t png[8];
  expect(lsf_png_encode(px, 4, 2, 2, 1, 6, png, sizeof png, &size) == LSF_ETOOSMALL, "small png buffer");
  expect(lsf_png_encode(px, 4, 2, 2, 3, 6, png, sizeof png, &size) == LSF_EINVAL, "3 channels");
  expect(strcmp(lsf_strerror(LSF_ETOOSMALL), "buffer too small") == 0, "strerror");
}

static void test_png_encodes_a_valid_stream(void) {
  uint8_t px[16 * 8];
  for (int i = 0; i < 16 * 8; i++) px[i] = (uint8_t)(i * 2);
  int64_t bound = lsf_png_bound(16, 8, 1);
  uint8_t *png = malloc((size_t)bound);
  int64_t size = 0;
  expect(lsf_png_encode(px, sizeof px, 16, 8, 1, 6, png, bound, &size) == LSF_OK, "png ok");
  expect(size > 57 && size <= bound, "png size");
  expect(png[0] == 0x89 && png[1] == 'P' && memcmp(png + 12, "IHDR", 4) == 0, "png header");
  expect(memcmp(png + size - 8, "IEND", 4) == 0, "png ends with IEND");
  free(png);
}

static void test_scatter_draws_in_palette_colours(void) {
  /* A non-white, not opaque background, so a point that changed nothing could not pass. */
  const uint8_t bg[4] = {40, 60, 80, 200};
  uint8_t rgba[10 * 10 * 4];
  for (int i = 0; i < 10 * 10; i++) memcpy(rgba + 4 * i, bg, 4);
  float xy[4] = {0.0f, 0.0f, NAN, 1.0f};
  int32_t labels[2] = {1, 2};
  expect(lsf_scatter_rgba(xy, labels, 2, -1, 1, -1, 1, 9, rgba, 10, 10, sizeof rgba) == LSF_OK, "scatter ok");
  /* Label 1 is tab10 orange (255, 127, 14) at alpha 176 over the background, by hand:
     R (255*176 + 40*79 + 127) / 255 = 188, G (127*176 + 60*79 + 127) / 255 = 106,
     B (14*176 + 80*79 + 127) / 255 = 34, and the pixel becomes opaque. */
  const uint8_t blended[4] = {188, 106, 34, 255};
  const uint8_t *centre = rgba + (4 * 10 + 4) * 4;
  expect(memcmp(centre, blended, 4) == 0, "blended orange at the centre, every channel");
  const uint8_t *edge = rgba + (5 * 10 + 6) * 4; /* dx = 2, dy = 1: inside the 5-pixel disc */
  expect(memcmp(edge, blended, 4) == 0, "disc edge blended");
  const uint8_t *outside = rgba + (6 * 10 + 6) * 4; /* dx = dy = 2: outside the disc */
  expect(memcmp(outside, bg, 4) == 0, "outside the disc untouched, every channel");
  expect(memcmp(rgba, bg, 4) == 0, "corner untouched, every channel");
  int changed = 0;
  for (int i = 0; i < 10 * 10; i++) changed += memcmp(rgba + 4 * i, bg, 4) != 0;
  expect(changed == 21, "one disc of 21 pixels drawn; the NaN point skipped");
  expect(lsf_scatter_rgba(xy, labels, 2, 1, 1, -1, 1, 9, rgba, 10, 10, sizeof rgba) == LSF_EINVAL, "empty x range");
  expect(lsf_scatter_rgba(xy, labels, 2, -1, 1, -1, 1, 9, rgba, 10, 10, 10) == LSF_ETOOSMALL, "small rgba");
}

static void test_adam_matches_the_formula(void) {
  float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.1f, -0.3f, 0.0f}, m[3] = {0}, v[3] = {0};
  expect(lsf_adam_step(p, g, m, v, 3, 0.01f, 0.9f, 0.999f, 1e-8f, 1) == LSF_OK, "adam ok");
  /* The first step moves each weight with a non-zero gradient by lr, against the gradient's sign. */
  expect(fabsf(p[0] - 0.99f) < 1e-6f && fabsf(p[1] + 1.99f) < 1e-6f && p[2] == 0.5f, "first step is lr");
  expect(lsf_adam_step(p, g, m, v, 3, 0.01f, 1.0f, 0.999f, 1e-8f, 1) == LSF_EINVAL, "beta1 = 1");
  expect(lsf_adam_step(p, g, m, v, 3, 0.01f, 0.9f, 0.999f, 1e-8f, 0) == LSF_EINVAL, "step 0");
  expect(lsf_adam_step(NULL, g, m, v, 3, 0.01f, 0.9f, 0.999f, 1e-8f, 1) == LSF_ENULL, "null param");
}

/* Inflates the IDAT of a PNG made by lsframes (one IDAT chunk after IHDR and an optional PLTE) and undoes
   the row filters: the pixels an image viewer would show. Returns 0 on success. */
static int decode_png(const uint8_t *png, int64_t size, int64_t stride, int32_t height, int bpp, uint8_t *out) {
  int64_t pos = 8;
  while (pos + 8 <= size && memcmp(png + pos + 4, "IDAT", 4) != 0) {
    uint32_t len = (uint32_t)png[pos] << 24 | (uint32_t)png[pos + 1] << 16 | (uint32_t)png[pos + 2] << 8 | png[pos + 3];
    pos += 12 + len;
  }
  if (pos + 8 > size) return 1;
  uint32_t len = (uint32_t)png[pos] << 24 | (uint32_t)png[pos + 1] << 16 | (uint32_t)png[pos + 2] << 8 | png[pos + 3];
  uLongf raw_size = (uLongf)((stride + 1) * height);
  uint8_t *raw = malloc(raw_size);
  if (uncompress(raw, &raw_size, png + pos + 8, len) != Z_OK || raw_size != (uLongf)((stride + 1) * height)) {
    free(raw);
    return 1;
  }
  for (int32_t y = 0; y < height; y++) {
    const uint8_t *f = raw + y * (stride + 1);
    uint8_t *row = out + y * stride;
    const uint8_t *prev = y > 0 ? row - stride : NULL;
    for (int64_t i = 0; i < stride; i++) {
      int a = i >= bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0, c = prev && i >= bpp ? prev[i - bpp] : 0;
      int pred = 0;
      switch (f[0]) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 4: {
          int pp = a + b - c, pa = abs(pp - a), pb = abs(pp - b), pc = abs(pp - c);
          pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: free(raw); return 1;
      }
      row[i] = (uint8_t)(f[1 + i] + pred);
    }
  }
  free(raw);
  return 0;
}

static void test_filtered_png_decodes_to_the_same_pixels(void) {
  /* A smooth ramp (filters pay off) and noise (they may not), grey and RGBA, fast and filtered levels. */
  enum { W = 37, H = 23 };
  uint8_t grey[W * H], rgba[W * H * 4], back[W * H * 4];
  for (int i = 0; i < W * H; i++) grey[i] = (uint8_t)((i % W) * 5 + (i / W) * 3 + (i % 7 == 0 ? 40 : 0));
  for (int i = 0; i < W * H * 4; i++) rgba[i] = (uint8_t)(i * 2654435761u >> 24);
  int levels[2] = {1, 6};
  for (int l = 0; l < 2; l++) {
    int64_t size, bound = lsf_png_bound(W, H, 4);
    uint8_t *png = malloc((size_t)bound);
    expect(lsf_png_encode(grey, sizeof grey, W, H, 1, levels[l], png, bound, &size) == LSF_OK, "grey png");
    expect(decode_png(png, size, W, H, 1, back) == 0 && memcmp(back, grey, sizeof grey) == 0, "grey round trip");
    expect(lsf_png_encode(rgba, sizeof rgba, W, H, 4, levels[l], png, bound, &size) == LSF_OK, "rgba png");
    expect(decode_png(png, size, W * 4, H, 4, back) == 0 && memcmp(back, rgba, sizeof rgba) == 0, "rgba round trip");
    free(png);
  }
}

static void test_indexed_png_has_the_palette_and_the_indices(void) {
  enum { W = 9, H = 4 };
  uint8_t idx[W * H], back[W * H];
  for (int i = 0; i < W * H; i++) idx[i] = (uint8_t)(i % 3);
  const uint8_t palette[9] = {255, 255, 255, 31, 119, 180, 255, 127, 14};
  int64_t size, bound = lsf_png_bound(W, H, 1) + 780;
  uint8_t *png = malloc((size_t)bound);
  expect(lsf_png_encode_indexed(idx, sizeof idx, W, H, palette, 3, 6, png, bound, &size) == LSF_OK, "indexed ok");
  expect(png[8 + 8 + 9] == 3, "colour type 3");
  expect(memcmp(png + 33 + 4, "PLTE", 4) == 0 && memcmp(png + 33 + 8, palette, 9) == 0, "palette chunk");
  expect(decode_png(png, size, W, H, 1, back) == 0 && memcmp(back, idx, sizeof idx) == 0, "indices round trip");
  idx[5] = 3;
  expect(lsf_png_encode_indexed(idx, sizeof idx, W, H, palette, 3, 6, png, bound, &size) == LSF_EINVAL,
         "index past the palette");
  expect(lsf_png_encode_indexed(idx, sizeof idx, W, H, palette, 257, 6, png, bound, &size) == LSF_EINVAL,
         "over 256 entries");
  expect(lsf_png_encode_indexed(idx, sizeof idx, W, H, palette, 3, 6, png, 16, &size) == LSF_ETOOSMALL, "small dst");
  free(png);
}

static void test_bce_logits_matches_hand_values(void) {
  const float l[3] = {0.0f, 2.0f, -3.0f}, x[3] = {0.5f, 1.0f, 0.0f};
  float g[3] = {9, 9, 9};
  double sum = -1;
  expect(lsf_bce_logits(l, x, 3, 0.5f, g, &sum) == LSF_OK, "bce ok");
  /* log 2 + log(1 + e^-2) + log(1 + e^-3) */
  expect(fabs(sum - (0.69314718 + 0.12692801 + 0.04858735)) < 1e-5, "bce sum");
  /* (sigmoid(l) - x) / 2 */
  expect(
      fabsf(g[0]) < 1e-7f && fabsf(g[1] - (0.88079708f - 1) * 0.5f) < 1e-6f && fabsf(g[2] - 0.04742587f * 0.5f) < 1e-6f,
      "bce gradient");
  const float big[2] = {80.0f, -80.0f}, t[2] = {0.0f, 1.0f};
  expect(lsf_bce_logits(big, t, 2, 1.0f, g, &sum) == LSF_OK && fabs(sum - 160.0) < 1e-3 && isfinite(sum),
         "large logits stay finite");
  expect(lsf_bce_logits(NULL, x, 3, 1.0f, g, &sum) == LSF_ENULL, "null logits");
  expect(lsf_bce_logits(l, x, -1, 1.0f, g, &sum) == LSF_EINVAL, "negative n");
}

/* The vectorised exp and log1p against libm's, in double, over the range of logits training meets,
 * n not a multiple of the block or the lanes. */
static void test_bce_logits_matches_libm_across_logits(void) {
  enum { N = 3001 };
  static float l[N], x[N], g[N];
  double want = 0, worst_grad = 0;
  for (int i = 0; i < N; i++) {
    l[i] = -60.0f + 0.04f * (float)i;
    x[i] = (float)(i % 7) / 6.0f;
    double ld = l[i], xd = x[i];
    want += fmax(ld, 0) - ld * xd + log1p(exp(-fabs(ld)));
  }
  double sum = -1;
  expect(lsf_bce_logits(l, x, N, 0.25f, g, &sum) == LSF_OK, "bce ok");
  for (int i = 0; i < N; i++) {
    double s = 1.0 / (1.0 + exp(-(double)l[i]));
    double d = fabs(g[i] - (s - x[i]) * 0.25);
    if (d > worst_grad) worst_grad = d;
    float one_sum;
    double one;
    lsf_bce_logits(&l[i], &x[i], 1, 1.0f, &one_sum, &one);
    double ld = l[i], xd = x[i];
    double ref = fmax(ld, 0) - ld * xd + log1p(exp(-fabs(ld)));
    /* float arithmetic on l and l * x alone rounds by about an ulp of |l| */
    if (fabs(one - ref) > 3e-7 * (1.0 + fabs(ld))) {
      printf("  bce at logit %g, target %g: %.9g, want %.9g\n", ld, xd, one, ref);
      failures++;
      break;
    }
  }
  expect(fabs(sum - want) < 1e-6 * want, "bce sum within 1e-6 of libm");
  expect(worst_grad < 1e-7, "bce gradient within 1e-7 of libm");
}

int main(void) {
  test_adam_matches_the_formula();
  test_bce_logits_matches_hand_values();
  test_bce_logits_matches_libm_across_logits();
  test_grid_layout_and_value_mapping();
  test_pairs_interleave();
  test_errors_never_crash();
  test_png_encodes_a_valid_stream();
  test_scatter_draws_in_palette_colours();
  test_filtered_png_decodes_to_the_same_pixels();
  test_indexed_png_has_the_palette_and_the_indices();
  printf("lsframes %s: %d failed\n", lsf_version(), failures);
  return failures == 0 ? 0 : 1;
}
