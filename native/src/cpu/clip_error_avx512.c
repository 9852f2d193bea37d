/*
 * clip_error_avx512.c — AVX-512 block kernel of awq_clip_error (layout in clip_error.h).
 *
 * Register tile: 4 calibration rows × 64 rows of d (4 zmm), 16 accumulators. Per column k of a
 * group: 4 loads of the transposed block, 4 broadcasts of x, 16 FMAs. At the group's end each
 * partial output is widened to double and its square added to the row's error (8 zmm of doubles
 * per calibration row, kept in a 64-entry array that stays in L1).
 */
#include "clip_error.h"

#if AWQ_X86
#include <immintrin.h>

#define AWQ_INLINE static inline __attribute__((always_inline))

/* e[0..64) += p² for the 4 partial-output vectors p[0..4) of one calibration row */
AWQ_TARGET_AVX512 AWQ_INLINE void add_squares(double *e, const __m512 *p) {
    for (int v = 0; v < 4; v++) {
        __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(p[v]));
        __m512d hi = _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(p[v]), 1)));
        _mm512_storeu_pd(e + 16 * v, _mm512_fmadd_pd(lo, lo, _mm512_loadu_pd(e + 16 * v)));
        _mm512_storeu_pd(e + 16 * v + 8, _mm512_fmadd_pd(hi, hi, _mm512_loadu_pd(e + 16 * v + 8)));
    }
}

/* Rows m .. m+MR-1 of x against the block over columns [k0, k1); squares added to e. */
AWQ_TARGET_AVX512 AWQ_INLINE void tile(const float *x, int64_t K, const float *dt_b, int64_t k0, int64_t k1,
                                       double *e, const int MR) {
    __m512 acc[4][4];
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < 4; v++) acc[i][v] = _mm512_setzero_ps();
    for (int64_t k = k0; k < k1; k++) {
        const float *col = dt_b + k * CE_NB;
        __m512 dv[4];
        for (int v = 0; v < 4; v++) dv[v] = _mm512_loadu_ps(col + 16 * v);
        for (int i = 0; i < MR; i++) {
            __m512 xv = _mm512_set1_ps(x[i * K + k]);
            for (int v = 0; v < 4; v++) acc[i][v] = _mm512_fmadd_ps(xv, dv[v], acc[i][v]);
        }
    }
    for (int i = 0; i < MR; i++) add_squares(e, acc[i]);
}

AWQ_TARGET_AVX512 void awq_clip_error_block_avx512(const awq_clip_error_job *j, const float *dt_b, int64_t n0) {
    int64_t rows = j->N - n0 < CE_NB ? j->N - n0 : CE_NB;
    double e[CE_NB];
    for (int64_t g = 0; g < j->ng; g++) {
        int64_t k0 = g * j->G, k1 = k0 + j->G < j->K ? k0 + j->G : j->K;
        for (int r = 0; r < CE_NB; r++) e[r] = 0.0;
        int64_t m = 0;
        for (; m + 4 <= j->M; m += 4) tile(j->x + m * j->K, j->K, dt_b, k0, k1, e, 4);
        for (; m < j->M; m++) tile(j->x + m * j->K, j->K, dt_b, k0, k1, e, 1);
        for (int64_t r = 0; r < rows; r++) j->err[(n0 + r) * j->ng + g] = e[r] / (double)j->M;
    }
}

#endif /* AWQ_X86 */
