/*
 * wna16_avx2.c — AVX2 + FMA + F16C kernel of awq_wna16_gemm (math and layout: wna16.h).
 *
 * Dequantization: one block at a time (its 8 words in one 256-bit load; a row is whole blocks, so
 * nothing past it is read), each vector of 8 columns by a shift and a mask (vpsrld / vpand),
 * converted to fp32 and dequantized exactly by one fmsub, q·s − z·s,
 * with s and z·s broadcast once per group. A vector that straddles two groups (the group size is
 * not a multiple of 8) takes per-lane scales out of line. Lanes past K are zeroed. Up to 8 rows of
 * x (decode, small batches): each vector goes straight into the FMAs of up to 4 rows at a time;
 * more rows: the dequantized W row is stored once per M block and dotted with 4 rows of x at a time.
 * Either way two alternating 8-wide accumulators per output and a masked load for the last
 * partial vector of x (never reading past the row).
 */
#include "wna16.h"

#if AWQ_X86
#include <immintrin.h>

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

/* The walk over NT rows n0.. of W, 8 columns (one vector) at a time, each vector dequantized exactly
 * to (q − z)·s with lanes past K zero. With MT = 0 the vectors of the one row are stored to wrow;
 * with MT ≥ 1 each is multiplied into MT rows of x right away (decode and small batches: nothing is
 * stored), MT·NT ≤ 4 outputs at once. Every way sums an output's products alike — vector j into
 * accumulator j mod 2, the last partial vector of x read masked, the two accumulators added, then
 * the 8 lanes — so an output has the same bits however it is computed (wn_dot below is the MT = 0
 * half). */
T2 INL void wn_walk(const awq_wna16_job *J, int64_t n0, float *wrow, const float *const *xr, const int MT, const int NT,
                    float *out) {
    const int64_t K = J->K, G = J->G, nw = J->nw, ng = J->ng, block = J->block;
    const int32_t *qw[4];
    const uint16_t *sc[4];
    const uint8_t *zr[4];
    for (int r = 0; r < NT; r++) {
        qw[r] = J->qweight + (n0 + r) * nw;
        sc[r] = J->scales + (n0 + r) * ng;
        zr[r] = J->zeros + (n0 + r) * ng;
    }
    const __m256i mask = _mm256_set1_epi32((1 << J->bits) - 1);
    const __m128i step = _mm_cvtsi32_si128(J->bits);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256 acc[4][2], s[4], zs[4];
    for (int i = 0; i < 4; i++) acc[i][0] = acc[i][1] = _mm256_setzero_ps();
    int64_t k = 0, g = 0, g_end = G < K ? G : K; /* group of column k and the first column of the next */
    for (int r = 0; r < NT; r++) {
        const float sf = _cvtsh_ss(sc[r][0]);
        s[r] = _mm256_set1_ps(sf);
        zs[r] = _mm256_set1_ps(sf * (float)zr[r][0]);
    }
    int lanes = 0; /* s and zs hold per-lane values (a vector that straddled groups) */
    for (int64_t b0 = 0; k < K; b0 += 8) {
        __m256i wv[4]; /* the block's 8 words; shifted right by bits after each vector */
        for (int r = 0; r < NT; r++) wv[r] = _mm256_loadu_si256((const __m256i *)(qw[r] + b0));
        const int64_t kend = k + block < K ? k + block : K;
        for (; k < kend; k += 8) {
            if (k >= g_end || lanes) {
                while (k >= g_end) g++, g_end = g_end + G < K ? g_end + G : K;
                for (int r = 0; r < NT; r++) {
                    const float sf = _cvtsh_ss(sc[r][g]);
                    s[r] = _mm256_set1_ps(sf);
                    zs[r] = _mm256_set1_ps(sf * (float)zr[r][g]);
                }
                lanes = 0;
            }
            if (k + 8 > g_end && g_end < K) { /* the vector runs into the next group */
                for (int r = 0; r < NT; r++) wn_lane_scales(sc[r], zr[r], G, k, K, &s[r], &zs[r]);
                lanes = 1;
            }
            __m256i xmask = _mm256_set1_epi32(-1);
            if (k + 8 > K) xmask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), lane);
            __m256 xv[4];
#pragma GCC unroll 4
            for (int i = 0; i < MT; i++) xv[i] = k + 8 <= K ? _mm256_loadu_ps(xr[i] + k) : _mm256_maskload_ps(xr[i] + k, xmask);
#pragma GCC unroll 4
            for (int r = 0; r < NT; r++) {
                const __m256i q = _mm256_and_si256(wv[r], mask);
                wv[r] = _mm256_srl_epi32(wv[r], step);
                __m256 w = _mm256_fmsub_ps(_mm256_cvtepi32_ps(q), s[r], zs[r]);
                if (k + 8 > K) w = _mm256_and_ps(w, _mm256_castsi256_ps(xmask));
                if (MT == 0) {
                    _mm256_store_ps(wrow + k, w);
                    continue;
                }
#pragma GCC unroll 4
                for (int i = 0; i < MT; i++) {
                    __m256 *a = acc[MT == 1 ? r : i];
                    const __m256 t = _mm256_fmadd_ps(w, xv[i], a[0]);
                    a[0] = a[1]; /* vector j + 1 goes into the other accumulator */
                    a[1] = t;
                }
            }
        }
    }
    for (int i = 0; i < MT * NT; i++) out[i] = wn_hsum(_mm256_add_ps(acc[i][0], acc[i][1]));
}

/* Σ_k x_i[k]·w[k] for MT rows x_i over a stored row w (zero past K, 32-byte aligned), in wn_walk's
 * order: vector j into accumulator j mod 2, the last partial vector of x read masked. */
T2 INL void wn_dot(const float *const *x, const float *w, int64_t K, const int MT, float *out) {
    __m256 a0[4], a1[4];
    for (int i = 0; i < MT; i++) a0[i] = a1[i] = _mm256_setzero_ps();
    int64_t k = 0;
    for (; k + 16 <= K; k += 16) {
        const __m256 w0 = _mm256_load_ps(w + k), w1 = _mm256_load_ps(w + k + 8);
#pragma GCC unroll 4
        for (int i = 0; i < MT; i++) {
            a0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[i] + k), a0[i]);
            a1[i] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[i] + k + 8), a1[i]);
        }
    }
    int odd = 0; /* the next vector belongs to a1 */
    if (k + 8 <= K) {
        const __m256 w0 = _mm256_load_ps(w + k);
#pragma GCC unroll 4
        for (int i = 0; i < MT; i++) a0[i] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[i] + k), a0[i]);
        k += 8;
        odd = 1;
    }
    if (k < K) {
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(K - k)), lane);
        const __m256 w0 = _mm256_load_ps(w + k);
#pragma GCC unroll 4
        for (int i = 0; i < MT; i++) {
            __m256 *a = odd ? &a1[i] : &a0[i];
            *a = _mm256_fmadd_ps(w0, _mm256_maskload_ps(x[i] + k, m), *a);
        }
    }
    for (int i = 0; i < MT; i++) out[i] = wn_hsum(_mm256_add_ps(a0[i], a1[i]));
}

/* Rows of x per fused walk; an M block with more rows stores each dequantized W row once instead. */
#define WN_FUSED_MT 4

T2 void awq_wna16_block_avx2(const awq_wna16_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow) {
    const int64_t K = J->K, N = J->N;
    float out[4];
    if (m1 - m0 > 2 * WN_FUSED_MT) {
        for (int64_t n = n0; n < n1; n++) {
            wn_walk(J, n, wrow, NULL, 0, 1, NULL);
            for (int64_t m = m0; m < m1; m += 4) { /* 4 rows of x share each load of the stored row */
                const float *xr[4];
                const int64_t mt = m1 - m < 4 ? m1 - m : 4;
                for (int64_t i = 0; i < mt; i++) xr[i] = J->x + (m + i) * K;
                switch (mt) {
                case 1: wn_dot(xr, wrow, K, 1, out); break;
                case 2: wn_dot(xr, wrow, K, 2, out); break;
                case 3: wn_dot(xr, wrow, K, 3, out); break;
                default: wn_dot(xr, wrow, K, 4, out); break;
                }
                for (int64_t i = 0; i < mt; i++) J->y[(m + i) * N + n] = out[i];
            }
        }
        return;
    }
    if (m1 - m0 == 1) { /* decode: 4 rows of W share each vector of x */
        const float *xr[1] = {J->x + m0 * K};
        int64_t n = n0;
        for (; n + 4 <= n1; n += 4) {
            wn_walk(J, n, NULL, xr, 1, 4, out);
            for (int r = 0; r < 4; r++) J->y[m0 * N + n + r] = out[r];
        }
        for (; n < n1; n++) {
            wn_walk(J, n, NULL, xr, 1, 1, out);
            J->y[m0 * N + n] = out[0];
        }
        return;
    }
    for (int64_t n = n0; n < n1; n++)
        for (int64_t m = m0; m < m1; m += WN_FUSED_MT) {
            const float *xr[WN_FUSED_MT];
            const int64_t mt = m1 - m < WN_FUSED_MT ? m1 - m : WN_FUSED_MT;
            for (int64_t i = 0; i < mt; i++) xr[i] = J->x + (m + i) * K;
            switch (mt) {
            case 1: wn_walk(J, n, NULL, xr, 1, 1, out); break;
            case 2: wn_walk(J, n, NULL, xr, 2, 1, out); break;
            case 3: wn_walk(J, n, NULL, xr, 3, 1, out); break;
            default: wn_walk(J, n, NULL, xr, 4, 1, out); break;
            }
            for (int64_t i = 0; i < mt; i++) J->y[(m + i) * N + n] = out[i];
        }
}
#endif
