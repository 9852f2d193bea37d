/*
 * w4a16_avx512.c — AVX-512 tile kernels of awq_w4a16_gemm (math and data layout: w4a16.h).
 *
 * One step consumes 16 packed bytes = 32 weights of a row: the bytes are widened to 16 int32
 * lanes; (v & 15) are the even columns, (v >> 4) the odd ones, and they meet xe / xo lane for
 * lane. A group's last partial step uses a byte-masked load, which neither reads past the row
 * nor lets the next group's nibbles in (masked bytes read as q = 0).
 *
 *  - GEMV (one row of x, decode): 4 weight rows at a time, separate accumulators for even and odd
 *    columns so 8 FMA chains run in parallel; the group scale is applied once per group.
 *  - GEMM (several rows of x, prefill): 6 rows of W are dequantized into the fp32 panel once per
 *    M block, then a 4×6 register tile (rows of x × rows of W) does 24 FMAs per 10 loads.
 *  - Small M blocks (<= 8 rows): 2 rows of W dequantized per step in registers, used by every row.
 * Measured on one Zen 4 core: the GEMV is bound by vpmovzxbd + vcvtdq2ps throughput (~11 GB/s of
 * weights per core), the GEMM runs at ~90% of the FMA peak (~105 of 117 GFLOP/s). A GEMV variant
 * turning nibbles into floats with shift + vpternlogd (no conversions) was tried and was not
 * faster: it trades them for as many vector ALU slots.
 */
#include "w4a16.h"

#if AWQ_X86
#include <immintrin.h>

#define T512 AWQ_TARGET_AVX512
#define INL static inline __attribute__((always_inline))

T512 INL __m512i w4_bytes_full(const uint8_t *p) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
}

T512 INL __m512i w4_bytes_part(const uint8_t *p, int64_t n) {
    return _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8((__mmask16)((1u << n) - 1u), p));
}

/* Σ_g s[g]·z[g]·xs[g] of one (m, n) pair: the zero-point term of the whole row. */
T512 static float w4_zero_term(const uint16_t *s, const uint8_t *z, const float *xs, int64_t ng) {
    __m512 acc = _mm512_setzero_ps();
    int64_t g = 0;
    for (; g + 16 <= ng; g += 16) {
        __m512 sv = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(s + g)));
        __m512 zv = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(z + g))));
        acc = _mm512_fmadd_ps(_mm512_mul_ps(sv, zv), _mm512_loadu_ps(xs + g), acc);
    }
    if (g < ng) {
        __mmask16 k = (__mmask16)((1u << (ng - g)) - 1u);
        __m512 sv = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(k, s + g));
        __m512 zv = _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(k, z + g)));
        acc = _mm512_fmadd_ps(_mm512_mul_ps(sv, zv), _mm512_loadu_ps(xs + g), acc); /* xs is padded with 0 */
    }
    return _mm512_reduce_add_ps(acc);
}

/* ---- GEMV: one row m of x, NT rows of W ------------------------------------------------------ */
T512 INL void w4_gemv_step(__m512i v, __m512 ve, __m512 vo, __m512 *alo, __m512 *ahi) {
    const __m512i low = _mm512_set1_epi32(0xf);
    *alo = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_and_si512(v, low)), ve, *alo);
    *ahi = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), vo, *ahi);
}

T512 INL void w4_gemv_tile(const awq_w4a16_job *J, int64_t m, int64_t n0, const int NT) {
    const int64_t kh = J->kh, hb = J->G / 2, ng = J->ng;
    const float *xe = J->xe + m * J->khp, *xo = J->xo + m * J->khp;
    const uint8_t *w[4];
    const uint16_t *sc[4];
    __m512 tot[4];
    for (int r = 0; r < NT; r++) {
        w[r] = J->qweight + (n0 + r) * kh;
        sc[r] = J->scales + (n0 + r) * ng;
        tot[r] = _mm512_setzero_ps();
    }
    /* address of the next tile, only ever prefetched (it may lie past the end of qweight) */
    const uintptr_t ahead = (uintptr_t)J->qweight + (uintptr_t)((n0 + 4) * kh);
    int64_t b0 = 0;
    for (int64_t g = 0; g < ng; g++, b0 += hb) {
        const int64_t b1 = b0 + hb < kh ? b0 + hb : kh;
        __m512 alo[4], ahi[4];
        for (int r = 0; r < NT; r++) alo[r] = ahi[r] = _mm512_setzero_ps();
        int64_t j = b0;
        for (; j + 16 <= b1; j += 16) {
            /* the next 4 rows (the next tile) follow these in memory: pull them in at the pace this
             * tile consumes, one 64-byte line per step, cycling over the rows */
            _mm_prefetch((const char *)(ahead + (uintptr_t)(((j >> 4) & 3) * kh + j)), _MM_HINT_T0);
            const __m512 ve = _mm512_loadu_ps(xe + j), vo = _mm512_loadu_ps(xo + j);
            for (int r = 0; r < NT; r++) w4_gemv_step(w4_bytes_full(w[r] + j), ve, vo, &alo[r], &ahi[r]);
        }
        if (j < b1) {
            const __m512 ve = _mm512_loadu_ps(xe + j), vo = _mm512_loadu_ps(xo + j);
            for (int r = 0; r < NT; r++)
                w4_gemv_step(w4_bytes_part(w[r] + j, b1 - j), ve, vo, &alo[r], &ahi[r]);
        }
        for (int r = 0; r < NT; r++)
            tot[r] = _mm512_fmadd_ps(_mm512_set1_ps(_cvtsh_ss(sc[r][g])), _mm512_add_ps(alo[r], ahi[r]), tot[r]);
    }
    const float *xs = J->xs + m * J->ngp;
    for (int r = 0; r < NT; r++)
        J->y[m * J->N + n0 + r] =
            _mm512_reduce_add_ps(tot[r]) - w4_zero_term(sc[r], J->zeros + (n0 + r) * ng, xs, ng);
}

/* ---- GEMM: dequantize NT rows of W into the panel, then MT×NT tiles of FMAs ------------------- */
#define W4_MT AWQ_W4A16_MT_AVX512
#define W4_NT AWQ_W4A16_NT_AVX512

/* Per-lane scale s and z·s of a step of 16 bytes at byte j that straddles groups (g is the group of
 * byte j, g_end the first byte of the next). Rare (32 does not divide G), so kept out of line. */
T512 __attribute__((noinline)) static void w4_lane_scales(const uint16_t *sc, const uint8_t *zr, int64_t hb,
                                                           int64_t j, int64_t nb, int64_t g, int64_t g_end,
                                                           __m512 *s, __m512 *zs) {
    float sl[16], zl[16];
    for (int64_t l = 0; l < 16; l++) {
        if (j + l >= g_end && l < nb) g++, g_end += hb;
        sl[l] = _cvtsh_ss(sc[g]);
        zl[l] = sl[l] * (float)zr[g];
    }
    *s = _mm512_loadu_ps(sl);
    *zs = _mm512_loadu_ps(zl);
}

/* The 16 bytes (32 columns) at byte j of one W row, dequantized: lo = even columns, hi = odd ones,
 * (q - z)·s computed exactly by one fmsub (q·s and z·s are exact, so is their difference). g is
 * the group of byte j and g_end the first byte of the next; a step that straddles two groups
 * gets per-lane scales. Lanes past kh are zero. (Converting the scale per step costs less than
 * carrying it across steps: the compiler then keeps everything in registers.) */
typedef struct w4_pair {
    __m512 lo, hi;
} w4_pair;

T512 INL w4_pair w4_dequant_step(const uint8_t *w, const uint16_t *sc, const uint8_t *zr, int64_t kh, int64_t hb,
                                 int64_t j, int64_t g, int64_t g_end) {
    const __m512i low = _mm512_set1_epi32(0xf);
    const int64_t nb = kh - j < 16 ? kh - j : 16;
    const __mmask16 k = (__mmask16)((1u << nb) - 1u);
    const __m512i v = nb == 16 ? w4_bytes_full(w + j) : w4_bytes_part(w + j, nb);
    __m512 s, zs;
    if (j + nb <= g_end) {
        const float sf = _cvtsh_ss(sc[g]);
        s = _mm512_set1_ps(sf);
        zs = _mm512_set1_ps(sf * (float)zr[g]);
    } else {
        w4_lane_scales(sc, zr, hb, j, nb, g, g_end, &s, &zs);
    }
    w4_pair p;
    p.lo = _mm512_maskz_fmsub_ps(k, _mm512_cvtepi32_ps(_mm512_and_si512(v, low)), s, zs);
    p.hi = _mm512_maskz_fmsub_ps(k, _mm512_cvtepi32_ps(_mm512_srli_epi32(v, 4)), s, zs);
    return p;
}

/* Row n of W -> its slot r of the panel (steps from byte 0 in 16s, zero past kh). */
T512 static void w4_dequant_row(const awq_w4a16_job *J, int64_t n, float *panel, int r) {
    const int64_t kh = J->kh, hb = J->G / 2, kend = J->kend;
    const uint8_t *w = J->qweight + n * kh;
    const uint16_t *sc = J->scales + n * J->ng;
    const uint8_t *zr = J->zeros + n * J->ng;
    float *dst = panel + r * 32;
    int64_t g = 0, g_end = hb; /* group of byte j, and the first byte of the next group */
    for (int64_t j = 0; j < kend; j += 16, dst += AWQ_W4A16_PANEL_ROWS * 32) {
        while (j >= g_end) g++, g_end += hb;
        const w4_pair d = w4_dequant_step(w, sc, zr, kh, hb, j, g, g_end);
        _mm512_store_ps(dst, d.lo);
        _mm512_store_ps(dst + 16, d.hi);
    }
}

/* Few rows of x (a small M block): dequantizing into the panel and reading it back costs more than
 * the FMAs it feeds, so dequantize NT rows of W per step in registers and use them for all MT
 * (<= W4_FM) rows of x at once. Same products and the same summation order per output as the
 * panel tile. */
#define W4_FM 8
#define W4_FNT 2
T512 INL void w4_fused_tile(const awq_w4a16_job *J, int64_t m0, int64_t n0, const int MT, const int NT) {
    const int64_t kh = J->kh, hb = J->G / 2, kend = J->kend, len = 2 * kend;
    const float *xr[W4_FM];
    const uint8_t *w[W4_FNT];
    const uint16_t *sc[W4_FNT];
    const uint8_t *zr[W4_FNT];
    __m512 acc[W4_FM][W4_FNT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xi + (m0 + i) * len;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm512_setzero_ps();
    }
    for (int r = 0; r < NT; r++) {
        w[r] = J->qweight + (n0 + r) * kh;
        sc[r] = J->scales + (n0 + r) * J->ng;
        zr[r] = J->zeros + (n0 + r) * J->ng;
    }
    int64_t g = 0, g_end = hb;
    for (int64_t j = 0; j < kend; j += 16) {
        while (j >= g_end) g++, g_end += hb;
        w4_pair d[W4_FNT];
#pragma GCC unroll 2
        for (int r = 0; r < NT; r++) d[r] = w4_dequant_step(w[r], sc[r], zr[r], kh, hb, j, g, g_end);
#pragma GCC unroll 8
        for (int i = 0; i < MT; i++) {
            const __m512 xe = _mm512_load_ps(xr[i] + 2 * j), xo = _mm512_load_ps(xr[i] + 2 * j + 16);
#pragma GCC unroll 2
            for (int r = 0; r < NT; r++) {
                acc[i][r] = _mm512_fmadd_ps(d[r].lo, xe, acc[i][r]);
                acc[i][r] = _mm512_fmadd_ps(d[r].hi, xo, acc[i][r]);
            }
        }
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++) J->y[(m0 + i) * J->N + n0 + r] = _mm512_reduce_add_ps(acc[i][r]);
}

/* y[m0.., n0..] for MT rows of x and NT rows of the panel, over all kend/16 steps (zero padded). */
T512 INL void w4_gemm_tile(const awq_w4a16_job *J, int64_t m0, int64_t n0, const float *panel, const int MT,
                           const int NT) {
    const int64_t len = 2 * J->kend;
    const float *xr[W4_MT];
    __m512 acc[W4_MT][W4_NT];
    for (int i = 0; i < MT; i++) {
        xr[i] = J->xi + (m0 + i) * len;
        for (int r = 0; r < NT; r++) acc[i][r] = _mm512_setzero_ps();
    }
    const float *wp = panel;
    for (int64_t j = 0; j < len; j += 32, wp += AWQ_W4A16_PANEL_ROWS * 32) {
        __m512 w[W4_NT];
        for (int h = 0; h < 32; h += 16) { /* even columns, then odd */
            for (int r = 0; r < NT; r++) w[r] = _mm512_load_ps(wp + r * 32 + h);
            for (int i = 0; i < MT; i++) {
                const __m512 x = _mm512_load_ps(xr[i] + j + h);
                for (int r = 0; r < NT; r++) acc[i][r] = _mm512_fmadd_ps(w[r], x, acc[i][r]);
            }
        }
    }
    for (int i = 0; i < MT; i++)
        for (int r = 0; r < NT; r++) J->y[(m0 + i) * J->N + n0 + r] = _mm512_reduce_add_ps(acc[i][r]);
}

/* Fixed-shape instances, so every tile loop is unrolled and the accumulators live in registers. */
#define W4_GEMV(NT)                                                                                \
    T512 static void w4_gemv_##NT(const awq_w4a16_job *J, int64_t m, int64_t n) { w4_gemv_tile(J, m, n, NT); }
W4_GEMV(1)
W4_GEMV(2)
W4_GEMV(3)
W4_GEMV(4)

typedef void (*w4_gemm_fn)(const awq_w4a16_job *, int64_t, int64_t, const float *);
#define W4_GEMM(MT, NT)                                                                            \
    T512 static void w4_gemm_##MT##x##NT(const awq_w4a16_job *J, int64_t m, int64_t n, const float *p) { \
        w4_gemm_tile(J, m, n, p, MT, NT);                                                          \
    }
#define W4_GEMM_ROW(NT) W4_GEMM(1, NT) W4_GEMM(2, NT) W4_GEMM(3, NT) W4_GEMM(4, NT)
W4_GEMM_ROW(1) W4_GEMM_ROW(2) W4_GEMM_ROW(3) W4_GEMM_ROW(4) W4_GEMM_ROW(5) W4_GEMM_ROW(6)
#define W4_GEMM_FNS(NT) {NULL, w4_gemm_1x##NT, w4_gemm_2x##NT, w4_gemm_3x##NT, w4_gemm_4x##NT}
static const w4_gemm_fn w4_gemm_fns[W4_NT + 1][W4_MT + 1] = {
    {NULL, NULL, NULL, NULL, NULL}, W4_GEMM_FNS(1), W4_GEMM_FNS(2), W4_GEMM_FNS(3),
    W4_GEMM_FNS(4), W4_GEMM_FNS(5), W4_GEMM_FNS(6),
};

typedef void (*w4_gemv_fn)(const awq_w4a16_job *, int64_t, int64_t);
static const w4_gemv_fn w4_gemv_fns[5] = {NULL, w4_gemv_1, w4_gemv_2, w4_gemv_3, w4_gemv_4};

#define W4_FUSED(MT, NT)                                                                           \
    T512 static void w4_fused_##MT##x##NT(const awq_w4a16_job *J, int64_t m, int64_t n) {            \
        w4_fused_tile(J, m, n, MT, NT);                                                            \
    }
#define W4_FUSED_ROW(NT)                                                                           \
    W4_FUSED(1, NT) W4_FUSED(2, NT) W4_FUSED(3, NT) W4_FUSED(4, NT) W4_FUSED(5, NT) W4_FUSED(6, NT) \
    W4_FUSED(7, NT) W4_FUSED(8, NT)
W4_FUSED_ROW(1) W4_FUSED_ROW(2)
#define W4_FUSED_FNS(NT)                                                                           \
    {NULL, w4_fused_1x##NT, w4_fused_2x##NT, w4_fused_3x##NT, w4_fused_4x##NT, w4_fused_5x##NT,    \
     w4_fused_6x##NT, w4_fused_7x##NT, w4_fused_8x##NT}
static const w4_gemv_fn w4_fused_fns[W4_FNT + 1][W4_FM + 1] = {
    {NULL}, W4_FUSED_FNS(1), W4_FUSED_FNS(2),
};

void awq_w4a16_block_avx512(const awq_w4a16_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *panel) {
    if (J->M == 1) {
        for (int64_t n = n0; n < n1; n += 4) w4_gemv_fns[n1 - n < 4 ? n1 - n : 4](J, m0, n);
        return;
    }
    if (m1 - m0 <= W4_FM) {
        for (int64_t n = n0; n < n1; n += W4_FNT) w4_fused_fns[n1 - n < W4_FNT ? n1 - n : W4_FNT][m1 - m0](J, m0, n);
        return;
    }
    /* W rows outer (dequantized once per block), x tiles inner over the panel */
    for (int64_t n = n0; n < n1; n += W4_NT) {
        const int64_t nt = n1 - n < W4_NT ? n1 - n : W4_NT;
        for (int r = 0; r < nt; r++) w4_dequant_row(J, n + r, panel, r);
        for (int64_t m = m0; m < m1; m += W4_MT) w4_gemm_fns[nt][m1 - m < W4_MT ? m1 - m : W4_MT](J, m, n, panel);
    }
}

#endif /* AWQ_X86 */
