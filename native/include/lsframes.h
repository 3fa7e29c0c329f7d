/*
 * lsframes — frame kernels for latentstream.
 *
 * Turns float tensor memory into 8-bit images and PNG files. Every function reads caller-owned input
 * and writes into caller-owned output buffers whose sizes are passed explicitly; nothing is allocated
 * for the caller and nothing is kept between calls (there is no global state). Functions return an
 * int status: LSF_OK (0) or a negative LSF_E* code; lsf_strerror() describes a code.
 *
 * Images are row-major. Grey images have one byte per pixel, RGBA images four (R, G, B, A).
 * Float batches are laid out [n][h][w] (one channel), C-contiguous, as libtorch stores them.
 */
#ifndef LSFRAMES_H
#define LSFRAMES_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum lsf_status {
  LSF_OK = 0,
  LSF_EINVAL = -1,    /* an argument is out of range (negative size, empty batch, hi <= lo, ...) */
  LSF_ETOOSMALL = -2, /* an input or output buffer is smaller than the arguments require */
  LSF_EZLIB = -3,     /* zlib failed while compressing */
  LSF_ENULL = -4      /* a required pointer is NULL */
};

/* The library version, e.g. "1.0.0". */
const char *lsf_version(void);

/* A static English description of a status code. */
const char *lsf_strerror(int status);

/*
 * The size of a grid of n tiles of h x w pixels, `columns` per row (fewer if n is smaller), with
 * `gap` background pixels around and between tiles.
 */
int lsf_grid_size(int32_t n, int32_t h, int32_t w, int32_t columns, int32_t gap, int32_t *out_width,
                  int32_t *out_height);

/*
 * Tiles n grey images of h x w floats into an 8-bit grid (see lsf_grid_size; background 0). A value v
 * maps to 0 when v <= lo or v is NaN, to 255 when v >= hi, else to floor((v - lo) * (255 / (hi - lo)) + 0.5)
 * in float arithmetic.
 * src holds src_count floats (at least n*h*w); dst holds dst_size bytes (at least width*height).
 */
int lsf_tile_grey(const float *src, int64_t src_count, int32_t n, int32_t h, int32_t w, int32_t columns, int32_t gap,
                  float lo, float hi, uint8_t *dst, int64_t dst_size);

/*
 * Originals beside reconstructions: a grid of 2n tiles, 2*columns per row, in the order original 0,
 * reconstruction 0, original 1, reconstruction 1, ... Same value mapping as lsf_tile_grey. Both inputs
 * hold `count` floats (at least n*h*w).
 */
int lsf_tile_pairs(const float *originals, const float *reconstructions, int64_t count, int32_t n, int32_t h, int32_t w,
                   int32_t columns, int32_t gap, float lo, float hi, uint8_t *dst, int64_t dst_size);

/*
 * Draws n labelled points onto an RGBA image `width` x `height` that the caller has already filled
 * (background, axes, legend). Points are (x, y) float pairs in xy; the square plot area is the left
 * `size` x `size` pixels, spanning [xmin, xmax] x [ymin, ymax] (y grows upwards). Each point is a
 * 5-pixel disc in the tab10 colour of its label (labels cycle through the ten colours), blended at
 * alpha 176/255. Points that are not finite or fall outside the plot area are skipped.
 */
int lsf_scatter_rgba(const float *xy, const int32_t *labels, int32_t n, float xmin, float xmax, float ymin, float ymax,
                     int32_t size, uint8_t *rgba, int32_t width, int32_t height, int64_t rgba_size);

/* An upper bound of the PNG size of a width x height image of `channels` (1 or 4) bytes per pixel. */
int64_t lsf_png_bound(int32_t width, int32_t height, int32_t channels);

/*
 * Encodes a grey (channels 1) or RGBA (channels 4) image as PNG with zlib at `level` (0-9) into dst
 * (dst_capacity bytes; lsf_png_bound is always enough). For speed, levels 0 and 1 store rows unfiltered
 * and use run-length matching (Z_RLE), which suits frames with flat backgrounds; levels 2-9 filter each
 * row with the cheapest of none, sub, up and paeth (libpng's minimum-sum heuristic) and use zlib's
 * default strategy, which roughly halves smooth images such as decoded digits. On success *out_size is the
 * PNG's length.
 */
int lsf_png_encode(const uint8_t *pixels, int64_t pixels_size, int32_t width, int32_t height, int32_t channels,
                   int32_t level, uint8_t *dst, int64_t dst_capacity, int64_t *out_size);

/*
 * Encodes a palette image as PNG (colour type 3, bit depth 8): width x height bytes of indices into
 * palette_rgb, which holds `entries` (1-256) RGB triples. dst_capacity must be at least
 * lsf_png_bound(width, height, 1) + 780. An index at or past `entries` is LSF_EINVAL. A scatter plot of ten
 * classes on white has a few hundred colours at most, and its PNG is about a quarter of the RGBA one.
 */
int lsf_png_encode_indexed(const uint8_t *indices, int64_t indices_size, int32_t width, int32_t height,
                           const uint8_t *palette_rgb, int32_t entries, int32_t level, uint8_t *dst,
                           int64_t dst_capacity, int64_t *out_size);

/*
 * A training kernel that lives here because it reads tensor memory the same way: one Adam step
 * (Kingma & Ba, with the bias corrections of PyTorch's Adam and no weight decay) over n parameters in
 * a single pass. param, exp_avg and exp_avg_sq are updated in place; step is the 1-based step count
 * after this update. All four arrays hold at least n floats and must not overlap.
 */
int lsf_adam_step(float *param, const float *grad, float *exp_avg, float *exp_avg_sq, int64_t n, float lr, float beta1,
                  float beta2, float eps, int64_t step);

/*
 * Binary cross-entropy with logits and its gradient in one pass, for n logits l against targets x in
 * [0, 1]: *loss_sum = sum_i (max(l, 0) - l x + log1p(exp(-|l|))) in double, and
 * grad[i] = (sigmoid(l) - x) * grad_scale, the gradient of grad_scale * loss with respect to l. Stable
 * for any finite logit. grad must not overlap the inputs.
 */
int lsf_bce_logits(const float *logits, const float *target, int64_t n, float grad_scale, float *grad,
                   double *loss_sum);

/*
 * The elementwise steps of a hand-written MLP VAE step (row-major matrices of rows x cols floats):
 * lsf_bias_act adds bias[c] to every row and, when relu is non-zero, applies max(y, 0).
 * lsf_relu_grad_colsum zeroes grad where act <= 0 (act may be NULL: no mask), then writes the column
 * sums of grad (the bias gradient) to bias_grad.
 * lsf_vae_sample: std = exp(log_var / 2), z = mu + eps * std, over n values.
 * lsf_vae_latent_backward: with grad_z the gradient reaching z, writes the gradients of
 * loss + kl_scale * KL with respect to mu and log_var, and the summed KL, -1/2 sum(1 + lv - mu^2 - e^lv).
 */
int lsf_bias_act(float *y, const float *bias, int64_t rows, int64_t cols, int relu);
int lsf_relu_grad_colsum(float *grad, const float *act, int64_t rows, int64_t cols, float *bias_grad);
int lsf_vae_sample(const float *mu, const float *log_var, const float *eps, int64_t n, float *z, float *std);
int lsf_vae_latent_backward(const float *grad_z, const float *mu, const float *log_var, const float *eps,
                            const float *std, int64_t n, float kl_scale, float *grad_mu, float *grad_log_var,
                            double *kl_sum);

/*
 * Training batches from image bytes: out[i] = pixels[order[i]] as floats b / 255 (image_size values per
 * image, count images). Every order[i] must be in [0, images): otherwise LSF_EINVAL, with out untouched.
 */
int lsf_gather_unit(const uint8_t *pixels, int64_t images, int64_t image_size, const int64_t *order, int64_t count,
                    float *out);

#ifdef __cplusplus
}
#endif

#endif
