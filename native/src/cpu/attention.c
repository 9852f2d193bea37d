/*
 * attention.c — causal grouped-query attention of M new query rows against a KV cache.
 *
 * For query row m (position n_past + m) and head h, with kv head g = h / (n_heads / n_kv_heads):
 *   s[t] = (q[m,h,:] · k[t,g,:]) * (1/sqrt(head_dim))   for t = 0 .. n_past + m
 *   p    = softmax(s)                                    (awq_softmax_row: max subtraction, fp32
 *                                                         exps, double sum)
 *   out[m,h,:] = Σ_t p[t] * v[t,g,:]                     (t ascending, fp32)
 * Two passes over the scores, not an online softmax: the probabilities are normalised exactly as
 * a plain softmax would, with no running rescale to add rounding. Each (m, h) is one task; the
 * scores live in a per-chunk scratch row (on the stack up to ATTN_STACK_SCORES keys).
 *
 * The SIMD paths vectorise along head_dim (a masked tail covers head_dim 8 of stories260K and
 * any other width). Each key's dot product runs the same instruction sequence whichever group of
 * keys it is computed in, so results do not depend on the thread count.
 *
 * Heads of at most 8 dims (one ymm register) take a narrow path with the same arithmetic per
 * element, only scheduled differently, so its results equal the per-task path bit for bit
 * (awq_attention_isa_per_task, kept for that comparison):
 *  - scores: 8 keys at a time, their products reduced by a transpose that performs hsum8's
 *    additions ((d0+d4)+(d2+d6)) + ((d1+d5)+(d3+d7)) for all 8 keys in one register, instead of a
 *    horizontal sum per key;
 *  - mix: the heads of one query row (same length) share the loop over keys, one accumulator
 *    each, so up to ATTN_HEADS_TOGETHER independent FMA chains hide the FMA latency that a single
 *    head's one-register chain is bound by.
 * On AVX-512 with grouped-query attention (n_heads > n_kv_heads, head_dim > 8) a task is one query
 * row and one kv head: its query heads, ATTN_HEADS_TOGETHER at a time, share each load of a K and
 * a V row (scores_heads_avx512, mix_heads_avx512) instead of reading the kv head's cache once per
 * query head — again the per-task arithmetic per (head, key) and (head, dim), so the same bits.
 */
#include "layers_internal.h"
#include "simd_math.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>

#if AWQ_X86
#include <immintrin.h>
#endif

#define ATTN_STACK_SCORES 4096
#define ATTN_HEADS_TOGETHER 4
#define ATTN_MIN_FLOPS_PER_CHUNK (256 * 1024)

/* scores[t] = (q · k_t) * scale for t < len; k_t = k + t * stride */
typedef void (*attn_scores_fn)(const float *q, const float *k, int64_t stride, int64_t len,
                               int64_t hd, float scale, float *scores);
/* out = Σ_t p[t] * v_t for t < len, t ascending */
typedef void (*attn_mix_fn)(const float *p, const float *v, int64_t stride, int64_t len, int64_t hd,
                            float *out);

/* ---- scalar reference ----------------------------------------------------------------------- */
static void scores_scalar(const float *q, const float *k, int64_t stride, int64_t len, int64_t hd,
                          float scale, float *scores) {
    for (int64_t t = 0; t < len; t++) {
        const float *kt = k + t * stride;
        float dot = 0.0f;
        for (int64_t d = 0; d < hd; d++) dot += q[d] * kt[d];
        scores[t] = dot * scale;
    }
}

static void mix_scalar(const float *p, const float *v, int64_t stride, int64_t len, int64_t hd,
                       float *out) {
    for (int64_t d = 0; d < hd; d++) out[d] = 0.0f;
    for (int64_t t = 0; t < len; t++) {
        const float *vt = v + t * stride;
        for (int64_t d = 0; d < hd; d++) out[d] += p[t] * vt[d];
    }
}

#if AWQ_X86
#define AWQ_INLINE static inline __attribute__((always_inline))

/* ---- AVX2 ------------------------------------------------------------------------------------ */
AWQ_TARGET_AVX2 AWQ_INLINE __m256i tail_mask8(int64_t rem) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(rem < 8 ? rem : 8)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

AWQ_TARGET_AVX2 AWQ_INLINE float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* NK keys at once: independent accumulator chains hide the FMA latency */
AWQ_TARGET_AVX2 AWQ_INLINE void scores_keys_avx2(const float *q, const float *k, int64_t stride,
                                                 int64_t hd, float scale, float *scores, const int NK) {
    __m256 acc[4];
    for (int i = 0; i < NK; i++) acc[i] = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 8 <= hd; d += 8) {
        __m256 qv = _mm256_loadu_ps(q + d);
        for (int i = 0; i < NK; i++)
            acc[i] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k + i * stride + d), acc[i]);
    }
    if (d < hd) {
        __m256i mask = tail_mask8(hd - d);
        __m256 qv = _mm256_maskload_ps(q + d, mask);
        for (int i = 0; i < NK; i++)
            acc[i] = _mm256_fmadd_ps(qv, _mm256_maskload_ps(k + i * stride + d, mask), acc[i]);
    }
    for (int i = 0; i < NK; i++) scores[i] = hsum8(acc[i]) * scale;
}

AWQ_TARGET_AVX2 static void scores_avx2(const float *q, const float *k, int64_t stride, int64_t len,
                                        int64_t hd, float scale, float *scores) {
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) scores_keys_avx2(q, k + t * stride, stride, hd, scale, scores + t, 4);
    for (; t < len; t++) scores_keys_avx2(q, k + t * stride, stride, hd, scale, scores + t, 1);
}

/* NV vectors (8 dims each) of the output kept in registers over all keys */
AWQ_TARGET_AVX2 AWQ_INLINE void mix_dims_avx2(const float *p, const float *v, int64_t stride, int64_t len,
                                              int64_t rem, float *out, const int NV) {
    __m256i mask[4];
    __m256 acc[4];
    for (int j = 0; j < NV; j++) {
        mask[j] = tail_mask8(rem - 8 * j);
        acc[j] = _mm256_setzero_ps();
    }
    for (int64_t t = 0; t < len; t++) {
        __m256 pt = _mm256_set1_ps(p[t]);
        const float *vt = v + t * stride;
        for (int j = 0; j < NV; j++)
            acc[j] = _mm256_fmadd_ps(pt, _mm256_maskload_ps(vt + 8 * j, mask[j]), acc[j]);
    }
    for (int j = 0; j < NV; j++) _mm256_maskstore_ps(out + 8 * j, mask[j], acc[j]);
}

AWQ_TARGET_AVX2 static void mix_avx2(const float *p, const float *v, int64_t stride, int64_t len, int64_t hd,
                                     float *out) {
    for (int64_t d = 0; d < hd; d += 32) {
        int64_t rem = hd - d;
        switch (rem > 24 ? 4 : (int)((rem + 7) / 8)) {
        case 1: mix_dims_avx2(p, v + d, stride, len, rem, out + d, 1); break;
        case 2: mix_dims_avx2(p, v + d, stride, len, rem, out + d, 2); break;
        case 3: mix_dims_avx2(p, v + d, stride, len, rem, out + d, 3); break;
        default: mix_dims_avx2(p, v + d, stride, len, rem, out + d, 4); break;
        }
    }
}

/* ---- AVX2, heads of at most 8 dims ---------------------------------------------------------- */
/* scores_avx2 for hd <= 8, bit for bit: the products of 8 keys are those of scores_keys_avx2
 * (fma into zero, masked lanes 0), and the transpose below adds them pairwise in hsum8's order:
 * 128-bit halves (d_i + d_{i+4}), then (s0 + s2) and (s1 + s3), then their sum. */
AWQ_TARGET_AVX2 static void scores_narrow_avx2(const float *q, const float *k, int64_t stride,
                                               int64_t len, int64_t hd, float scale, float *scores) {
    const __m256i mask = tail_mask8(hd);
    const __m256 qv = _mm256_maskload_ps(q, mask);
    const __m256 zero = _mm256_setzero_ps(), vscale = _mm256_set1_ps(scale);
    /* the reduction leaves keys in the order 0 2 4 6 1 3 5 7 */
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int64_t t = 0;
    for (; t + 8 <= len; t += 8) {
        const float *kt = k + t * stride;
        __m256 p[8];
        for (int i = 0; i < 8; i++) p[i] = _mm256_fmadd_ps(qv, _mm256_maskload_ps(kt + i * stride, mask), zero);
        __m256 h[4]; /* h[i] = [s_{2i}[0..3] | s_{2i+1}[0..3]], s_j[d] = p_j[d] + p_j[d+4] */
        for (int i = 0; i < 4; i++)
            h[i] = _mm256_add_ps(_mm256_permute2f128_ps(p[2 * i], p[2 * i + 1], 0x20),
                                 _mm256_permute2f128_ps(p[2 * i], p[2 * i + 1], 0x31));
        /* w = per 128-bit lane [s_a0+s_a2, s_a1+s_a3, s_b0+s_b2, s_b1+s_b3] */
        __m256 w0 = _mm256_add_ps(_mm256_shuffle_ps(h[0], h[1], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(h[0], h[1], _MM_SHUFFLE(3, 2, 3, 2)));
        __m256 w1 = _mm256_add_ps(_mm256_shuffle_ps(h[2], h[3], _MM_SHUFFLE(1, 0, 1, 0)),
                                  _mm256_shuffle_ps(h[2], h[3], _MM_SHUFFLE(3, 2, 3, 2)));
        __m256 r = _mm256_add_ps(_mm256_shuffle_ps(w0, w1, _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm256_shuffle_ps(w0, w1, _MM_SHUFFLE(3, 1, 3, 1)));
        _mm256_storeu_ps(scores + t, _mm256_permutevar8x32_ps(_mm256_mul_ps(r, vscale), order));
    }
    for (; t < len; t++) scores_keys_avx2(q, k + t * stride, stride, hd, scale, scores + t, 1);
}

/* mix_avx2 for hd <= 8 of n heads with the same length at once: head i's accumulator sees the
 * same FMAs in the same order (t ascending) as mix_dims_avx2 with one vector. Named accumulators
 * (not an array) keep all four in registers. */
AWQ_TARGET_AVX2 static void mix_heads_avx2(const float *const *p, const float *const *v, int64_t stride,
                                           int64_t len, int64_t hd, float *const *out, int n) {
    const __m256i mask = tail_mask8(hd);
    if (n < 4) {
        for (int i = 0; i < n; i++) mix_dims_avx2(p[i], v[i], stride, len, hd, out[i], 1);
        return;
    }
    const float *p0 = p[0], *p1 = p[1], *p2 = p[2], *p3 = p[3];
    const float *v0 = v[0], *v1 = v[1], *v2 = v[2], *v3 = v[3];
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (int64_t t = 0, off = 0; t < len; t++, off += stride) {
        a0 = _mm256_fmadd_ps(_mm256_set1_ps(p0[t]), _mm256_maskload_ps(v0 + off, mask), a0);
        a1 = _mm256_fmadd_ps(_mm256_set1_ps(p1[t]), _mm256_maskload_ps(v1 + off, mask), a1);
        a2 = _mm256_fmadd_ps(_mm256_set1_ps(p2[t]), _mm256_maskload_ps(v2 + off, mask), a2);
        a3 = _mm256_fmadd_ps(_mm256_set1_ps(p3[t]), _mm256_maskload_ps(v3 + off, mask), a3);
    }
    _mm256_maskstore_ps(out[0], mask, a0);
    _mm256_maskstore_ps(out[1], mask, a1);
    _mm256_maskstore_ps(out[2], mask, a2);
    _mm256_maskstore_ps(out[3], mask, a3);
}

/* ---- AVX-512 --------------------------------------------------------------------------------- */
AWQ_TARGET_AVX512 AWQ_INLINE __mmask16 tail_mask16(int64_t rem) {
    return rem >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << rem) - 1u);
}

AWQ_TARGET_AVX512 AWQ_INLINE void scores_keys_avx512(const float *q, const float *k, int64_t stride,
                                                     int64_t hd, float scale, float *scores, const int NK) {
    __m512 acc[4];
    for (int i = 0; i < NK; i++) acc[i] = _mm512_setzero_ps();
    int64_t d = 0;
    for (; d + 16 <= hd; d += 16) {
        __m512 qv = _mm512_loadu_ps(q + d);
        for (int i = 0; i < NK; i++)
            acc[i] = _mm512_fmadd_ps(qv, _mm512_loadu_ps(k + i * stride + d), acc[i]);
    }
    if (d < hd) {
        __mmask16 mask = tail_mask16(hd - d);
        __m512 qv = _mm512_maskz_loadu_ps(mask, q + d);
        for (int i = 0; i < NK; i++)
            acc[i] = _mm512_fmadd_ps(qv, _mm512_maskz_loadu_ps(mask, k + i * stride + d), acc[i]);
    }
    for (int i = 0; i < NK; i++) scores[i] = _mm512_reduce_add_ps(acc[i]) * scale;
}

AWQ_TARGET_AVX512 static void scores_avx512(const float *q, const float *k, int64_t stride, int64_t len,
                                            int64_t hd, float scale, float *scores) {
    int64_t t = 0;
    for (; t + 4 <= len; t += 4) scores_keys_avx512(q, k + t * stride, stride, hd, scale, scores + t, 4);
    for (; t < len; t++) scores_keys_avx512(q, k + t * stride, stride, hd, scale, scores + t, 1);
}

AWQ_TARGET_AVX512 AWQ_INLINE void mix_dims_avx512(const float *p, const float *v, int64_t stride,
                                                  int64_t len, int64_t rem, float *out, const int NV) {
    __mmask16 mask[4];
    __m512 acc[4];
    for (int j = 0; j < NV; j++) {
        mask[j] = tail_mask16(rem - 16 * j);
        acc[j] = _mm512_setzero_ps();
    }
    for (int64_t t = 0; t < len; t++) {
        __m512 pt = _mm512_set1_ps(p[t]);
        const float *vt = v + t * stride;
        for (int j = 0; j < NV; j++)
            acc[j] = _mm512_fmadd_ps(pt, _mm512_maskz_loadu_ps(mask[j], vt + 16 * j), acc[j]);
    }
    for (int j = 0; j < NV; j++) _mm512_mask_storeu_ps(out + 16 * j, mask[j], acc[j]);
}

AWQ_TARGET_AVX512 static void mix_avx512(const float *p, const float *v, int64_t stride, int64_t len,
                                         int64_t hd, float *out) {
    for (int64_t d = 0; d < hd; d += 64) {
        int64_t rem = hd - d;
        switch (rem > 48 ? 4 : (int)((rem + 15) / 16)) {
        case 1: mix_dims_avx512(p, v + d, stride, len, rem, out + d, 1); break;
        case 2: mix_dims_avx512(p, v + d, stride, len, rem, out + d, 2); break;
        case 3: mix_dims_avx512(p, v + d, stride, len, rem, out + d, 3); break;
        default: mix_dims_avx512(p, v + d, stride, len, rem, out + d, 4); break;
        }
    }
}

/* ---- AVX-512, GQA: the heads of one kv head together ---------------------------------------- */
/* scores_avx512 for NH query heads that share keys: each key row is loaded once for all of them.
 * Per (head, key) the instruction sequence is scores_keys_avx512's (FMAs over head_dim ascending
 * from zero, masked tail, one reduction, times scale), so the scores are its bits. */
AWQ_TARGET_AVX512 static void scores_heads_avx512(const float *const *q, const float *k, int64_t stride,
                                                  int64_t len, int64_t hd, float scale, float *const *scores,
                                                  int NH) {
    for (int64_t t = 0; t < len; t++) {
        const float *kt = k + t * stride;
        __m512 acc[ATTN_HEADS_TOGETHER];
        for (int i = 0; i < NH; i++) acc[i] = _mm512_setzero_ps();
        int64_t d = 0;
        for (; d + 16 <= hd; d += 16) {
            const __m512 kv = _mm512_loadu_ps(kt + d);
            for (int i = 0; i < NH; i++) acc[i] = _mm512_fmadd_ps(_mm512_loadu_ps(q[i] + d), kv, acc[i]);
        }
        if (d < hd) {
            const __mmask16 mask = tail_mask16(hd - d);
            const __m512 kv = _mm512_maskz_loadu_ps(mask, kt + d);
            for (int i = 0; i < NH; i++)
                acc[i] = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, q[i] + d), kv, acc[i]);
        }
        for (int i = 0; i < NH; i++) scores[i][t] = _mm512_reduce_add_ps(acc[i]) * scale;
    }
}

/* mix_dims_avx512 for NH heads over the same values: each value row loaded once for all of them,
 * per (head, 16 dims) the same FMA chain over t ascending, so the output is mix_avx512's bits. */
AWQ_TARGET_AVX512 AWQ_INLINE void mix_heads_dims_avx512(const float *const *p, const float *v, int64_t stride,
                                                        int64_t len, int64_t rem, float *const *out, int NH,
                                                        const int NV) {
    __mmask16 mask[4];
    __m512 acc[ATTN_HEADS_TOGETHER][4];
    for (int j = 0; j < NV; j++) mask[j] = tail_mask16(rem - 16 * j);
    for (int i = 0; i < NH; i++)
        for (int j = 0; j < NV; j++) acc[i][j] = _mm512_setzero_ps();
    for (int64_t t = 0; t < len; t++) {
        const float *vt = v + t * stride;
        __m512 vv[4];
        for (int j = 0; j < NV; j++) vv[j] = _mm512_maskz_loadu_ps(mask[j], vt + 16 * j);
        for (int i = 0; i < NH; i++) {
            const __m512 pt = _mm512_set1_ps(p[i][t]);
            for (int j = 0; j < NV; j++) acc[i][j] = _mm512_fmadd_ps(pt, vv[j], acc[i][j]);
        }
    }
    for (int i = 0; i < NH; i++)
        for (int j = 0; j < NV; j++) _mm512_mask_storeu_ps(out[i] + 16 * j, mask[j], acc[i][j]);
}

AWQ_TARGET_AVX512 static void mix_heads_avx512(const float *const *p, const float *v, int64_t stride, int64_t len,
                                               int64_t hd, float *const *out, int NH) {
    for (int64_t d = 0; d < hd; d += 64) {
        const int64_t rem = hd - d;
        float *o[ATTN_HEADS_TOGETHER];
        for (int i = 0; i < NH; i++) o[i] = out[i] + d;
        switch (rem > 48 ? 4 : (int)((rem + 15) / 16)) {
        case 1: mix_heads_dims_avx512(p, v + d, stride, len, rem, o, NH, 1); break;
        case 2: mix_heads_dims_avx512(p, v + d, stride, len, rem, o, NH, 2); break;
        case 3: mix_heads_dims_avx512(p, v + d, stride, len, rem, o, NH, 3); break;
        default: mix_heads_dims_avx512(p, v + d, stride, len, rem, o, NH, 4); break;
        }
    }
}
#endif /* AWQ_X86 */

/* ---- driver ---------------------------------------------------------------------------------- */
typedef struct attn_job {
    attn_scores_fn scores;
    attn_mix_fn mix;
    const float *q, *k, *v;
    float *out;
    int64_t n_past, n_heads, n_kv_heads, head_dim, group, window;
    float scale;
    atomic_int out_of_memory;
    awq_isa isa;
    int narrow; /* heads of <= 8 dims on AVX2+: scores_narrow_avx2 and the heads of a row mixed together */
    int grouped; /* AVX-512 GQA: a task is (row, kv head); its query heads share each K/V load */
} attn_job;

#if AWQ_X86
/* One task of the grouped schedule: row m, kv head g, its `group` query heads ATTN_HEADS_TOGETHER
 * at a time (each K and V row is read once per such set instead of once per head). */
static void attn_group_task(attn_job *j, int64_t m, int64_t g, float *scores, int64_t max_len) {
    const int64_t hd = j->head_dim, stride = j->n_kv_heads * hd;
    int64_t len = j->n_past + m + 1;
    const int64_t first = j->window > 0 && len > j->window ? len - j->window : 0;
    len -= first;
    const float *k = j->k + first * stride + g * hd, *v = j->v + first * stride + g * hd;
    for (int64_t h0 = g * j->group; h0 < (g + 1) * j->group; h0 += ATTN_HEADS_TOGETHER) {
        const int64_t left = (g + 1) * j->group - h0;
        const int nh = left < ATTN_HEADS_TOGETHER ? (int)left : ATTN_HEADS_TOGETHER;
        const float *qs[ATTN_HEADS_TOGETHER];
        float *rows[ATTN_HEADS_TOGETHER], *outs[ATTN_HEADS_TOGETHER];
        for (int i = 0; i < nh; i++) {
            const int64_t qo_off = (m * j->n_heads + h0 + i) * hd;
            qs[i] = j->q + qo_off;
            outs[i] = j->out + qo_off;
            rows[i] = scores + i * max_len;
        }
        scores_heads_avx512(qs, k, stride, len, hd, j->scale, rows, nh);
        for (int i = 0; i < nh; i++) awq_softmax_row_isa(j->isa, rows[i], len);
        mix_heads_avx512((const float *const *)rows, v, stride, len, hd, outs, nh);
    }
}
#endif

static void attn_tasks(void *ctx, int64_t begin, int64_t end) {
    attn_job *j = (attn_job *)ctx;
    const int64_t hd = j->head_dim, stride = j->n_kv_heads * hd;
    /* the chunk's longest row is its last one; the narrow and grouped paths keep one score row per
     * head of a set */
    const int64_t per_row = j->grouped ? j->n_kv_heads : j->n_heads;
    int64_t max_len = j->n_past + (end - 1) / per_row + 1;
    int64_t rows = j->narrow || j->grouped ? ATTN_HEADS_TOGETHER : 1;
    float stack_scores[ATTN_STACK_SCORES];
    float *scores = stack_scores;
    if (max_len * rows > ATTN_STACK_SCORES) {
        scores = (float *)malloc((size_t)(max_len * rows) * sizeof(float));
        if (scores == NULL) {
            atomic_store(&j->out_of_memory, 1);
            return;
        }
    }
#if AWQ_X86
    if (j->grouped) {
        for (int64_t task = begin; task < end; task++)
            attn_group_task(j, task / j->n_kv_heads, task % j->n_kv_heads, scores, max_len);
        if (scores != stack_scores) free(scores);
        return;
    }
#endif
    for (int64_t task = begin; task < end;) {
        int64_t m = task / j->n_heads, h = task % j->n_heads;
        int64_t len = j->n_past + m + 1;
        /* sliding window: the query at position p sees keys p - window + 1 .. p */
        int64_t first = j->window > 0 && len > j->window ? len - j->window : 0;
        len -= first;
        /* heads h .. h + n - 1 of row m: the same keys, each with its own kv head's offset */
        int64_t n = 1;
        if (j->narrow) {
            n = j->n_heads - h;
            if (n > end - task) n = end - task;
            if (n > ATTN_HEADS_TOGETHER) n = ATTN_HEADS_TOGETHER;
        }
        const float *p[ATTN_HEADS_TOGETHER], *v[ATTN_HEADS_TOGETHER];
        float *o[ATTN_HEADS_TOGETHER];
        for (int64_t i = 0; i < n; i++) {
            int64_t kv_off = first * stride + ((h + i) / j->group) * hd;
            int64_t qo_off = (task + i) * hd; /* = (m * n_heads + h + i) * head_dim */
            float *row = scores + i * max_len;
            j->scores(j->q + qo_off, j->k + kv_off, stride, len, hd, j->scale, row);
            awq_softmax_row_isa(j->isa, row, len);
            p[i] = row;
            v[i] = j->v + kv_off;
            o[i] = j->out + qo_off;
        }
#if AWQ_X86
        if (j->narrow)
            mix_heads_avx2(p, v, stride, len, hd, o, (int)n);
        else
#endif
            j->mix(p[0], v[0], stride, len, hd, o[0]);
        task += n;
    }
    if (scores != stack_scores) free(scores);
}

/* narrow: take the narrow or grouped schedule where it applies (0: the per-task path they must equal) */
static int attention_run(awq_isa isa, int narrow, const float *q, const float *k_cache,
                         const float *v_cache, int64_t M, int64_t n_past, int64_t n_heads,
                         int64_t n_kv_heads, int64_t head_dim, int64_t window, float *out) {
    attn_job j = {scores_scalar, mix_scalar, q, k_cache, v_cache, out, n_past, n_heads, n_kv_heads,
                  head_dim, n_heads / n_kv_heads, window, 1.0f / sqrtf((float)head_dim), 0, isa, 0, 0};
#if AWQ_X86
    /* Heads of 8 or fewer dims (stories260K) fill half a zmm register and pay a 16-lane horizontal
     * sum per key: the 8-lane AVX2 code measured 3x faster there (M=512, 8 heads). */
    if (isa == AWQ_ISA_AVX512 && head_dim > 8) {
        j.scores = scores_avx512;
        j.mix = mix_avx512;
        /* GQA: a kv head's query heads read each K/V row together, with the same bits */
        j.grouped = narrow && j.group > 1;
    } else if (isa >= AWQ_ISA_AVX2) {
        j.scores = scores_avx2;
        j.mix = mix_avx2;
        if (narrow && head_dim <= 8) {
            j.narrow = 1;
            j.scores = scores_narrow_avx2;
        }
    }
#else
    (void)narrow;
#endif
    const int64_t n_tasks = M * (j.grouped ? n_kv_heads : n_heads);
    /* a task does ~4 flops per (key, dim) and head: a dot product and a weighted sum */
    double task_flops = 4.0 * (double)head_dim * ((double)n_past + 0.5 * (double)(M + 1)) *
                        (double)(j.grouped ? j.group : 1);
    double g = (double)ATTN_MIN_FLOPS_PER_CHUNK / task_flops;
    int64_t grain = g >= (double)n_tasks ? n_tasks : (int64_t)g + 1;
    awq_parallel_for(n_tasks, grain, attn_tasks, &j);
    return atomic_load(&j.out_of_memory) ? AWQ_ERR_OUT_OF_MEMORY : AWQ_OK;
}

int awq_attention_isa(awq_isa isa, const float *q, const float *k_cache, const float *v_cache,
                      int64_t M, int64_t n_past, int64_t n_heads, int64_t n_kv_heads,
                      int64_t head_dim, int64_t window, float *out) {
    return attention_run(isa, 1, q, k_cache, v_cache, M, n_past, n_heads, n_kv_heads, head_dim,
                         window, out);
}

int awq_attention_isa_per_task(awq_isa isa, const float *q, const float *k_cache,
                               const float *v_cache, int64_t M, int64_t n_past, int64_t n_heads,
                               int64_t n_kv_heads, int64_t head_dim, int64_t window, float *out) {
    return attention_run(isa, 0, q, k_cache, v_cache, M, n_past, n_heads, n_kv_heads, head_dim,
                         window, out);
}

/* The argument checks of both entry points (and of awq_dev_attention); fn names the one called. */
int awq_attention_validate(const char *fn, const float *q, const float *k_cache, const float *v_cache, int64_t M,
                           int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads, int64_t head_dim,
                           int64_t window, const float *out) {
    AWQ_REQUIRE_PTR(fn, q);
    AWQ_REQUIRE_PTR(fn, k_cache);
    AWQ_REQUIRE_PTR(fn, v_cache);
    AWQ_REQUIRE_PTR(fn, out);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, n_ctx);
    AWQ_REQUIRE_POSITIVE(fn, n_heads);
    AWQ_REQUIRE_POSITIVE(fn, n_kv_heads);
    AWQ_REQUIRE_POSITIVE(fn, head_dim);
    if (n_past < 0)
        return awq_fail(AWQ_ERR_INVALID_SIZE, fn, "argument 'n_past' must be >= 0 (got %lld)",
                        (long long)n_past);
    if (window < 0)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                        "argument 'window' must be >= 0, 0 for none (got %lld)", (long long)window);
    if (n_heads % n_kv_heads != 0)
        return awq_fail(AWQ_ERR_SIZE_MISMATCH, fn,
                        "argument 'n_heads' (%lld) must be a multiple of 'n_kv_heads' (%lld)",
                        (long long)n_heads, (long long)n_kv_heads);
    if (n_past > n_ctx - M) /* n_past + M > n_ctx without the overflow */
        return awq_fail(AWQ_ERR_INVALID_SIZE, fn,
                        "arguments 'n_past' + 'M' (%lld + %lld) exceed 'n_ctx' (%lld)",
                        (long long)n_past, (long long)M, (long long)n_ctx);
    int64_t row, elems, bytes;
    int st;
    if ((st = awq_mul_size(fn, "k_cache", n_kv_heads, head_dim, &row)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "k_cache", n_ctx, row, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "k_cache", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "q", n_heads, head_dim, &row)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "q", M, row, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "q", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    return AWQ_OK;
}

static int attention_checked(const char *fn, const float *q, const float *k_cache,
                             const float *v_cache, int64_t M, int64_t n_past, int64_t n_ctx,
                             int64_t n_heads, int64_t n_kv_heads, int64_t head_dim, int64_t window,
                             float *out) {
    int st = awq_attention_validate(fn, q, k_cache, v_cache, M, n_past, n_ctx, n_heads, n_kv_heads, head_dim,
                                    window, out);
    if (st != AWQ_OK) return st;
    st = awq_attention_isa(awq_isa_level(), q, k_cache, v_cache, M, n_past, n_heads, n_kv_heads,
                           head_dim, window, out);
    if (st != AWQ_OK)
        return awq_fail(st, fn, "could not allocate %lld floats of score scratch",
                        (long long)(n_past + M));
    return AWQ_OK;
}

int awq_attention(const float *q, const float *k_cache, const float *v_cache, int64_t M,
                  int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads,
                  int64_t head_dim, float *out) {
    return attention_checked("awq_attention", q, k_cache, v_cache, M, n_past, n_ctx, n_heads,
                             n_kv_heads, head_dim, 0, out);
}

int awq_attention_ext(const float *q, const float *k_cache, const float *v_cache, int64_t M,
                      int64_t n_past, int64_t n_ctx, int64_t n_heads, int64_t n_kv_heads,
                      int64_t head_dim, int64_t window, float *out) {
    return attention_checked("awq_attention_ext", q, k_cache, v_cache, M, n_past, n_ctx, n_heads,
                             n_kv_heads, head_dim, window, out);
}
