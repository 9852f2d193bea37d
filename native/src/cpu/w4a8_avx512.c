/*
 * w4a8_avx512.c — AVX-512 kernels of awq_quantize_act_q8 and awq_w4a8_gemm (math and layouts:
 * w4a8.h). Two flavours of the same 16-row tile:
 *  - VNNI (AVX512_VNNI): vpdpbusd multiplies 64 unsigned bytes (the 4-bit codes, 0..15) by 64
 *    signed bytes (the int8 activations) and adds each group of four products into an int32
 *    lane without saturation (Intel Intrinsics Guide, _mm512_dpbusd_epi32).
 *  - BW (Skylake-X class, no VNNI): vpmaddubsw (unsigned × signed bytes, pairs summed into int16,
 *    _mm512_maddubs_epi16), eight of them added in int16 (|pair| <= 3840, so 8 fit), then one
 *    vpmaddwd by ones (_mm512_madd_epi16) into int32 lanes — llama.cpp's mul_sum_us8_pairs_float
 *    idea (ggml-cpu/arch/x86/quants.c) with the int32 step deferred over a whole sub-step.
 * One sub-step takes 16 packed bytes of each of the tile's 16 weight rows: four 512-bit vectors
 * Z_a = [row a | row a+4 | row a+8 | row a+12] (one 16-byte row piece per 128-bit lane), a 4x4
 * dword transpose inside the 128-bit lanes (vpunpck{l,h}{dq,qdq}) leaves lane r of T_d holding
 * bytes 4d..4d+3 of row r, and the nibble split gives the eight weight vectors the rows of x are
 * multiplied with. The x operand is a 4-byte broadcast folded into vpdpbusd ({1to16}).
 * The tile's fp16 scales and zero points are read from [group][16] tables (w4a8.h: J->tile_scales,
 * prepared once by awq_w4a8_tile_tables, or made by the driver for one call).
 */
#include "w4a8.h"

#if AWQ_X86
#include <immintrin.h>
#include <string.h>

#define T512 AWQ_TARGET_AVX512
#define T512V AWQ_TARGET_AVX512VNNI
#define INL static inline __attribute__((always_inline))
#define W8_MC AWQ_W4A8_MC

/* ---- quantization ---------------------------------------------------------------------------------- */
T512 int64_t awq_quantize_act_q8_avx512(const float *x, int64_t M, int64_t K, int64_t G, int8_t *xq, float *x_scale,
                                        int32_t *x_sum) {
    const int64_t ng = awq_n_groups(K, G);
    const __m512i mag = _mm512_set1_epi32(0x7FFFFFFF);
    const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
    for (int64_t m = 0; m < M; m++) {
        for (int64_t g = 0; g < ng; g++) {
            const int64_t k0 = g * G, len = K - k0 < G ? K - k0 : G;
            const float *xr = x + m * K + k0;
            int8_t *q = xq + m * K + k0;
            /* max|x| on the magnitude bits as unsigned integers, as the scalar reference does */
            __m512i amax = _mm512_setzero_si512();
            int64_t i = 0;
            for (; i + 16 <= len; i += 16)
                amax = _mm512_max_epu32(amax, _mm512_and_si512(_mm512_loadu_si512(xr + i), mag));
            const __mmask16 tail = (__mmask16)((1u << (len - i)) - 1u);
            if (i < len) amax = _mm512_max_epu32(amax, _mm512_and_si512(_mm512_maskz_loadu_epi32(tail, xr + i), mag));
            const uint32_t am = _mm512_reduce_max_epu32(amax);
            if (am >= 0x7F800000u) {
                for (int64_t t = 0; t < len; t++)
                    if ((awq_f32_bits(xr[t]) & 0x7FFFFFFFu) >= 0x7F800000u) return m * K + k0 + t;
            }
            const float scale = awq_bits_f32(am) / 127.0f;
            int32_t sum = 0;
            if (scale == 0.0f) {
                memset(q, 0, (size_t)len);
            } else {
                const __m512 sv = _mm512_set1_ps(scale);
                __m512i acc = _mm512_setzero_si512();
                for (i = 0; i + 16 <= len; i += 16) {
                    __m512 t = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(xr + i), sv),
                                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                    const __m512i v = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(t, lo), hi));
                    acc = _mm512_add_epi32(acc, v);
                    _mm_storeu_si128((__m128i *)(q + i), _mm512_cvtepi32_epi8(v));
                }
                if (i < len) { /* masked-off lanes load 0 and quantize to 0 */
                    __m512 t = _mm512_roundscale_ps(_mm512_div_ps(_mm512_maskz_loadu_ps(tail, xr + i), sv),
                                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                    const __m512i v = _mm512_cvtps_epi32(_mm512_min_ps(_mm512_max_ps(t, lo), hi));
                    acc = _mm512_add_epi32(acc, v);
                    _mm512_mask_cvtepi32_storeu_epi8(q + i, tail, v);
                }
                sum = _mm512_reduce_add_epi32(acc);
            }
            x_scale[m * ng + g] = scale;
            x_sum[m * ng + g] = sum;
        }
    }
    return -1;
}

/* group g's fp32 weight scales and int32 zero points of the tile's 16 rows, from the tables */
T512 INL __m512 w8_group_scales(const uint16_t *tsc, int64_t g) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(tsc + g * 16)));
}
T512 INL __m512i w8_group_zeros(const uint8_t *tz, int64_t g) {
    return _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(tz + g * 16)));
}

/* ---- one sub-step of weights: 16 bytes of 16 rows -> 8 vectors of codes ------------------------------ */
T512 INL __m128i w8_ld16(const uint8_t *p, int64_t nb) {
    return nb >= 16 ? _mm_loadu_si128((const __m128i *)p) : _mm_maskz_loadu_epi8((__mmask16)((1u << nb) - 1u), p);
}

/* w[2d] = lo_d, w[2d+1] = hi_d (w4a8.h). nb = bytes left in the rows from j (> 0); bytes past the
 * row end are loaded as 0 and never read from memory. */
T512 INL void w8_step(const uint8_t *const *rp, int64_t j, int64_t nb, __m512i w[8]) {
    __m512i z[4];
    for (int a = 0; a < 4; a++) {
        __m512i v = _mm512_castsi128_si512(w8_ld16(rp[a] + j, nb));
        v = _mm512_inserti32x4(v, w8_ld16(rp[a + 4] + j, nb), 1);
        v = _mm512_inserti32x4(v, w8_ld16(rp[a + 8] + j, nb), 2);
        z[a] = _mm512_inserti32x4(v, w8_ld16(rp[a + 12] + j, nb), 3);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    const __m512i T[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2), _mm512_unpacklo_epi64(t1, t3),
                          _mm512_unpackhi_epi64(t1, t3)};
    const __m512i nib = _mm512_set1_epi8(0x0F);
    for (int d = 0; d < 4; d++) {
        w[2 * d] = _mm512_and_si512(T[d], nib);
        w[2 * d + 1] = _mm512_and_si512(_mm512_srli_epi16(T[d], 4), nib);
    }
}

/* Software prefetch, W8_PF sub-steps (W8_PF·256 bytes of weights) ahead in the order the tiles
 * consume them: sub-step s touches one new 64-byte line in each of the 16 rows every 4 sub-steps,
 * so each sub-step prefetches 4 rows' line of the sub-step W8_PF later, counting on into the
 * following tiles (16 rows, 16·kh bytes, each) past this tile's end. 16 streams of a few dozen
 * lines each are too short for the hardware prefetchers to learn: without this, M = 1 ran at half
 * the W4A16 GEMV's speed; with it, at the single-core read bandwidth (Zen 4, 32 KiB ahead: 64 to
 * 128 sub-steps measured alike, 16 and 32 slower). Addresses past the end of qweight are only
 * ever prefetched, never read. */
#define W8_PF 128
typedef struct w8_pf {
    uintptr_t tile;  /* first byte of the tile holding the prefetch target */
    int64_t t;       /* the target's sub-step inside that tile */
} w8_pf;

INL w8_pf w8_pf_start(const awq_w4a8_job *J, int64_t n0, int64_t nsub) {
    const int64_t ahead = W8_PF / nsub;
    w8_pf p = {(uintptr_t)J->qweight + (uintptr_t)((n0 + 16 * ahead) * J->kh), W8_PF % nsub};
    return p;
}

T512 INL void w8_prefetch(w8_pf *p, int64_t kh, int64_t nsub) {
    const uintptr_t a = p->tile + (uintptr_t)((4 * (p->t & 3)) * kh + 64 * (p->t >> 2));
    _mm_prefetch((const char *)a, _MM_HINT_T0);
    _mm_prefetch((const char *)(a + (uintptr_t)kh), _MM_HINT_T0);
    _mm_prefetch((const char *)(a + (uintptr_t)(2 * kh)), _MM_HINT_T0);
    _mm_prefetch((const char *)(a + (uintptr_t)(3 * kh)), _MM_HINT_T0);
    if (++p->t == nsub) p->t = 0, p->tile += (uintptr_t)(16 * kh);
}

T512 INL __m512i w8_bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm512_set1_epi32(v);
}

/* End of group g for row m of x: y += (x_scale·w_scale) · (float)(dot − z·x_sum), per lane. */
T512 INL __m512 w8_group_end(const awq_w4a8_job *J, int64_t m, int64_t g, __m512i dot, __m512 wsv, __m512i zv,
                             __m512 yv) {
    const int64_t gi = m * J->ng + g;
    const __m512i corr = _mm512_sub_epi32(dot, _mm512_mullo_epi32(zv, _mm512_set1_epi32(J->x_sum[gi])));
    const __m512 s = _mm512_mul_ps(_mm512_set1_ps(J->x_scale[gi]), wsv);
    return _mm512_add_ps(yv, _mm512_mul_ps(s, _mm512_cvtepi32_ps(corr)));
}

/* ---- tiles: MT rows of x (from m0) × 16 rows of W (nrows valid) --------------------------------------- */
/* VNNI: NA accumulators per row of x, so that MT·NA >= 8 independent vpdpbusd chains. */
T512V INL void w8_tile_vnni(const awq_w4a8_job *J, int64_t m0, int64_t n0, int nrows, const uint8_t *const *rp,
                            const uint16_t *tsc, const uint8_t *tz, const int MT, const int NA) {
    const int64_t kh = J->kh, kp = J->kp, ng = J->ng, spg = J->G / 32, nsub = (kh + 15) / 16;
    const int8_t *xb0 = J->xp + m0 * kp;
    w8_pf pf = w8_pf_start(J, n0, nsub);
    __m512 yv[W8_MC];
    for (int m = 0; m < MT; m++) yv[m] = _mm512_setzero_ps();
    int64_t s = 0;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t s_end = s + spg < nsub ? s + spg : nsub;
        __m512i acc[W8_MC][8];
        for (int m = 0; m < MT; m++)
            for (int a = 0; a < NA; a++) acc[m][a] = _mm512_setzero_si512();
        for (; s < s_end; s++) {
            w8_prefetch(&pf, kh, nsub);
            __m512i w[8];
            w8_step(rp, 16 * s, kh - 16 * s, w);
            const int8_t *xb = xb0 + 32 * s;
#pragma GCC unroll 16
            for (int m = 0; m < MT; m++)
#pragma GCC unroll 8
                for (int i = 0; i < 8; i++)
                    acc[m][i % NA] = _mm512_dpbusd_epi32(acc[m][i % NA], w[i], w8_bcast4(xb + m * kp + 4 * i));
        }
        const __m512 wsv = w8_group_scales(tsc, g);
        const __m512i zv = w8_group_zeros(tz, g);
        for (int m = 0; m < MT; m++) {
            __m512i dot = acc[m][0];
            for (int a = 1; a < NA; a++) dot = _mm512_add_epi32(dot, acc[m][a]);
            yv[m] = w8_group_end(J, m0 + m, g, dot, wsv, zv, yv[m]);
        }
    }
    const __mmask16 keep = (__mmask16)((1u << nrows) - 1u);
    for (int m = 0; m < MT; m++) _mm512_mask_storeu_ps(J->y + (m0 + m) * J->N + n0, keep, yv[m]);
}

/* BW: per row of x and sub-step, eight vpmaddubsw summed in int16 (a tree, for ILP), one vpmaddwd. */
T512 INL void w8_tile_bw(const awq_w4a8_job *J, int64_t m0, int64_t n0, int nrows, const uint8_t *const *rp,
                         const uint16_t *tsc, const uint8_t *tz, const int MT, const int NA) {
    (void)NA;
    const int64_t kh = J->kh, kp = J->kp, ng = J->ng, spg = J->G / 32, nsub = (kh + 15) / 16;
    const int8_t *xb0 = J->xp + m0 * kp;
    w8_pf pf = w8_pf_start(J, n0, nsub);
    const __m512i ones = _mm512_set1_epi16(1);
    __m512 yv[W8_MC];
    for (int m = 0; m < MT; m++) yv[m] = _mm512_setzero_ps();
    int64_t s = 0;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t s_end = s + spg < nsub ? s + spg : nsub;
        __m512i acc[W8_MC];
        for (int m = 0; m < MT; m++) acc[m] = _mm512_setzero_si512();
        for (; s < s_end; s++) {
            w8_prefetch(&pf, kh, nsub);
            __m512i w[8];
            w8_step(rp, 16 * s, kh - 16 * s, w);
            const int8_t *xb = xb0 + 32 * s;
#pragma GCC unroll 16
            for (int m = 0; m < MT; m++) {
                __m512i p[8];
                for (int i = 0; i < 8; i++) p[i] = _mm512_maddubs_epi16(w[i], w8_bcast4(xb + m * kp + 4 * i));
                const __m512i s16 = _mm512_add_epi16(_mm512_add_epi16(_mm512_add_epi16(p[0], p[1]), _mm512_add_epi16(p[2], p[3])),
                                                     _mm512_add_epi16(_mm512_add_epi16(p[4], p[5]), _mm512_add_epi16(p[6], p[7])));
                acc[m] = _mm512_add_epi32(acc[m], _mm512_madd_epi16(s16, ones));
            }
        }
        const __m512 wsv = w8_group_scales(tsc, g);
        const __m512i zv = w8_group_zeros(tz, g);
        for (int m = 0; m < MT; m++) yv[m] = w8_group_end(J, m0 + m, g, acc[m], wsv, zv, yv[m]);
    }
    const __mmask16 keep = (__mmask16)((1u << nrows) - 1u);
    for (int m = 0; m < MT; m++) _mm512_mask_storeu_ps(J->y + (m0 + m) * J->N + n0, keep, yv[m]);
}

/* Fixed-shape instances, so the row loops unroll and the accumulators live in registers. */
typedef void (*w8_tile_fn)(const awq_w4a8_job *, int64_t, int64_t, int, const uint8_t *const *, const uint16_t *,
                           const uint8_t *);
#define W8_NA(MT) ((MT) == 1 ? 8 : (MT) <= 3 ? 4 : (MT) <= 7 ? 2 : 1)
#define W8_INST(KIND, TGT, MT)                                                                      \
    TGT static void w8_##KIND##_##MT(const awq_w4a8_job *J, int64_t m0, int64_t n0, int nrows,     \
                                     const uint8_t *const *rp, const uint16_t *tsc, const uint8_t *tz) { \
        w8_tile_##KIND(J, m0, n0, nrows, rp, tsc, tz, MT, W8_NA(MT));                               \
    }
#define W8_INST_ALL(KIND, TGT)                                                                      \
    W8_INST(KIND, TGT, 1) W8_INST(KIND, TGT, 2) W8_INST(KIND, TGT, 3) W8_INST(KIND, TGT, 4)          \
    W8_INST(KIND, TGT, 5) W8_INST(KIND, TGT, 6) W8_INST(KIND, TGT, 7) W8_INST(KIND, TGT, 8)          \
    W8_INST(KIND, TGT, 9) W8_INST(KIND, TGT, 10) W8_INST(KIND, TGT, 11) W8_INST(KIND, TGT, 12)       \
    W8_INST(KIND, TGT, 13) W8_INST(KIND, TGT, 14) W8_INST(KIND, TGT, 15) W8_INST(KIND, TGT, 16)      \
    static const w8_tile_fn w8_##KIND##_fns[W8_MC + 1] = {                                          \
        NULL, w8_##KIND##_1, w8_##KIND##_2, w8_##KIND##_3, w8_##KIND##_4, w8_##KIND##_5,            \
        w8_##KIND##_6, w8_##KIND##_7, w8_##KIND##_8, w8_##KIND##_9, w8_##KIND##_10, w8_##KIND##_11, \
        w8_##KIND##_12, w8_##KIND##_13, w8_##KIND##_14, w8_##KIND##_15, w8_##KIND##_16};
W8_INST_ALL(vnni, T512V)
W8_INST_ALL(bw, T512)

/* Tiles of 16 rows of W; for each, its [group][16] tables, then the
 * rows of x in chunks of W8_MC (each chunk re-reads the tile's weights, from cache). Rows past n1
 * repeat row n1-1 and are not stored. */
T512 static void w8_block(const awq_w4a8_job *J, int64_t n0, int64_t n1, const w8_tile_fn *fns) {
    for (int64_t n = n0; n < n1; n += 16) {
        const int nrows = n1 - n < 16 ? (int)(n1 - n) : 16;
        const uint8_t *rp[16];
        for (int r = 0; r < 16; r++) rp[r] = J->qweight + (n + (r < nrows ? r : nrows - 1)) * J->kh;
        /* n is a multiple of 16: tile n / 16 of the tables */
        const uint16_t *tsc = J->tile_scales + (n / 16) * J->ng * 16;
        const uint8_t *tz = J->tile_zeros + (n / 16) * J->ng * 16;
        for (int64_t m = 0; m < J->M; m += W8_MC)
            fns[J->M - m < W8_MC ? J->M - m : W8_MC](J, m, n, nrows, rp, tsc, tz);
    }
}

void awq_w4a8_block_avx512vnni(const awq_w4a8_job *J, int64_t n0, int64_t n1) {
    w8_block(J, n0, n1, w8_vnni_fns);
}

void awq_w4a8_block_avx512(const awq_w4a8_job *J, int64_t n0, int64_t n1) {
    w8_block(J, n0, n1, w8_bw_fns);
}

#endif /* AWQ_X86 */
