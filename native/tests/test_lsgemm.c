/* C-level tests of lsgemm against a plain triple loop; built with AddressSanitizer and UBSan by `make check`. */
#include "lsgemm.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static int failures;

static void expect(int condition, const char *what) {
  if (!condition) {
    fprintf(stderr, "FAIL: %s\n", what);
    failures++;
  }
}

static float *randoms(long n, unsigned *seed) {
  float *v = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  for (long i = 0; i < n; i++) {
    *seed = *seed * 1103515245u + 12345u;
    v[i] = (float)((*seed >> 8) & 0xFFFF) / 32768.0f - 1.0f;
  }
  return v;
}

/* One product of every transpose case against the triple loop, with padded leading dimensions. */
static void check(int ta, int tb, int m, int n, int k, float beta, unsigned seed) {
  int lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
  float *a = randoms((long)(ta ? k : m) * lda, &seed), *b = randoms((long)(tb ? n : k) * ldb, &seed);
  float *c = randoms((long)m * ldc, &seed), *want = malloc(sizeof(float) * (size_t)(m * ldc > 0 ? m * ldc : 1));
  for (long i = 0; i < (long)m * ldc; i++) {
    want[i] = c[i];
  }
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      double s = beta != 0.0f ? c[(long)i * ldc + j] : 0.0;
      for (int q = 0; q < k; q++) {
        s += (double)(ta ? a[(long)q * lda + i] : a[(long)i * lda + q])
             * (tb ? b[(long)j * ldb + q] : b[(long)q * ldb + j]);
      }
      want[(long)i * ldc + j] = (float)s;
    }
  }
  int rc = lsg_sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
  char what[160];
  snprintf(what, sizeof what, "sgemm ta=%d tb=%d m=%d n=%d k=%d beta=%g returns 0", ta, tb, m, n, k, beta);
  expect(rc == 0, what);
  double worst = 0;
  for (long i = 0; i < (long)m * ldc; i++) {
    double err = fabs((double)c[i] - want[i]) / (1.0 + sqrt((double)k));
    worst = err > worst ? err : worst;
  }
  snprintf(what, sizeof what,
           "sgemm ta=%d tb=%d m=%d n=%d k=%d beta=%g matches the triple loop (worst %.3g), "
           "padding untouched",
           ta, tb, m, n, k, beta, worst);
  expect(worst < 1e-5, what);
  free(a);
  free(b);
  free(c);
  free(want);
}

static void test_every_transpose_case_and_edge_matches_the_triple_loop(void) {
  int sizes[][3] = {{1, 1, 1},      {7, 9, 5},      {8, 32, 8},    {9, 33, 17}, {20, 400, 128},
                    {128, 20, 400}, {128, 400, 20}, {130, 47, 31}, {64, 96, 3}, {3, 100, 0}};
  unsigned seed = 7;
  for (int t = 0; t < 4; t++) {
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      check(t & 1, t >> 1, sizes[s][0], sizes[s][1], sizes[s][2], 0.0f, seed++);
      check(t & 1, t >> 1, sizes[s][0], sizes[s][1], sizes[s][2], 1.0f, seed++);
    }
  }
}

/* Products past the parallel threshold, split by columns and (few columns) by rows, on 1, 2 and 3 threads. */
static void test_split_products_match_on_any_thread_count(void) {
  int threads[] = {2, 3, 1};
  for (int t = 0; t < 3; t++) {
    expect(lsg_set_threads(threads[t]) == 0, "set threads");
    check(0, 1, 128, 400, 784, 0.0f, 11u + t);
    check(1, 0, 400, 784, 128, 0.0f, 21u + t);
    check(0, 0, 128, 20, 4096, 1.0f, 31u + t); /* one column panel: split by rows */
  }
}

static void *set_one_thread(void *unused) {
  (void)unused;
  expect(lsg_set_threads(1) == 0 && lsg_threads() == 1, "the other thread's own count");
  return NULL;
}

/* A count set on one thread (a job's trainer) is not changed by a count another thread sets later. */
static void test_each_thread_keeps_the_count_it_set(void) {
  expect(lsg_set_threads(2) == 0, "set threads");
  pthread_t other;
  expect(pthread_create(&other, NULL, set_one_thread, NULL) == 0, "start a thread");
  pthread_join(other, NULL);
  expect(lsg_threads() == 2, "this thread's count after another thread set 1");
  check(0, 1, 128, 400, 784, 0.0f, 41u);
}

static void test_bad_arguments_are_refused(void) {
  float x[16] = {0};
  expect(lsg_sgemm(0, 0, -1, 2, 2, x, 2, x, 2, 0.0f, x, 2) == -1, "negative size");
  expect(lsg_sgemm(0, 0, 2, 2, 2, x, 1, x, 2, 0.0f, x, 2) == -1, "lda below k");
  expect(lsg_sgemm(1, 0, 3, 2, 2, x, 2, x, 2, 0.0f, x, 2) == -1, "lda below m when transposed");
  expect(lsg_sgemm(0, 0, 2, 2, 2, x, 2, x, 2, 0.5f, x, 2) == -1, "beta other than 0 or 1");
  expect(lsg_sgemm(0, 0, 2, 2, 2, NULL, 2, x, 2, 0.0f, x, 2) == -1, "null matrix");
  expect(lsg_set_threads(0) == -1 && lsg_set_threads(65) == -1, "thread counts outside 1..64");
}

int main(void) {
  if (!lsg_available()) {
    float x[4] = {0};
    expect(lsg_sgemm(0, 0, 1, 1, 1, x, 1, x, 1, 0.0f, x, 1) == -2, "without AVX-512F the product is refused");
    printf("lsgemm: no AVX-512F on this CPU; %d failed\n", failures);
    return failures == 0 ? 0 : 1;
  }
  test_every_transpose_case_and_edge_matches_the_triple_loop();
  test_split_products_match_on_any_thread_count();
  test_each_thread_keeps_the_count_it_set();
  test_bad_arguments_are_refused();
  printf("lsgemm: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}
