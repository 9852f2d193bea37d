/*
 * w4a16_avx2.c — AVX2 + FMA + F16C tile kernels of awq_w4a16_gemm (math and layout: w4a16.h).
 *
 * Same scheme as the AVX-512 kernels at half the width: one step is 8 packed bytes = 16 weights,
 * widened to 8 int32 lanes, (v & 15) against xe and (v >> 4) against xo. AVX2 has no byte-masked
 * load, so a group's last partial step copies its 1..7 bytes into a zeroed 8-byte word (never
 * reading past the row). GEMV: 4 rows of W at a time. GEMM: 3 rows of W dequantized into the fp32
 * panel per M block, then 4×3 register tiles of FMAs (12 accumulators, 3 weights and 1 activation:
 * all 16 registers; 7 loads per 12 FMAs, which measured 1.07-1.21x the 3×3 tile at M = 512).
 */
#include "w4a16.h"

#if AWQ_X86
#include <immintrin.h>
#include <string.h>

#define T2 AWQ_TARGET_AVX2
#define INL static inline __attribute__((always_inline))

T2 INL __m256i w4_bytes_full(const uint8_t *p) {
    return _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
}

T2 INL __m256i w4_bytes_part(const uint8_t *p, int64_t n) {
    uint64_t word = 0;
    memcpy(&word, p, (size_t)n);
    return _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)word));
}

T2 INL float w4_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Σ_g s[g]·z[g]·xs[g] of one (m, n) pair: the zero-point term of the whole row. */
T2 static float w4_zero_term(const uint16_t *s, const uint8_t *z, const float *xs, int64_t ng) {
    __m256 acc = _mm256_setzero_ps();
    int64_t g = 0;
    for (; g + 8 <= ng; g += 8) {
        __m256 sv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(s + g)));
        __m256 zv = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(z + g))));
        acc = _mm256_fmadd_ps(_mm256_mul_ps(sv, zv), _mm256_loadu_ps(xs + g), acc);
    }
    float tail = 0.0f;
    for (; g < ng; g++) tail += _cvtsh_ss(s[g]) * (float)z[g] * xs[g];
    return w4_hsum(acc) + tail;
}

/* ---- GEMV: one row m of x, NT rows of W ------------------------------------------------------ */
T2 INL void w4_gemv_step(__m256i v, __m256 ve, __m256 vo, __m256 *alo, __m256 *ahi) {
    const __m256i low = _mm256_set1_epi32(0xf);
    *alo = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v, low)), ve, *alo);
    *ahi = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4)), vo, *ahi);
}

T2 INL void w4_gemv_tile(const awq_w4a16_job *J, int64_t m, int64_t n0, const int NT) {
    const int64_t kh = J->kh, hb = J->G / 2, ng = J->ng;
    const float *xe = J->xe + m * J->khp, *xo = J->xo + m * J->khp;
    const uint8_t *w[4];
    const uint16_t *sc[4];
    __m256 tot[4];
    for (int r = 0; r < NT; r++) {
        w[r] = J->qweight + (n0 + r) * kh;
        sc[r] = J->scales + (n0 + r) * ng;
        tot[r] = _mm256_setzero_ps();
    }
    /* address of the next tile, only ever prefetched (it may lie past the end of qweight) */
    const uintptr_t ahead = (uintptr_t)J->qweight + (uintptr_t)((n0 + 4) * kh);
    int64_t b0 = 0;
    for (int64_t g = 0; g < ng; g++, b0 += hb) {
        const int64_t b1 = b0 + hb < kh ? b0 + hb : kh;
        __m256 alo[4], ahi[4];
        for (int r = 0; r < NT; r++) alo[r] = ahi[r] = _mm256_setzero_ps();
        int64_t j = b0;
        for (; j + 8 <= b1; j += 8) {
            /* the next 4 rows (the next tile) follow these in memory: pull them in at the pace this
             * tile consumes, cycling over the rows (every 64-byte line is touched) */
            _mm_prefetch((const char *)(ahead + (uintptr_t)(((j >> 4) & 3) * kh + j)), _MM_HINT_T0);
            const __m256 ve = _mm256_loadu_ps(xe + j), vo = _mm256_loadu_ps(xo + j);
            for (int r = 0; r < NT; r++) w4_gemv_step(w4_bytes_full(w[r] + j), ve, vo, &alo[r], &ahi[r]);
        }
        if (j < b1) {
            const __m256 ve = _mm256_loadu_ps(xe + j), vo = _mm256_loadu_ps(xo + j);
            for (int r = 0; r < NT; r++)
                w4_gemv_step(w4_bytes_part(w[r] + j, b1 - j), ve, vo, &alo[r], &ahi[r]);
        }
        for (int r = 0; r < NT; r++)
            tot[r] = _mm256_fmadd_ps(_mm256_set1_ps(_cvtsh_ss(sc[r][g])), _mm256_add_ps(alo[r], ahi[r]), tot[r]);
    }
    const float *xs = J->xs + m * J->ngp;
    for (int r = 0; r < NT; r++)
        J->y[m * J->N + n0 + r] = w4_hsum(tot[r]) - w4_zero_term(sc[r], J->zeros + (n0 + r) * ng, xs, ng);
}

/* ---- GEMM: dequantize NT rows of W into the panel, then MT×NT tiles of FMAs ------------------- */
#define W4_MT AWQ_W4A16_MT_AVX2
#define W4_NT AWQ_W4A16_NT_AVX2

/* Per-lane scale s and z·s of a step of 8 bytes at byte j that straddles groups (g is the group of
 * byte j, g_end the first byte of the next). Rare (16 does not divide G), so kept out of line. */
T2 __attribute__((noinline)) static void w4_lane_scales(const uint16_t *sc, const uint8_t *zr, int64_t hb, int64_t j,
                                                         int64_t nb, int64_t g, int64_t g_end, __m256 *s, __m256 *zs) {
    float sl[8], zl[8];
    for (int64_t l = 0; l < 8; l++) {
        if (j + l >= g_end && l < nb) g++, g_end += hb;
        sl[l] = _cvtsh_ss(sc[g]);
        zl[l] = sl[l] * (float)zr[g];
    }
    *s = _mm256_loadu_ps(sl);
    *zs = _mm256_loadu_ps(zl);
}

/* The 8 bytes (16 columns) at byte j of one W row, dequantized: lo = even columns, hi = odd ones,
 * (q - z)·s exact by one fmsub. g is the group of byte j and g_end the first byte of the next.
 * Lanes past kh are zero. */
typedef struct w4_pair {
    __m256 lo, hi;
} w4_pair;

T2 INL w4_pair w4_dequant_step(const uint8_t *w, const uint16_t *sc, const uint8_t *zr, int64_t kh, int64_t hb,
                               int64_t j, int64_t g, int64_t g_end) {
    const __m256i low = _mm256_set1_epi32(0xf);
    const int64_t nb = kh - j < 8 ? kh - j : 8;
    const __m256i v = nb == 8 ? w4_bytes_full(w + j) : w4_bytes_part(w + j, nb);
    __m256 s, zs;
    if (j + nb <= g_end) {
        const float sf = _cvtsh_ss(sc[g]);
        s = _mm256_set1_ps(sf);
        zs = _mm256_set1_ps(sf * (float)zr[g]);
    } else {
        w4_lane_scales(sc, zr, hb, j, nb, g, g_end, &s, &zs);
    }
    w4_pair p;
    p.lo = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_and_si256(v, low)), s, zs);
    p.hi = _mm256_fmsub_ps(_mm256_cvtepi32_ps(_mm256_srli_epi32(v, 4)), s, zs);
    if (nb < 8) { /* zero the lanes past kh */
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
        const __m256 keep = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32((int)nb), lane));
        p.lo = _mm256_and_ps(p.lo, keep);
        p.hi = _mm256_and_ps(p.hi, keep);
    }
    return p;
}

/* Row n of W -> its slot r of the panel (steps from byte 0 in 8s, zero past kh). */
T2 static void w4_dequant_row(const awq_w4a16_job *J, int64_t n, float *panel, int r) {
    const int64_t kh = J->kh, hb = J->G / 2, kend = J->kend;
    const uint8_t *w = J->qweight + n * kh;
    const uint16_t *sc = J->scales + n * J->ng;
    const uint8_t *zr = J->zeros + n * J->ng;
    float *dst = panel + r * 16;
    int64_t g = 0, g_end = hb;
    for (int64_t j = 0; j < kend; j += 8, dst += AWQ_W4A16_PANEL_ROWS * 16) {
        while (j >= g_end) g++, g_end += hb;
        const w4_pair d = w4_dequant_step(w, sc, zr, kh, hb, j, g, g_end);
        _mm256_store_ps(dst, d.lo);
        _mm256_store_ps(dst + 8, d.hi);
    }
}

/* Few rows of x (a small M block): dequantize NT rows of W per step in registers and use them for
 * all MT (<= W4_FM) rows of x at once instead of going through the panel. Same products and the
 * same summation order per output as the panel tile. */
#define W4_FM 4
#define W4_FNT 2
T2 INL void w4_fused_tile(const awq_w4a16_job *J, int64_t m0, int64_t n0, const int MT, const int NT) {
    const int64_t kh = J->kh, hb = J->G / 2, kend = J->kend, len = 2 * kend;
    const float *xr[W4_FM];
    const uint8_t *w[W4_FNT];
    const uint16_t *sc[W4_FNT];
    const uint8_t *zr[W4_FNT];
    __m256 acc[W4_FM][W4_FNT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xi + (m0 + i) * len;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm256_setzero_ps();
    }
    for (int r = 0; r < NT; r++) {
        w[r] = J->qweight + (n0 + r) * kh;
        sc[r] = J->scales + (n0 + r) * J->ng;
        zr[r] = J->zeros + (n0 + r) * J->ng;
    }
    int64_t g = 0, g_end = hb;
    for (int64_t j = 0; j < kend; j += 8) {
        while (j >= g_end) g++, g_end += hb;
        w4_pair d[W4_FNT];
#pragma GCC unroll 2
        for (int r = 0; r < NT; r++) d[r] = w4_dequant_step(w[r], sc[r], zr[r], kh, hb, j, g, g_end);
#pragma GCC unroll 4
        for (int i = 0; i < MT; i++) {
            const __m256 xe = _mm256_load_ps(xr[i] + 2 * j), xo = _mm256_load_ps(xr[i] + 2 * j + 8);
#pragma GCC unroll 2
            for (int r = 0; r < NT; r++) {
                acc[i][r] = _mm256_fmadd_ps(d[r].lo, xe, acc[i][r]);
                acc[i][r] = _mm256_fmadd_ps(d[r].hi, xo, acc[i][r]);
            }
        }
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++) J->y[(m0 + i) * J->N + n0 + r] = w4_hsum(acc[i][r]);
}

/* y[m0.., n0..] for MT rows of x and NT rows of the panel, over all kend/8 steps (zero padded). */
T2 INL void w4_gemm_tile(const awq_w4a16_job *J, int64_t m0, int64_t n0, const float *panel, const int MT,
                         const int NT) {
    const int64_t len = 2 * J->kend;
    const float *xr[W4_MT];
    __m256 acc[W4_MT][W4_NT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xi + (m0 + i) * len;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm256_setzero_ps();
    }
    const float *wp = panel;
    for (int64_t j = 0; j < len; j += 16, wp += AWQ_W4A16_PANEL_ROWS * 16) {
        __m256 w[W4_NT];
        for (int h = 0; h < 16; h += 8) { /* even columns, then odd */
            for (int r = 0; r < NT; r++) w[r] = _mm256_load_ps(wp + r * 16 + h);
            for (int i = 0; i < MT; i++) {
                const __m256 x = _mm256_load_ps(xr[i] + j + h);
                for (int r = 0; r < NT; r++) acc[i][r] = _mm256_fmadd_ps(w[r], x, acc[i][r]);
            }
        }
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++) J->y[(m0 + i) * J->N + n0 + r] = w4_hsum(acc[i][r]);
}

#define W4_GEMV(NT)                                                                                \
    T2 static void w4_gemv_##NT(const awq_w4a16_job *J, int64_t m, int64_t n) { w4_gemv_tile(J, m, n, NT); }
W4_GEMV(1)
W4_GEMV(2)
W4_GEMV(3)
W4_GEMV(4)

typedef void (*w4_gemm_fn)(const awq_w4a16_job *, int64_t, int64_t, const float *);
#define W4_GEMM(MT, NT)                                                                            \
    T2 static void w4_gemm_##MT##x##NT(const awq_w4a16_job *J, int64_t m, int64_t n, const float *p) { \
        w4_gemm_tile(J, m, n, p, MT, NT);                                                          \
    }
W4_GEMM(1, 1) W4_GEMM(2, 1) W4_GEMM(3, 1) W4_GEMM(4, 1)
W4_GEMM(1, 2) W4_GEMM(2, 2) W4_GEMM(3, 2) W4_GEMM(4, 2)
W4_GEMM(1, 3) W4_GEMM(2, 3) W4_GEMM(3, 3) W4_GEMM(4, 3)
static const w4_gemm_fn w4_gemm_fns[W4_NT + 1][W4_MT + 1] = {
    {NULL, NULL, NULL, NULL, NULL},
    {NULL, w4_gemm_1x1, w4_gemm_2x1, w4_gemm_3x1, w4_gemm_4x1},
    {NULL, w4_gemm_1x2, w4_gemm_2x2, w4_gemm_3x2, w4_gemm_4x2},
    {NULL, w4_gemm_1x3, w4_gemm_2x3, w4_gemm_3x3, w4_gemm_4x3},
};

typedef void (*w4_gemv_fn)(const awq_w4a16_job *, int64_t, int64_t);
static const w4_gemv_fn w4_gemv_fns[5] = {NULL, w4_gemv_1, w4_gemv_2, w4_gemv_3, w4_gemv_4};

#define W4_FUSED(MT, NT)                                                                           \
    T2 static void w4_fused_##MT##x##NT(const awq_w4a16_job *J, int64_t m, int64_t n) { w4_fused_tile(J, m, n, MT, NT); }
W4_FUSED(1, 1) W4_FUSED(2, 1) W4_FUSED(3, 1) W4_FUSED(4, 1)
W4_FUSED(1, 2) W4_FUSED(2, 2) W4_FUSED(3, 2) W4_FUSED(4, 2)
static const w4_gemv_fn w4_fused_fns[W4_FNT + 1][W4_FM + 1] = {
    {NULL},
    {NULL, w4_fused_1x1, w4_fused_2x1, w4_fused_3x1, w4_fused_4x1},
    {NULL, w4_fused_1x2, w4_fused_2x2, w4_fused_3x2, w4_fused_4x2},
};

void awq_w4a16_block_avx2(const awq_w4a16_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *panel) {
    if (J->M == 1) {
        for (int64_t n = n0; n < n1; n += 4) w4_gemv_fns[n1 - n < 4 ? n1 - n : 4](J, m0, n);
        return;
    }
    if (m1 - m0 <= W4_FM) {
        for (int64_t n = n0; n < n1; n += W4_FNT) w4_fused_fns[n1 - n < W4_FNT ? n1 - n : W4_FNT][m1 - m0](J, m0, n);
        return;
    }
    for (int64_t n = n0; n < n1; n += W4_NT) {
        const int64_t nt = n1 - n < W4_NT ? n1 - n : W4_NT;
        for (int r = 0; r < nt; r++) w4_dequant_row(J, n + r, panel, r);
        for (int64_t m = m0; m < m1; m += W4_MT) w4_gemm_fns[nt][m1 - m < W4_MT ? m1 - m : W4_MT](J, m, n, panel);
    }
}

#endif /* AWQ_X86 */
