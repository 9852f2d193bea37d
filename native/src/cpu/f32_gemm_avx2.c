/*
 * f32_gemm_avx2.c — AVX2 + FMA (+ F16C) block kernels of awq_f32_gemm and awq_f16_gemm.
 *
 * Same scheme as the AVX-512 kernels with 8 lanes and 16 ymm registers: a tile of up to 4 rows of
 * x by 3 rows of w keeps 12 independent accumulator chains in flight (enough to cover FMA latency)
 * plus 3 weight and 1 activation register: 7 loads per 12 FMAs. The K tail is a masked load (zero lanes add exactly
 * nothing; fp16 tails go through a zero-padded copy), and every output ends with the same
 * horizontal reduction, so an output's value does not depend on which tile computed it.
 */
#include "layers_internal.h"

#if AWQ_X86
#include <immintrin.h>
#include <string.h>

#define AWQ_INLINE static inline __attribute__((always_inline))

AWQ_TARGET_AVX2 AWQ_INLINE __m256 load_w(const void *w, int64_t off, int f16) {
    if (f16) return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)((const uint16_t *)w + off)));
    return _mm256_loadu_ps((const float *)w + off);
}

/* Lanes 0..rem-1 of w[off..], zero above; never reads past the row's end. */
AWQ_TARGET_AVX2 AWQ_INLINE __m256 load_w_tail(const void *w, int64_t off, int rem, __m256i mask, int f16) {
    if (f16) {
        uint16_t buf[8] = {0};
        memcpy(buf, (const uint16_t *)w + off, (size_t)rem * sizeof(uint16_t));
        return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)buf));
    }
    return _mm256_maskload_ps((const float *)w + off, mask);
}

/* y[i*N + j] = x row i · w row j for i < MR, j < NR; x and w point at the tile's first rows. */
AWQ_TARGET_AVX2 AWQ_INLINE void tile(const float *x, int64_t K, const void *w, float *y, int64_t N,
                                     const int MR, const int NR, const int f16) {
    __m256 acc[4][3];
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) acc[i][j] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 wv[3];
        for (int j = 0; j < NR; j++) wv[j] = load_w(w, j * K + k, f16);
        for (int i = 0; i < MR; i++) {
            __m256 xv = _mm256_loadu_ps(x + i * K + k);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    if (k < K) {
        int rem = (int)(K - k);
        __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        __m256 wv[3];
        for (int j = 0; j < NR; j++) wv[j] = load_w_tail(w, j * K + k, rem, mask, f16);
        for (int i = 0; i < MR; i++) {
            __m256 xv = _mm256_maskload_ps(x + i * K + k, mask);
            for (int j = 0; j < NR; j++) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < MR; i++)
        for (int j = 0; j < NR; j++) {
            /* fixed tree: (lo128 + hi128), then pairs, then the last two lanes */
            __m128 s = _mm_add_ps(_mm256_castps256_ps128(acc[i][j]), _mm256_extractf128_ps(acc[i][j], 1));
            s = _mm_add_ps(s, _mm_movehl_ps(s, s));
            s = _mm_add_ss(s, _mm_movehdup_ps(s));
            y[i * N + j] = _mm_cvtss_f32(s);
        }
}

#define TILE_CASE(mr, nr)                                                                          \
    case (mr) * 8 + (nr): tile(xt, K, wt, yt, N, mr, nr, f16); break;

AWQ_TARGET_AVX2 AWQ_INLINE void block(const float *x, int64_t K, const void *w, float *y, int64_t N,
                                      int64_t m0, int64_t m1, int64_t n0, int64_t n1, const int f16) {
    const size_t wsize = f16 ? sizeof(uint16_t) : sizeof(float);
    for (int64_t n = n0; n < n1; n += 3) {
        int nr = n1 - n < 3 ? (int)(n1 - n) : 3;
        const void *wt = (const char *)w + (size_t)(n * K) * wsize;
        for (int64_t m = m0; m < m1; m += 4) {
            int mr = m1 - m < 4 ? (int)(m1 - m) : 4;
            const float *xt = x + m * K;
            float *yt = y + m * N + n;
            switch (mr * 8 + nr) {
                TILE_CASE(1, 1) TILE_CASE(1, 2) TILE_CASE(1, 3)
                TILE_CASE(2, 1) TILE_CASE(2, 2) TILE_CASE(2, 3)
                TILE_CASE(3, 1) TILE_CASE(3, 2) TILE_CASE(3, 3)
                TILE_CASE(4, 1) TILE_CASE(4, 2) TILE_CASE(4, 3)
            default: break;
            }
        }
    }
}

AWQ_TARGET_AVX2 void awq_f32_gemm_block_avx2(const float *x, int64_t K, const void *w, float *y,
                                             int64_t N, int64_t m0, int64_t m1, int64_t n0,
                                             int64_t n1) {
    block(x, K, w, y, N, m0, m1, n0, n1, 0);
}

AWQ_TARGET_AVX2 void awq_f16_gemm_block_avx2(const float *x, int64_t K, const void *w, float *y,
                                             int64_t N, int64_t m0, int64_t m1, int64_t n0,
                                             int64_t n1) {
    block(x, K, w, y, N, m0, m1, n0, n1, 1);
}

#endif /* AWQ_X86 */
