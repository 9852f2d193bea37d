/*
 * w4a8_avx2.c — AVX2 kernels of awq_quantize_act_q8 and awq_w4a8_gemm (math and layouts: w4a8.h).
 *
 * The AVX-512 BW tile at half the width: 8 rows of W per tile, one sub-step = 16 packed bytes of
 * each row, Z_a = [row a | row a+4] (one 16-byte piece per 128-bit lane), a 4x4 dword transpose
 * inside the lanes, the nibble split, then per row of x eight vpmaddubsw (unsigned codes × signed
 * activations, pairs summed into int16 — Intel Intrinsics Guide, _mm256_maddubs_epi16) added in
 * int16 (|pair| <= 3840, eight fit) and one vpmaddwd by ones into int32 lanes (_mm256_madd_epi16),
 * as llama.cpp's mul_sum_us8_pairs_float does per block (ggml-cpu/arch/x86/quants.c). AVX2 has no
 * byte-masked load: the partial last sub-step of a row is copied into a zeroed 16-byte buffer.
 * With repacked weights (w4a8.h, "rows8") a sub-step is four 32-byte loads of the tile's stream
 * instead: no transpose, one sequential stream per tile (measured on a 2-core AVX2-only AMD EPYC at
 * M = 1, from DRAM: 10-25 % more GB/s than the prefetched row layout in the kernel benchmark, and
 * 1.1-1.45x the decode tokens/s of a 22-layer TinyLlama-shaped model).
 */
#include "w4a8.h"

#if AWQ_X86
#include <immintrin.h>
#include <math.h>
#include <string.h>

#define T2 AWQ_TARGET_AVX2
#define INL static inline __attribute__((always_inline))
#define W8_MC AWQ_W4A8_MC

/* ---- quantization ---------------------------------------------------------------------------------- */
T2 int64_t awq_quantize_act_q8_avx2(const float *x, int64_t M, int64_t K, int64_t G, int8_t *xq, float *x_scale,
                                    int32_t *x_sum) {
    const int64_t ng = awq_n_groups(K, G);
    const __m256i mag = _mm256_set1_epi32(0x7FFFFFFF);
    const __m256 lo = _mm256_set1_ps(-127.0f), hi = _mm256_set1_ps(127.0f);
    for (int64_t m = 0; m < M; m++) {
        for (int64_t g = 0; g < ng; g++) {
            const int64_t k0 = g * G, len = K - k0 < G ? K - k0 : G;
            const float *xr = x + m * K + k0;
            int8_t *q = xq + m * K + k0;
            __m256i amax = _mm256_setzero_si256();
            int64_t i = 0;
            for (; i + 8 <= len; i += 8)
                amax = _mm256_max_epu32(amax, _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(xr + i)), mag));
            __m128i a4 = _mm_max_epu32(_mm256_castsi256_si128(amax), _mm256_extracti128_si256(amax, 1));
            a4 = _mm_max_epu32(a4, _mm_shuffle_epi32(a4, 0x4E));
            a4 = _mm_max_epu32(a4, _mm_shuffle_epi32(a4, 0xB1));
            uint32_t am = (uint32_t)_mm_cvtsi128_si32(a4);
            for (int64_t t = i; t < len; t++) {
                const uint32_t b = awq_f32_bits(xr[t]) & 0x7FFFFFFFu;
                if (b > am) am = b;
            }
            if (am >= 0x7F800000u) {
                for (int64_t t = 0; t < len; t++)
                    if ((awq_f32_bits(xr[t]) & 0x7FFFFFFFu) >= 0x7F800000u) return m * K + k0 + t;
            }
            const float scale = awq_bits_f32(am) / 127.0f;
            int32_t sum = 0;
            if (scale == 0.0f) {
                memset(q, 0, (size_t)len);
            } else {
                const __m256 sv = _mm256_set1_ps(scale);
                __m256i acc = _mm256_setzero_si256();
                for (i = 0; i + 8 <= len; i += 8) {
                    const __m256 t = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(xr + i), sv),
                                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
                    const __m256i v = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(t, lo), hi));
                    acc = _mm256_add_epi32(acc, v);
                    const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
                    _mm_storel_epi64((__m128i *)(q + i), _mm_packs_epi16(p16, p16));
                }
                __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
                s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
                s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
                sum = _mm_cvtsi128_si32(s4);
                for (; i < len; i++) { /* the scalar reference's operations, one value at a time */
                    float t = nearbyintf(xr[i] / scale);
                    t = t < -127.0f ? -127.0f : (t > 127.0f ? 127.0f : t);
                    q[i] = (int8_t)t;
                    sum += q[i];
                }
            }
            x_scale[m * ng + g] = scale;
            x_sum[m * ng + g] = sum;
        }
    }
    return -1;
}

/* ---- one sub-step of weights: 16 bytes of 8 rows -> 8 vectors of codes -------------------------------- */
T2 INL __m128i w8_ld16(const uint8_t *p, int64_t nb) {
    if (nb >= 16) return _mm_loadu_si128((const __m128i *)p);
    uint8_t b[16] = {0};
    memcpy(b, p, (size_t)nb);
    return _mm_loadu_si128((const __m128i *)b);
}

T2 INL void w8_split(const __m256i T[4], __m256i w[8]) {
    const __m256i nib = _mm256_set1_epi8(0x0F);
    for (int d = 0; d < 4; d++) {
        w[2 * d] = _mm256_and_si256(T[d], nib);
        w[2 * d + 1] = _mm256_and_si256(_mm256_srli_epi16(T[d], 4), nib);
    }
}

/* The same vectors from repacked weights: 128 bytes of the tile's stream. */
T2 INL void w8_step_rows8(const uint8_t *p, __m256i w[8]) {
    const __m256i T[4] = {_mm256_loadu_si256((const __m256i *)p), _mm256_loadu_si256((const __m256i *)(p + 32)),
                          _mm256_loadu_si256((const __m256i *)(p + 64)), _mm256_loadu_si256((const __m256i *)(p + 96))};
    w8_split(T, w);
}

T2 INL void w8_step(const uint8_t *const *rp, int64_t j, int64_t nb, __m256i w[8]) {
    __m256i z[4];
    for (int a = 0; a < 4; a++)
        z[a] = _mm256_inserti128_si256(_mm256_castsi128_si256(w8_ld16(rp[a] + j, nb)), w8_ld16(rp[a + 4] + j, nb), 1);
    const __m256i t0 = _mm256_unpacklo_epi32(z[0], z[1]), t1 = _mm256_unpackhi_epi32(z[0], z[1]);
    const __m256i t2 = _mm256_unpacklo_epi32(z[2], z[3]), t3 = _mm256_unpackhi_epi32(z[2], z[3]);
    const __m256i T[4] = {_mm256_unpacklo_epi64(t0, t2), _mm256_unpackhi_epi64(t0, t2), _mm256_unpacklo_epi64(t1, t3),
                          _mm256_unpackhi_epi64(t1, t3)};
    w8_split(T, w);
}

/* Software prefetch as in w4a8_avx512.c, for 8-row tiles: W8_PF sub-steps (16 KiB) ahead, one
 * new line per row every 4 sub-steps, so 2 rows' line per sub-step. */
#define W8_PF 128
typedef struct w8_pf {
    uintptr_t tile;
    int64_t t;
} w8_pf;

INL w8_pf w8_pf_start(const awq_w4a8_job *J, int64_t n0, int64_t nsub) {
    const int64_t ahead = W8_PF / nsub;
    w8_pf p = {(uintptr_t)J->qweight + (uintptr_t)((n0 + 8 * ahead) * J->kh), W8_PF % nsub};
    return p;
}

T2 INL void w8_prefetch(w8_pf *p, int64_t kh, int64_t nsub) {
    const uintptr_t a = p->tile + (uintptr_t)((2 * (p->t & 3)) * kh + 64 * (p->t >> 2));
    _mm_prefetch((const char *)a, _MM_HINT_T0);
    _mm_prefetch((const char *)(a + (uintptr_t)kh), _MM_HINT_T0);
    if (++p->t == nsub) p->t = 0, p->tile += (uintptr_t)(8 * kh);
}

T2 INL __m256i w8_bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, sizeof v);
    return _mm256_set1_epi32(v);
}

/* ---- tile: MT rows of x (from m0) × 8 rows of W (nrows valid) ----------------------------------------- */
/* RP: read the tile's repacked stream r8 (prefetched W8_PF sub-steps ahead, 2 lines each) instead
 * of the rows rp. */
T2 INL void w8_tile(const awq_w4a8_job *J, int64_t m0, int64_t n0, int nrows, const uint8_t *const *rp,
                    const uint8_t *r8, const uint16_t *tsc, const uint8_t *tz, const int MT, const int RP) {
    const int64_t kh = J->kh, kp = J->kp, ng = J->ng, spg = J->G / 32, nsub = (kh + 15) / 16;
    const int8_t *xb0 = J->xp + m0 * kp;
    w8_pf pf = w8_pf_start(J, n0, nsub);
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 yv[W8_MC];
    for (int m = 0; m < MT; m++) yv[m] = _mm256_setzero_ps();
    int64_t s = 0;
    for (int64_t g = 0; g < ng; g++) {
        const int64_t s_end = s + spg < nsub ? s + spg : nsub;
        __m256i acc[W8_MC];
        for (int m = 0; m < MT; m++) acc[m] = _mm256_setzero_si256();
        for (; s < s_end; s++) {
            __m256i w[8];
            if (RP) {
                const uint8_t *p = r8 + 128 * s;
                _mm_prefetch((const char *)(p + 128 * W8_PF), _MM_HINT_T0);
                _mm_prefetch((const char *)(p + 128 * W8_PF + 64), _MM_HINT_T0);
                w8_step_rows8(p, w);
            } else {
                w8_prefetch(&pf, kh, nsub);
                w8_step(rp, 16 * s, kh - 16 * s, w);
            }
            const int8_t *xb = xb0 + 32 * s;
            for (int m = 0; m < MT; m++) {
                __m256i p[8];
                for (int i = 0; i < 8; i++) p[i] = _mm256_maddubs_epi16(w[i], w8_bcast4(xb + m * kp + 4 * i));
                const __m256i s16 = _mm256_add_epi16(_mm256_add_epi16(_mm256_add_epi16(p[0], p[1]), _mm256_add_epi16(p[2], p[3])),
                                                     _mm256_add_epi16(_mm256_add_epi16(p[4], p[5]), _mm256_add_epi16(p[6], p[7])));
                acc[m] = _mm256_add_epi32(acc[m], _mm256_madd_epi16(s16, ones));
            }
        }
        const __m256 wsv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(tsc + g * 16)));
        const __m256i zv = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(tz + g * 16)));
        for (int m = 0; m < MT; m++) {
            /* y += (x_scale·w_scale) · (float)(dot − z·x_sum), per lane */
            const int64_t gi = (m0 + m) * ng + g;
            const __m256i corr = _mm256_sub_epi32(acc[m], _mm256_mullo_epi32(zv, _mm256_set1_epi32(J->x_sum[gi])));
            const __m256 sc = _mm256_mul_ps(_mm256_set1_ps(J->x_scale[gi]), wsv);
            yv[m] = _mm256_add_ps(yv[m], _mm256_mul_ps(sc, _mm256_cvtepi32_ps(corr)));
        }
    }
    const __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(nrows), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int m = 0; m < MT; m++) {
        float *dst = J->y + (m0 + m) * J->N + n0;
        if (nrows == 8) _mm256_storeu_ps(dst, yv[m]);
        else _mm256_maskstore_ps(dst, keep, yv[m]);
    }
}

typedef void (*w8_tile_fn)(const awq_w4a8_job *, int64_t, int64_t, int, const uint8_t *const *, const uint8_t *,
                           const uint16_t *, const uint8_t *);
#define W8_INST(MT)                                                                                       \
    T2 static void w8_tile_##MT(const awq_w4a8_job *J, int64_t m0, int64_t n0, int nrows,                 \
                                const uint8_t *const *rp, const uint8_t *r8, const uint16_t *tsc,          \
                                const uint8_t *tz) {                                                       \
        w8_tile(J, m0, n0, nrows, rp, r8, tsc, tz, MT, 0);                                                 \
    }                                                                                                      \
    T2 static void w8r_tile_##MT(const awq_w4a8_job *J, int64_t m0, int64_t n0, int nrows,                \
                                 const uint8_t *const *rp, const uint8_t *r8, const uint16_t *tsc,         \
                                 const uint8_t *tz) {                                                      \
        w8_tile(J, m0, n0, nrows, rp, r8, tsc, tz, MT, 1);                                                 \
    }
W8_INST(1) W8_INST(2) W8_INST(3) W8_INST(4) W8_INST(5) W8_INST(6) W8_INST(7) W8_INST(8)
W8_INST(9) W8_INST(10) W8_INST(11) W8_INST(12) W8_INST(13) W8_INST(14) W8_INST(15) W8_INST(16)
static const w8_tile_fn w8_tile_fns[2][W8_MC + 1] = {
    {NULL, w8_tile_1, w8_tile_2, w8_tile_3, w8_tile_4, w8_tile_5, w8_tile_6, w8_tile_7, w8_tile_8,
     w8_tile_9, w8_tile_10, w8_tile_11, w8_tile_12, w8_tile_13, w8_tile_14, w8_tile_15, w8_tile_16},
    {NULL, w8r_tile_1, w8r_tile_2, w8r_tile_3, w8r_tile_4, w8r_tile_5, w8r_tile_6, w8r_tile_7, w8r_tile_8,
     w8r_tile_9, w8r_tile_10, w8r_tile_11, w8r_tile_12, w8r_tile_13, w8r_tile_14, w8r_tile_15, w8r_tile_16}};

void awq_w4a8_block_avx2(const awq_w4a8_job *J, int64_t n0, int64_t n1) {
    const int rp8 = J->rows8 != NULL;
    const int64_t nsub = (J->kh + 15) / 16;
    for (int64_t n = n0; n < n1; n += 8) {
        const int nrows = n1 - n < 8 ? (int)(n1 - n) : 8;
        const uint8_t *rp[8];
        for (int r = 0; r < 8; r++) rp[r] = J->qweight + (n + (r < nrows ? r : nrows - 1)) * J->kh;
        const uint8_t *r8 = rp8 ? J->rows8 + (n / 8) * nsub * 128 : NULL;
        /* n is a multiple of 8: half n % 16 / 8 of tile n / 16 of the tables */
        const uint16_t *tsc = J->tile_scales + (n / 16) * J->ng * 16 + n % 16;
        const uint8_t *tz = J->tile_zeros + (n / 16) * J->ng * 16 + n % 16;
        for (int64_t m = 0; m < J->M; m += W8_MC)
            w8_tile_fns[rp8][J->M - m < W8_MC ? J->M - m : W8_MC](J, m, n, nrows, rp, r8, tsc, tz);
    }
}

#endif /* AWQ_X86 */
