/*
 * lsgemm: single-precision GEMM for the trainer's hand-written steps, on CPUs with AVX-512F.
 *
 * C = op(A) op(B) + beta C, row-major, with op(X) = X or its transpose. The trainer's matrices are small
 * (a batch of 128 against layers of a few hundred units), where a packed 8x32 outer-product kernel in
 * 512-bit registers and a single helper thread do better than a general BLAS kept to 256-bit kernels.
 */
#ifndef LSGEMM_H
#define LSGEMM_H

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when this CPU runs the kernels (AVX-512F), else 0: callers then use a BLAS. */
int lsg_available(void);

/*
 * Threads the calling thread's products may use, its own included (1 to 64; 1 = the caller alone). The
 * count belongs to the calling thread: another thread's call changes it only for a thread that never set
 * one. Returns 0, or -1 for a count outside that range or a helper thread that could not start (the count
 * is then unchanged).
 */
int lsg_set_threads(int threads);

/* The count the calling thread's products use (see lsg_set_threads). */
int lsg_threads(void);

/*
 * trans_a: A is stored k x m (lda >= m) when nonzero, else m x k (lda >= k); likewise trans_b (k x n, or
 * n x k). beta is 0 (C is overwritten, never read) or 1 (added to). Returns 0; -1 for bad arguments
 * (negative sizes, a leading dimension too small, beta other than 0 or 1, a null matrix with nonzero
 * sizes), -2 when the CPU lacks AVX-512F, -3 when scratch memory could not be had.
 */
int lsg_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc);

#ifdef __cplusplus
}
#endif

#endif
