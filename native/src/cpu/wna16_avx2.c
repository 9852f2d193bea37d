/*
 * wna16_avx2.c — AVX2 + FMA + F16C kernel of awq_wna16_gemm (math and layout: wna16.h).
 *
 * Dequantization: one unpacking cycle at a time (≤ 4 words in a 128-bit load, copied into a zeroed
 * buffer at the end of a row so nothing past the row is read), each vector of 8 columns by
 * vpermd / vpsrlvd / vpand, converted to fp32 and dequantized exactly by one fmsub, q·s − z·s.
 * A vector that straddles two groups (the group size is not a multiple of 8) takes per-lane
 * scales out of line. Lanes past K are zeroed. Dot products: four 8-wide accumulators, a masked
 * load for the last partial vector of x (never reading past the row).
 */
#include "wna16.h"

#if AWQ_X86
#include <immintrin.h>
#include <string.h>

#define T2 AWQ_TARGET_AVX2
#define INL static inline __attribute__((always_inline))

T2 INL float wn_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Per-lane s and z·s for the 8 columns at k that span more than one group (lanes past K take
 * the last column's group; they are zeroed afterwards). */
T2 __attribute__((noinline)) static void wn_lane_scales(const uint16_t *sc, const uint8_t *zr, int64_t G, int64_t k,
                                                         int64_t K, __m256 *s, __m256 *zs) {
    float sl[8], zl[8];
    for (int l = 0; l < 8; l++) {
        const int64_t c = k + l < K ? k + l : K - 1, g = c / G;
        sl[l] = _cvtsh_ss(sc[g]);
        zl[l] = sl[l] * (float)zr[g];
    }
    *s = _mm256_loadu_ps(sl);
    *zs = _mm256_loadu_ps(zl);
}

/* Row n of W -> wrow[0..K) as fp32, exactly (q − z)·s; zero from K to the next multiple of 8. */
T2 static void wn_dequant_row(const awq_wna16_job *J, int64_t n, float *wrow) {
    const int32_t *qw = J->qweight + n * J->nw;
    const uint16_t *sc = J->scales + n * J->ng;
    const uint8_t *zr = J->zeros + n * J->ng;
    const int64_t K = J->K, G = J->G, nw = J->nw;
    const int cw = J->cw, cv = J->cv;
    const __m256i mask = _mm256_set1_epi32((1 << J->bits) - 1);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i perm[AWQ_WNA16_MAX_CV], shift[AWQ_WNA16_MAX_CV];
    for (int v = 0; v < cv; v++) {
        perm[v] = _mm256_loadu_si256((const __m256i *)J->perm[v]);
        shift[v] = _mm256_loadu_si256((const __m256i *)J->shift[v]);
    }
    int64_t k = 0;
    for (int64_t w0 = 0; k < K; w0 += cw) {
        __m128i words;
        if (w0 + 4 <= nw) {
            words = _mm_loadu_si128((const __m128i *)(qw + w0));
        } else {
            int32_t t[4] = {0, 0, 0, 0};
            memcpy(t, qw + w0, sizeof(int32_t) * (size_t)(nw - w0));
            words = _mm_loadu_si128((const __m128i *)t);
        }
        /* vpermd indices are 0..3: the upper half of the register is never selected */
        const __m256i wv = _mm256_castsi128_si256(words);
        for (int v = 0; v < cv && k < K; v++, k += 8) {
            const __m256i q = _mm256_and_si256(_mm256_srlv_epi32(_mm256_permutevar8x32_epi32(wv, perm[v]), shift[v]), mask);
            const int64_t last = k + 7 < K ? k + 7 : K - 1;
            __m256 s, zs;
            if (k / G == last / G) {
                const float sf = _cvtsh_ss(sc[k / G]);
                s = _mm256_set1_ps(sf);
                zs = _mm256_set1_ps(sf * (float)zr[k / G]);
            } else {
                wn_lane_scales(sc, zr, G, k, K, &s, &zs);
            }
            __m256 w = _mm256_fmsub_ps(_mm256_cvtepi32_ps(q), s, zs);
            if (k + 8 > K) {
                const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), lane));
                w = _mm256_and_ps(w, keep);
            }
            _mm256_store_ps(wrow + k, w);
        }
    }
}

/* Σ_k x[k]·w[k] over K columns; w is 32-byte aligned and zero-padded to a multiple of 8. */
T2 INL float wn_dot(const float *x, const float *w, int64_t K) {
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps(), a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 32 <= K; k += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_load_ps(w + k), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 8), _mm256_load_ps(w + k + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 16), _mm256_load_ps(w + k + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k + 24), _mm256_load_ps(w + k + 24), a3);
    }
    for (; k + 8 <= K; k += 8) a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + k), _mm256_load_ps(w + k), a0);
    if (k < K) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), lane);
        a1 = _mm256_fmadd_ps(_mm256_maskload_ps(x + k, m), _mm256_load_ps(w + k), a1);
    }
    return wn_hsum(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
}

T2 void awq_wna16_block_avx2(const awq_wna16_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow) {
    for (int64_t n = n0; n < n1; n++) {
        wn_dequant_row(J, n, wrow);
        for (int64_t m = m0; m < m1; m++) J->y[m * J->N + n] = wn_dot(J->x + m * J->K, wrow, J->K);
    }
}
#endif
