/*
 * lsgemm: see include/lsgemm.h.
 *
 * The classic layout (Goto's): op(A) is packed once into panels of 8 rows, stored k-major (8 floats per k);
 * op(B) into panels of 32 columns (32 floats per k, two 512-bit registers). An 8x32 block of C lives in 16
 * registers while k runs: per k, two loads of B, eight broadcasts of A and sixteen fused multiply-adds, so
 * the two FMA pipes never wait on memory. Packing turns every transpose case into the same kernel; the
 * transposing packs move 8x8 blocks through registers. Partial panels are padded with zeros when packed and
 * written back through masks, so the kernel has no edge cases.
 *
 * A product large enough to pay for it is shared between the caller and helper threads, a panel at a time
 * (column panels, or row panels when there are too few column panels). Helpers spin briefly between
 * products, as a step issues fourteen of them back to back, then sleep on a condition variable.
 */
#define _GNU_SOURCE
#include "lsgemm.h"

#include <immintrin.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#define MR 8
#define NR 32
#define MAX_THREADS 64
/* m*n*k below which a product runs on the caller alone: waking a helper costs more than it saves. */
#define PARALLEL_WORK (4L << 20)
/* How long a helper spins for the next product before it sleeps, ns. */
#define SPIN_NS 100000L

#define AVX512 __attribute__((target("avx512f")))

int lsg_available(void) {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") ? 1 : 0;
}

/* ---- scratch ---------------------------------------------------------------------------------------- */

typedef struct {
  float *p;
  size_t cap; /* floats */
} scratch;

static _Thread_local scratch a_scratch, b_scratch;

static float *reserve(scratch *s, size_t floats) {
  if (s->cap < floats) {
    free(s->p);
    size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
    s->p = aligned_alloc(64, bytes);
    s->cap = s->p ? floats : 0;
  }
  return s->p;
}

/* ---- packing ---------------------------------------------------------------------------------------- */

/* dst[j * lddst + i] = src[i * ldsrc + j] for an 8x8 block. */
AVX512 static inline void transpose8(const float *src, long ldsrc, float *dst, long lddst) {
  __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ldsrc), r2 = _mm256_loadu_ps(src + 2 * ldsrc),
         r3 = _mm256_loadu_ps(src + 3 * ldsrc), r4 = _mm256_loadu_ps(src + 4 * ldsrc),
         r5 = _mm256_loadu_ps(src + 5 * ldsrc), r6 = _mm256_loadu_ps(src + 6 * ldsrc),
         r7 = _mm256_loadu_ps(src + 7 * ldsrc);
  __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
         t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
         t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
  __m256 s0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0)),
         s1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2)),
         s2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0)),
         s3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2)),
         s4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0)),
         s5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2)),
         s6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0)),
         s7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_storeu_ps(dst, _mm256_permute2f128_ps(s0, s4, 0x20));
  _mm256_storeu_ps(dst + lddst, _mm256_permute2f128_ps(s1, s5, 0x20));
  _mm256_storeu_ps(dst + 2 * lddst, _mm256_permute2f128_ps(s2, s6, 0x20));
  _mm256_storeu_ps(dst + 3 * lddst, _mm256_permute2f128_ps(s3, s7, 0x20));
  _mm256_storeu_ps(dst + 4 * lddst, _mm256_permute2f128_ps(s0, s4, 0x31));
  _mm256_storeu_ps(dst + 5 * lddst, _mm256_permute2f128_ps(s1, s5, 0x31));
  _mm256_storeu_ps(dst + 6 * lddst, _mm256_permute2f128_ps(s2, s6, 0x31));
  _mm256_storeu_ps(dst + 7 * lddst, _mm256_permute2f128_ps(s3, s7, 0x31));
}

static inline __mmask16 first_bits(int count) {
  return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

/* Rows [i0, i0 + mr) of op(A) as ap[kk * MR + r], zero past mr. */
AVX512 static void pack_a(int trans, const float *a, long lda, int i0, int mr, int k, float *ap) {
  if (trans) { /* element (i, kk) at a[kk * lda + i]: MR contiguous floats per kk */
    __mmask16 mask = first_bits(mr);
    for (int kk = 0; kk < k; kk++) {
      _mm256_storeu_ps(ap + (long)kk * MR, _mm512_castps512_ps256(_mm512_maskz_loadu_ps(mask, a + kk * lda + i0)));
    }
    return;
  }
  const float *rows = a + (long)i0 * lda; /* element (i0 + r, kk) at rows[r * lda + kk] */
  int kk = 0;
  if (mr == MR) {
    for (; kk + 8 <= k; kk += 8) {
      transpose8(rows + kk, lda, ap + (long)kk * MR, MR);
    }
  }
  for (; kk < k; kk++) {
    for (int r = 0; r < MR; r++) {
      ap[(long)kk * MR + r] = r < mr ? rows[r * lda + kk] : 0.0f;
    }
  }
}

/* Columns [j0, j0 + nr) of op(B) as bp[kk * NR + c], zero past nr. */
AVX512 static void pack_b(int trans, const float *b, long ldb, int j0, int nr, int k, float *bp) {
  if (!trans) { /* element (kk, j) at b[kk * ldb + j]: contiguous columns */
    __mmask16 lo = first_bits(nr), hi = first_bits(nr - 16);
    for (int kk = 0; kk < k; kk++) {
      const float *row = b + kk * ldb + j0;
      _mm512_store_ps(bp + (long)kk * NR, _mm512_maskz_loadu_ps(lo, row));
      _mm512_store_ps(bp + (long)kk * NR + 16, _mm512_maskz_loadu_ps(hi, row + 16));
    }
    return;
  }
  const float *cols = b + (long)j0 * ldb; /* element (kk, j0 + c) at cols[c * ldb + kk] */
  int full = nr / 8 * 8;                  /* columns covered by whole 8x8 blocks */
  int kk = 0;
  for (; kk + 8 <= k; kk += 8) {
    for (int c = 0; c < full; c += 8) {
      transpose8(cols + c * ldb + kk, ldb, bp + (long)kk * NR + c, NR);
    }
    for (int q = kk; q < kk + 8; q++) {
      for (int c = full; c < NR; c++) {
        bp[(long)q * NR + c] = c < nr ? cols[c * ldb + q] : 0.0f;
      }
    }
  }
  for (; kk < k; kk++) {
    for (int c = 0; c < NR; c++) {
      bp[(long)kk * NR + c] = c < nr ? cols[c * ldb + kk] : 0.0f;
    }
  }
}

/* ---- the kernel ------------------------------------------------------------------------------------- */

/* C[0..mr) x [0..nr) = (add ? C : 0) + panel(ap) * panel(bp) over k. */
AVX512 static void kernel(int k, const float *ap, const float *bp, float *c, long ldc, int mr, int nr, int add) {
  __m512 c0a = _mm512_setzero_ps(), c0b = c0a, c1a = c0a, c1b = c0a, c2a = c0a, c2b = c0a, c3a = c0a, c3b = c0a,
         c4a = c0a, c4b = c0a, c5a = c0a, c5b = c0a, c6a = c0a, c6b = c0a, c7a = c0a, c7b = c0a;
  for (int kk = 0; kk < k; kk++) {
    const float *pa = ap + (long)kk * MR;
    __m512 b0 = _mm512_load_ps(bp + (long)kk * NR), b1 = _mm512_load_ps(bp + (long)kk * NR + 16), x;
#define LSG_ROW(r)                           \
  x = _mm512_set1_ps(pa[r]);                 \
  c##r##a = _mm512_fmadd_ps(x, b0, c##r##a); \
  c##r##b = _mm512_fmadd_ps(x, b1, c##r##b);
    LSG_ROW(0) LSG_ROW(1) LSG_ROW(2) LSG_ROW(3) LSG_ROW(4) LSG_ROW(5) LSG_ROW(6) LSG_ROW(7)
#undef LSG_ROW
  }
  __mmask16 lo = first_bits(nr), hi = first_bits(nr - 16);
#define LSG_STORE(r)                                                         \
  if (r < mr) {                                                              \
    float *row = c + r * ldc;                                                \
    if (add) {                                                               \
      c##r##a = _mm512_add_ps(c##r##a, _mm512_maskz_loadu_ps(lo, row));      \
      c##r##b = _mm512_add_ps(c##r##b, _mm512_maskz_loadu_ps(hi, row + 16)); \
    }                                                                        \
    _mm512_mask_storeu_ps(row, lo, c##r##a);                                 \
    _mm512_mask_storeu_ps(row + 16, hi, c##r##b);                            \
  }
  LSG_STORE(0) LSG_STORE(1) LSG_STORE(2) LSG_STORE(3) LSG_STORE(4) LSG_STORE(5) LSG_STORE(6) LSG_STORE(7)
#undef LSG_STORE
}

/* ---- one product ------------------------------------------------------------------------------------ */

typedef struct {
  int m, n, k, trans_b, add, by_rows;
  const float *ap; /* op(A), packed whole */
  const float *b;
  long ldb, ldc;
  float *c;
} product;

/* Column panels [q0, q1) against row panels [p0, p1). */
static int run(const product *w, int q0, int q1, int p0, int p1) {
  if (q0 >= q1 || p0 >= p1) {
    return 0;
  }
  float *bp = reserve(&b_scratch, (size_t)w->k * NR);
  if (bp == NULL) {
    return -3;
  }
  for (int q = q0; q < q1; q++) {
    int j0 = q * NR, nr = w->n - j0 < NR ? w->n - j0 : NR;
    pack_b(w->trans_b, w->b, w->ldb, j0, nr, w->k, bp);
    for (int p = p0; p < p1; p++) {
      int i0 = p * MR, mr = w->m - i0 < MR ? w->m - i0 : MR;
      kernel(w->k, w->ap + (size_t)p * w->k * MR, bp, w->c + (long)i0 * w->ldc + j0, w->ldc, mr, nr, w->add);
    }
  }
  return 0;
}

/* Unit u of a split product: one column panel against every row panel, or one row panel against all. */
static int run_unit(const product *w, int u) {
  if (w->by_rows) {
    return run(w, 0, (w->n + NR - 1) / NR, u, u + 1);
  }
  return run(w, u, u + 1, 0, (w->m + MR - 1) / MR);
}

/* ---- helper threads --------------------------------------------------------------------------------- */

/*
 * A split product is handed out a unit at a time: whoever is running takes the next, so a helper the
 * scheduler has put aside (a busy machine) costs the caller at most the unit it holds, not half the work.
 * The product's generation and its next unit share one atomic word; a unit is taken by a compare-and-swap
 * that names the generation. A helper copies the product, its unit count and its generation together
 * under pool.mu, where the caller publishes them, so the three always belong to one product: a helper
 * whose copy is old finds its generation gone and takes nothing (all of an older product's units were
 * taken before its caller returned). Reading the product without the lock, as this file once did, raced
 * with the next caller's write (undefined in C11, and a stale unit count could hand out a unit twice).
 * Every other field shared between threads is atomic or guarded by a mutex; ThreadSanitizer checks it
 * (make check-tsan).
 */
static struct {
  pthread_mutex_t mu; /* guards sleeping helpers' wake-up */
  pthread_cond_t wake;
  pthread_mutex_t busy; /* held by the caller whose product is being shared */
  pthread_mutex_t config;
  _Atomic uint64_t ticket; /* generation << 32 | next unit */
  atomic_int finished;     /* units of the current product done */
  atomic_int failed;       /* first nonzero return of a unit */
  int helpers;             /* started, never stopped; guarded by config */
  atomic_int threads;      /* wanted by a thread that set no count of its own, the caller included */
  product work;            /* the current product: guarded by mu, written with its generation */
  int units;               /* its unit count: guarded by mu */
} pool = {PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_COND_INITIALIZER,
          PTHREAD_MUTEX_INITIALIZER,
          PTHREAD_MUTEX_INITIALIZER,
          0,
          0,
          0,
          0,
          1,
          {0},
          0};

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Takes and runs units of generation gen until none is left. */
static void take_units(uint32_t gen, const product *w, int units) {
  uint64_t t = atomic_load(&pool.ticket);
  while ((uint32_t)(t >> 32) == gen && (int)(uint32_t)t < units) {
    if (atomic_compare_exchange_weak(&pool.ticket, &t, t + 1)) {
      int rc = run_unit(w, (int)(uint32_t)t);
      if (rc != 0) {
        int none = 0;
        atomic_compare_exchange_strong(&pool.failed, &none, rc);
      }
      atomic_fetch_add_explicit(&pool.finished, 1, memory_order_release);
      t = atomic_load(&pool.ticket);
    }
  }
}

static void *helper(void *arg) {
  (void)arg;
  uint32_t seen = (uint32_t)(atomic_load(&pool.ticket) >> 32);
  for (;;) {
    uint32_t g = (uint32_t)(atomic_load_explicit(&pool.ticket, memory_order_acquire) >> 32);
    if (g == seen) {
      long until = now_ns() + SPIN_NS;
      while ((g = (uint32_t)(atomic_load_explicit(&pool.ticket, memory_order_acquire) >> 32)) == seen
             && now_ns() < until) {
        for (int i = 0; i < 32; i++) {
          _mm_pause();
        }
      }
    }
    /* The product, its unit count and its generation, read together where share() writes them. */
    pthread_mutex_lock(&pool.mu);
    while ((g = (uint32_t)(atomic_load(&pool.ticket) >> 32)) == seen) {
      pthread_cond_wait(&pool.wake, &pool.mu);
    }
    product w = pool.work;
    int units = pool.units;
    pthread_mutex_unlock(&pool.mu);
    seen = g;
    take_units(g, &w, units);
  }
  return NULL;
}

/*
 * The count the calling thread set, 0 until it sets one. Each job trains on a thread of its own, so a job
 * started later does not change the count of one already running; the pool grows to the largest count any
 * thread asked for, and a thread that never set one goes by the last count set (pool.threads).
 */
static _Thread_local int own_threads;

int lsg_threads(void) { return own_threads > 0 ? own_threads : atomic_load(&pool.threads); }

int lsg_set_threads(int threads) {
  if (threads < 1 || threads > MAX_THREADS) {
    return -1;
  }
  pthread_mutex_lock(&pool.config);
  int rc = 0;
  while (pool.helpers < threads - 1) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&t, &attr, helper, NULL);
    pthread_attr_destroy(&attr);
    if (failed) {
      rc = -1;
      break;
    }
    pool.helpers++;
  }
  if (rc == 0) {
    atomic_store(&pool.threads, threads);
    own_threads = threads;
  }
  pthread_mutex_unlock(&pool.config);
  return rc;
}

/* Shares w between the caller and the helpers; the caller holds pool.busy. */
static int share(const product *w, int units) {
  atomic_store(&pool.finished, 0);
  atomic_store(&pool.failed, 0);
  uint32_t gen = (uint32_t)(atomic_load(&pool.ticket) >> 32) + 1;
  pthread_mutex_lock(&pool.mu);
  pool.work = *w;
  pool.units = units;
  atomic_store_explicit(&pool.ticket, (uint64_t)gen << 32, memory_order_release);
  pthread_cond_broadcast(&pool.wake);
  pthread_mutex_unlock(&pool.mu);
  take_units(gen, w, units);
  /* A helper may still be on its last unit; if the scheduler put it aside, give it the core. */
  long until = now_ns() + SPIN_NS / 2;
  while (atomic_load_explicit(&pool.finished, memory_order_acquire) < units) {
    if (now_ns() < until) {
      _mm_pause();
    } else {
      sched_yield();
    }
  }
  return atomic_load(&pool.failed);
}
/* ---- entry ------------------------------------------------------------------------------------------ */

int lsg_sgemm(int trans_a, int trans_b, int m, int n, int k, const float *a, int lda, const float *b, int ldb,
              float beta, float *c, int ldc) {
  if (m < 0 || n < 0 || k < 0 || (beta != 0.0f && beta != 1.0f)) {
    return -1;
  }
  if (m == 0 || n == 0) {
    return 0;
  }
  if (c == NULL || ldc < n
      || (k > 0 && (a == NULL || b == NULL || lda < (trans_a ? m : k) || ldb < (trans_b ? k : n)))) {
    return -1;
  }
  if (!lsg_available()) {
    return -2;
  }
  if (k == 0) {
    if (beta == 0.0f) {
      for (int i = 0; i < m; i++) {
        memset(c + (long)i * ldc, 0, sizeof(float) * (size_t)n);
      }
    }
    return 0;
  }
  int row_panels = (m + MR - 1) / MR, col_panels = (n + NR - 1) / NR;
  float *ap = reserve(&a_scratch, (size_t)row_panels * k * MR);
  if (ap == NULL) {
    return -3;
  }
  for (int p = 0; p < row_panels; p++) {
    int i0 = p * MR;
    pack_a(trans_a, a, lda, i0, m - i0 < MR ? m - i0 : MR, k, ap + (size_t)p * k * MR);
  }
  product w = {m, n, k, trans_b, beta != 0.0f, 0, ap, b, ldb, ldc, c};
  int threads = lsg_threads();
  if (threads > 1 && (long)m * n * k >= PARALLEL_WORK && (col_panels > 1 || row_panels > 1)
      && pthread_mutex_trylock(&pool.busy) == 0) {
    /* (Another job's trainer on the helpers: this one runs alone rather than wait.) Column panels make the
       units unless there are too few of them to share. */
    w.by_rows = col_panels < 2 * threads && row_panels > col_panels;
    int rc = share(&w, w.by_rows ? row_panels : col_panels);
    pthread_mutex_unlock(&pool.busy);
    return rc;
  }
  return run(&w, 0, col_panels, 0, row_panels);
}
