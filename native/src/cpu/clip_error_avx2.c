/*
 * clip_error_avx2.c — AVX2 block kernel of awq_clip_error (layout in clip_error.h).
 *
 * Register tile: 2 calibration rows × 32 rows of d (4 ymm), 8 accumulators; the 64-row block is
 * two such halves. Per column k: 4 loads, 2 broadcasts, 8 FMAs. Squares are added in double as
 * in the AVX-512 kernel, so both produce the scalar reference's bits.
 */
#include "clip_error.h"

#if AWQ_X86
#include <immintrin.h>

#define AWQ_INLINE static inline __attribute__((always_inline))

/* e[0..32) += p² for the 4 partial-output vectors p[0..4) of one calibration row */
AWQ_TARGET_AVX2 AWQ_INLINE void add_squares(double *e, const __m256 *p) {
    for (int v = 0; v < 4; v++) {
        __m256d lo = _mm256_cvtps_pd(_mm256_castps256_ps128(p[v]));
        __m256d hi = _mm256_cvtps_pd(_mm256_extractf128_ps(p[v], 1));
        _mm256_storeu_pd(e + 8 * v, _mm256_fmadd_pd(lo, lo, _mm256_loadu_pd(e + 8 * v)));
        _mm256_storeu_pd(e + 8 * v + 4, _mm256_fmadd_pd(hi, hi, _mm256_loadu_pd(e + 8 * v + 4)));
    }
}

/* Rows m .. m+MR-1 of x against 32 rows of the block (column offset h) over [k0, k1). */
AWQ_TARGET_AVX2 AWQ_INLINE void tile(const float *x, int64_t K, const float *dt_b, int h, int64_t k0, int64_t k1,
                                     double *e, const int MR) {
    __m256 acc[2][4];
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm256_setzero_ps();
    for (int64_t k = k0; k < k1; k++) {
        const float *col = dt_b + k * CE_NB + h;
        __m256 dv[4];
        for (int v = 0; v < 4; v++) dv[v] = _mm256_loadu_ps(col + 8 * v);
        for (int i = 0; i < MR; i++) {
            __m256 xv = _mm256_set1_ps(x[i * K + k]);
            for (int v = 0; v < 4; v++) acc[i][v] = _mm256_fmadd_ps(xv, dv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; i++) add_squares(e + h, acc[i]);
}

AWQ_TARGET_AVX2 void awq_clip_error_block_avx2(const awq_clip_error_job *j, const float *dt_b, int64_t n0) {
    int64_t rows = j->N - n0 < CE_NB ? j->N - n0 : CE_NB;
    double e[CE_NB];
    for (int64_t g = 0; g < j->ng; g++) {
        int64_t k0 = g * j->G, k1 = k0 + j->G < j->K ? k0 + j->G : j->K;
        for (int r = 0; r < CE_NB; r++) e[r] = 0.0;
        for (int h = 0; h < CE_NB; h += 32) {
            if (h >= rows) break;
            int64_t m = 0;
            for (; m + 2 <= j->M; m += 2) tile(j->x + m * j->K, j->K, dt_b, h, k0, k1, e, 2);
            for (; m < j->M; m++) tile(j->x + m * j->K, j->K, dt_b, h, k0, k1, e, 1);
        }
        for (int64_t r = 0; r < rows; r++) j->err[(n0 + r) * j->ng + g] = e[r] / (double)j->M;
    }
}

#endif /* AWQ_X86 */
