/*
 * f32_gemm_avx512.c — AVX-512 block kernels of awq_f32_gemm and awq_f16_gemm.
 *
 * Register tile: up to 4 rows of x by 4 rows of w, 16 zmm accumulators, one per output, each
 * holding 16 lanes of partial sums along K. Per 16-wide step of K: 4 weight loads (fp16 weights
 * are widened with VCVTPH2PS as they are loaded), 4 activation loads, 16 FMAs. The K tail uses a
 * masked load (zero lanes add exactly nothing) and every output ends with the same horizontal
 * reduction, so an output's value does not depend on which tile shape computed it.
 */
#include "layers_internal.h"

#if AWQ_X86
#include <immintrin.h>

#define AWQ_INLINE static inline __attribute__((always_inline))

AWQ_TARGET_AVX512 AWQ_INLINE __m512 load_w(const void *w, int64_t off, int f16) {
    if (f16) return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)((const uint16_t *)w + off)));
    return _mm512_loadu_ps((const float *)w + off);
}

AWQ_TARGET_AVX512 AWQ_INLINE __m512 load_w_tail(const void *w, int64_t off, __mmask16 mask, int f16) {
    if (f16) return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mask, (const uint16_t *)w + off));
    return _mm512_maskz_loadu_ps(mask, (const float *)w + off);
}

/* y[i*N + j] = x row i · w row j for i < MR, j < NR; x and w point at the tile's first rows. */
AWQ_TARGET_AVX512 AWQ_INLINE void tile(const float *x, int64_t K, const void *w, float *y, int64_t N,
                                       const int MR, const int NR, const int f16) {
    __m512 acc[4][4];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm512_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 wv[4];
        for (int j = 0; j < NR; j++) wv[j] = load_w(w, j * K + k, f16);
        for (int i = 0; i < MR; i++) {
            __m512 xv = _mm512_loadu_ps(x + i * K + k);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    if (k < K) {
        __mmask16 mask = (__mmask16)((1u << (K - k)) - 1u);
        __m512 wv[4];
        for (int j = 0; j < NR; j++) wv[j] = load_w_tail(w, j * K + k, mask, f16);
        for (int i = 0; i < MR; i++) {
            __m512 xv = _mm512_maskz_loadu_ps(mask, x + i * K + k);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) y[i * N + j] = _mm512_reduce_add_ps(acc[i][j]);
}

#define TILE_CASE(mr, nr)                                                                          \
    case (mr) * 8 + (nr): tile(xt, K, wt, yt, N, mr, nr, f16); break;

AWQ_TARGET_AVX512 AWQ_INLINE void block(const float *x, int64_t K, const void *w, float *y, int64_t N,
                                        int64_t m0, int64_t m1, int64_t n0, int64_t n1, const int f16) {
    const size_t wsize = f16 ? sizeof(uint16_t) : sizeof(float);
    /* w rows outer: a 4-row weight strip stays in L1 while it meets every activation row of the tile */
    for (int64_t n = n0; n < n1; n += 4) {
        int nr = n1 - n < 4 ? (int)(n1 - n) : 4;
        const void *wt = (const char *)w + (size_t)(n * K) * wsize;
        for (int64_t m = m0; m < m1; m += 4) {
            int mr = m1 - m < 4 ? (int)(m1 - m) : 4;
            const float *xt = x + m * K;
            float *yt = y + m * N + n;
            switch (mr * 8 + nr) {
                TILE_CASE(1, 1) TILE_CASE(1, 2) TILE_CASE(1, 3) TILE_CASE(1, 4)
                TILE_CASE(2, 1) TILE_CASE(2, 2) TILE_CASE(2, 3) TILE_CASE(2, 4)
                TILE_CASE(3, 1) TILE_CASE(3, 2) TILE_CASE(3, 3) TILE_CASE(3, 4)
                TILE_CASE(4, 1) TILE_CASE(4, 2) TILE_CASE(4, 3) TILE_CASE(4, 4)
            default: break;
            }
        }
    }
}

AWQ_TARGET_AVX512 void awq_f32_gemm_block_avx512(const float *x, int64_t K, const void *w, float *y,
                                                 int64_t N, int64_t m0, int64_t m1, int64_t n0,
                                                 int64_t n1) {
    block(x, K, w, y, N, m0, m1, n0, n1, 0);
}

AWQ_TARGET_AVX512 void awq_f16_gemm_block_avx512(const float *x, int64_t K, const void *w, float *y,
                                                 int64_t N, int64_t m0, int64_t m1, int64_t n0,
                                                 int64_t n1) {
    block(x, K, w, y, N, m0, m1, n0, n1, 1);
}

#endif /* AWQ_X86 */
