/*
 * w4a8.c — awq_quantize_act_q8, awq_w4a8_gemm and awq_w4a8_gemm_f32: the scalar reference of
 * both (the definitions in awq_kernels.h, written out plainly), the argument checks, the per-call
 * rearrangement of x for the SIMD tiles, and the parallel driver. The SIMD kernels live in
 * w4a8_avx2.c and w4a8_avx512.c; the math and layouts they share are described in w4a8.h.
 *
 * Parallel split: work items are blocks of AWQ_W4A8_NB weight rows, all M rows of x each, fixed
 * by the shape. Every output is computed by the same operation sequence whichever thread runs
 * it (and whichever path: see w4a8.h), so results are bit-identical for any thread count.
 *
 * The technique — quantize the activations to int8 once per call and run integer dot products
 * against the 4-bit weights, applying the scales once per group — is llama.cpp's
 * (ggml/src/ggml-cpu/quants.c: quantize_row_q8_0, ggml_vec_dot_q4_0_q8_0, with the AVX2 / AVX-512
 * versions in ggml-cpu/arch/x86/quants.c). The weight layout, the zero points and the transposed
 * "lanes = rows" tiles are ours.
 */
#include "w4a8.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FN_Q "awq_quantize_act_q8"
#define FN_G "awq_w4a8_gemm"
#define FN_F "awq_w4a8_gemm_f32"

#define W8_NB AWQ_W4A8_NB
/* Multiply-adds below which a call runs on the calling thread (waking workers costs more). */
#define W8_INLINE_WORK 65536
/* Longest group whose int32 correction cannot overflow: 3840 · Ge < 2^31 (see w4a8.h). */
#define W8_MAX_GROUP 559240

/* ---- scalar reference: quantization ------------------------------------------------------------ */
int64_t awq_quantize_act_q8_scalar(const float *x, int64_t M, int64_t K, int64_t G, int8_t *xq, float *x_scale,
                                   int32_t *x_sum) {
    const int64_t ng = awq_n_groups(K, G);
    for (int64_t m = 0; m < M; m++) {
        for (int64_t g = 0; g < ng; g++) {
            const int64_t k0 = g * G, len = K - k0 < G ? K - k0 : G;
            const float *xr = x + m * K + k0;
            int8_t *q = xq + m * K + k0;
            /* max|x| by comparing the magnitude bits as integers: the same order as on floats for
             * finite values, and Inf / NaN (0x7F800000 and above) come out on top */
            uint32_t amax = 0;
            for (int64_t i = 0; i < len; i++) {
                uint32_t b = awq_f32_bits(xr[i]) & 0x7FFFFFFFu;
                if (b > amax) amax = b;
            }
            if (amax >= 0x7F800000u) {
                for (int64_t i = 0; i < len; i++)
                    if ((awq_f32_bits(xr[i]) & 0x7FFFFFFFu) >= 0x7F800000u) return m * K + k0 + i;
            }
            const float scale = awq_bits_f32(amax) / 127.0f;
            int32_t sum = 0;
            if (scale == 0.0f) {
                /* all-zero group (or max|x| so small that max/127 underflows): codes 0, scale 0 */
                memset(q, 0, (size_t)len);
            } else {
                for (int64_t i = 0; i < len; i++) {
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

/* ---- scalar reference: the GEMM ------------------------------------------------------------------ */
void awq_w4a8_block_scalar(const awq_w4a8_job *J, int64_t n0, int64_t n1) {
    const int64_t K = J->K, G = J->G, ng = J->ng, kh = J->kh;
    for (int64_t m = 0; m < J->M; m++) {
        const int8_t *xr = J->xq + m * K;
        const float *xs = J->x_scale + m * ng;
        const int32_t *xsum = J->x_sum + m * ng;
        for (int64_t n = n0; n < n1; n++) {
            const uint8_t *qw = J->qweight + n * kh;
            const uint16_t *sc = J->scales + n * ng;
            const uint8_t *zr = J->zeros + n * ng;
            float acc = 0.0f;
            for (int64_t g = 0; g < ng; g++) {
                const int64_t k0 = g * G, k1 = K - k0 < G ? K : k0 + G;
                int32_t dot = 0;
                for (int64_t k = k0; k < k1; k++) {
                    const int32_t q = (qw[k >> 1] >> ((k & 1) * 4)) & 0xF;
                    dot += (int32_t)xr[k] * q;
                }
                const int32_t corr = dot - (int32_t)zr[g] * xsum[g];
                const float s = xs[g] * awq_fp16_to_fp32_1(sc[g]);
                const float t = s * (float)corr;
                acc = acc + t;
            }
            J->y[m * J->N + n] = acc;
        }
    }
}

/* ---- dispatch ------------------------------------------------------------------------------------ */
awq_w4a8_path awq_w4a8_best_path(void) {
#if AWQ_X86
    const awq_isa isa = awq_isa_level();
    if (isa == AWQ_ISA_AVX512)
        return (awq_features() & AWQ_FEATURE_AVX512VNNI_DETECTED) ? AWQ_W4A8_AVX512VNNI : AWQ_W4A8_AVX512;
    if (isa == AWQ_ISA_AVX2) return AWQ_W4A8_AVX2;
#endif
    return AWQ_W4A8_SCALAR;
}

static int w8_path_supported(awq_w4a8_path path) {
    if (path == AWQ_W4A8_SCALAR) return 1;
#if AWQ_X86
    const uint32_t f = awq_features();
    switch (path) {
    case AWQ_W4A8_AVX2: return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    case AWQ_W4A8_AVX512: return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    case AWQ_W4A8_AVX512VNNI:
        return (f & AWQ_FEATURE_AVX512_DETECTED) && (f & AWQ_FEATURE_AVX512VNNI_DETECTED);
    default: return 0;
    }
#else
    return 0;
#endif
}


/* ---- quantization driver --------------------------------------------------------------------------- */
typedef int64_t (*w8_quant_fn)(const float *, int64_t, int64_t, int64_t, int8_t *, float *, int32_t *);

typedef struct w8_quant_job {
    w8_quant_fn fn;
    const float *x;
    int64_t K, G, ng;
    int8_t *xq;
    float *x_scale;
    int32_t *x_sum;
    atomic_llong first_bad; /* smallest index of a non-finite x; INT64_MAX when none */
} w8_quant_job;

static void w8_quant_rows(void *ctx, int64_t begin, int64_t end) {
    w8_quant_job *J = (w8_quant_job *)ctx;
    const int64_t K = J->K, ng = J->ng;
    const int64_t bad = J->fn(J->x + begin * K, end - begin, K, J->G, J->xq + begin * K, J->x_scale + begin * ng,
                              J->x_sum + begin * ng);
    if (bad >= 0) {
        long long idx = begin * K + bad, prev = atomic_load(&J->first_bad);
        while (idx < prev && !atomic_compare_exchange_weak(&J->first_bad, &prev, idx)) {}
    }
}

static w8_quant_fn w8_quant_for(awq_w4a8_path path) {
#if AWQ_X86
    if (path == AWQ_W4A8_AVX512 || path == AWQ_W4A8_AVX512VNNI) return awq_quantize_act_q8_avx512;
    if (path == AWQ_W4A8_AVX2) return awq_quantize_act_q8_avx2;
#endif
    return awq_quantize_act_q8_scalar;
}

/* Quantize (arguments already checked); reports a non-finite x as function fn. */
static int w8_quantize(const char *fn, awq_w4a8_path path, const float *x, int64_t M, int64_t K, int64_t G,
                       int8_t *xq, float *x_scale, int32_t *x_sum) {
    w8_quant_job job = {.fn = w8_quant_for(path), .x = x, .K = K, .G = G, .ng = awq_n_groups(K, G), .xq = xq,
                        .x_scale = x_scale, .x_sum = x_sum};
    atomic_init(&job.first_bad, INT64_MAX);
    const int64_t grain = K >= 16384 ? 1 : 16384 / K;
    awq_parallel_for(M, grain, w8_quant_rows, &job);
    const long long bad = atomic_load(&job.first_bad);
    if (bad != INT64_MAX)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'x' holds a non-finite value (%g) at row %lld, column %lld",
                        (double)x[bad], (long long)(bad / K), (long long)(bad % K));
    return AWQ_OK;
}

int awq_quantize_act_q8_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K, int64_t group_size,
                             int8_t *xq, float *x_scale, int32_t *x_sum) {
    AWQ_REQUIRE_PTR(FN_Q, x);
    AWQ_REQUIRE_PTR(FN_Q, xq);
    AWQ_REQUIRE_PTR(FN_Q, x_scale);
    AWQ_REQUIRE_PTR(FN_Q, x_sum);
    AWQ_REQUIRE_POSITIVE(FN_Q, M);
    AWQ_REQUIRE_POSITIVE(FN_Q, K);
    AWQ_REQUIRE_GROUP_SIZE(FN_Q, group_size);
    int64_t tmp;
    int st;
    if ((st = awq_mul_size(FN_Q, "x", M, K, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN_Q, "x_scale", M, awq_n_groups(K, group_size), &tmp)) != AWQ_OK) return st;
    if (!w8_path_supported(path))
        return awq_fail(AWQ_ERR_UNSUPPORTED, FN_Q, "SIMD path %d is not available on this CPU", (int)path);
    return w8_quantize(FN_Q, path, x, M, K, group_size, xq, x_scale, x_sum);
}

int awq_quantize_act_q8(const float *x, int64_t M, int64_t K, int64_t group_size, int8_t *xq, float *x_scale,
                        int32_t *x_sum) {
    return awq_quantize_act_q8_path(awq_w4a8_best_path(), x, M, K, group_size, xq, x_scale, x_sum);
}

/* ---- GEMM driver --------------------------------------------------------------------------------- */
typedef void (*w8_block_fn)(const awq_w4a8_job *, int64_t, int64_t);

typedef struct w8_plan {
    const awq_w4a8_job *job;
    w8_block_fn block;
} w8_plan;

static void w8_run_items(void *ctx, int64_t begin, int64_t end) {
    const w8_plan *p = (const w8_plan *)ctx;
    const awq_w4a8_job *J = p->job;
    for (int64_t i = begin; i < end; i++) {
        const int64_t n0 = i * W8_NB, n1 = n0 + W8_NB < J->N ? n0 + W8_NB : J->N;
        p->block(J, n0, n1);
    }
}

/* The tables of awq_w4a8_tile_tables (w4a8.h) for ng groups, on checked arguments. */
static void w8_fill_tile_tables(const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t ng,
                                uint16_t *tile_scales, uint8_t *tile_zeros) {
    const int64_t tiles = (N + 15) / 16;
    for (int64_t t = 0; t < tiles; t++)
        for (int64_t g = 0; g < ng; g++)
            for (int64_t r = 0; r < 16; r++) {
                const int64_t n = 16 * t + r, at = (t * ng + g) * 16 + r;
                tile_scales[at] = n < N ? scales[n * ng + g] : 0;
                tile_zeros[at] = n < N ? zeros[n * ng + g] : 0;
            }
}

/* Shape and weight checks shared by awq_w4a8_gemm and awq_w4a8_gemm_f32 (pointers are checked
 * by the callers, which name different operands; x_name is the activation's). M·ng <= M·K, so the
 * x_scale / x_sum sizes follow from x's. */
static int w8_check_shape(const char *fn, const char *x_name, awq_w4a8_path path, int64_t M, int64_t K,
                          const uint8_t *zeros, int64_t N, int64_t group_size) {
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    AWQ_REQUIRE_GROUP_SIZE(fn, group_size);
    const int64_t kh = K / 2 + (K & 1), ng = awq_n_groups(K, group_size);
    int64_t tmp;
    int st;
    if ((st = awq_mul_size(fn, x_name, M, K, &tmp)) != AWQ_OK) return st;
    if ((uint64_t)tmp > SIZE_MAX / 16) /* so that every scratch size below fits in size_t */
        return awq_fail(AWQ_ERR_OVERFLOW, fn, "argument '%s' of %lld x %lld values does not fit in memory", x_name,
                        (long long)M, (long long)K);
    if ((st = awq_mul_size(fn, "qweight", N, kh, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "scales", N, ng, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "y", M, N, &tmp)) != AWQ_OK) return st;
    const int64_t longest = group_size < K ? group_size : K;
    if (longest > W8_MAX_GROUP)
        return awq_fail(AWQ_ERR_OVERFLOW, fn,
                        "argument 'group_size' = %lld lets the int32 group sums overflow (groups of at most %d columns)",
                        (long long)group_size, W8_MAX_GROUP);
    if (!w8_path_supported(path))
        return awq_fail(AWQ_ERR_UNSUPPORTED, fn, "SIMD path %d is not available on this CPU", (int)path);
    return awq_check_int4_zeros(fn, zeros, N, ng);
}

/* The GEMM proper, on checked arguments. validate: check x_scale (finite) and x_sum (the group
 * sums of xq) — skipped when this library quantized x itself. */
static int w8_gemm_run(const char *fn, awq_w4a8_path path, const int8_t *xq, const float *x_scale,
                       const int32_t *x_sum, int64_t M, int64_t K, const uint8_t *qweight, const uint16_t *scales,
                       const uint8_t *zeros, const uint16_t *tile_scales, const uint8_t *tile_zeros,
                       const uint8_t *rows8, int64_t N, int64_t G, float *y, int validate) {
    const int64_t kh = K / 2 + (K & 1), ng = awq_n_groups(K, G);
    if (validate) {
        for (int64_t i = 0; i < M * ng; i++)
            if (!isfinite(x_scale[i]))
                return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'x_scale' must be finite (row %lld, group %lld is %g)",
                                (long long)(i / ng), (long long)(i % ng), (double)x_scale[i]);
        for (int64_t m = 0; m < M; m++)
            for (int64_t g = 0; g < ng; g++) {
                const int64_t k0 = g * G, k1 = K - k0 < G ? K : k0 + G;
                int32_t s = 0;
                for (int64_t k = k0; k < k1; k++) s += xq[m * K + k];
                if (s != x_sum[m * ng + g])
                    return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                                    "argument 'x_sum' must hold the group sums of xq (row %lld, group %lld is %d, "
                                    "the sum is %d)",
                                    (long long)m, (long long)g, (int)x_sum[m * ng + g], (int)s);
            }
    }

    /* group sizes that 32 does not divide: whole sub-steps per group are what the tiles need */
    if (G % 32 != 0) path = AWQ_W4A8_SCALAR;

    const int64_t kp = (K + 31) / 32 * 32;
    int8_t *xp = NULL;
    if (path != AWQ_W4A8_SCALAR) {
        int64_t bytes;
        int st;
        if ((st = awq_mul_size(fn, "scratch", M, kp, &bytes)) != AWQ_OK) return st;
        if ((uint64_t)bytes > SIZE_MAX - 64)
            return awq_fail(AWQ_ERR_OVERFLOW, fn, "scratch for M=%lld, K=%lld does not fit in memory", (long long)M,
                            (long long)K);
        const size_t sz = ((size_t)bytes + 63) & ~(size_t)63;
        xp = (int8_t *)aligned_alloc(64, sz);
        if (xp == NULL) return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "cannot allocate %zu bytes of scratch", sz);
        /* the permuted rows (w4a8.h): block D = even columns of 8D..8D+7, then the odd ones */
        for (int64_t m = 0; m < M; m++) {
            const int8_t *src = xq + m * K;
            int8_t *dst = xp + m * kp;
            int64_t D = 0;
            for (; 8 * D + 8 <= K; D++)
                for (int i = 0; i < 4; i++) {
                    dst[8 * D + i] = src[8 * D + 2 * i];
                    dst[8 * D + 4 + i] = src[8 * D + 2 * i + 1];
                }
            for (; 8 * D < kp; D++)
                for (int i = 0; i < 4; i++) {
                    const int64_t k = 8 * D + 2 * i;
                    dst[8 * D + i] = k < K ? src[k] : 0;
                    dst[8 * D + 4 + i] = k + 1 < K ? src[k + 1] : 0;
                }
        }
    }

    /* the SIMD kernels read scale tables: made here for this call when the caller has none */
    uint8_t *made = NULL;
    if (path != AWQ_W4A8_SCALAR && tile_scales == NULL) {
        const size_t entries = (size_t)((N + 15) / 16) * 16 * (size_t)ng; /* <= 16·N·ng + 16·ng: checked sizes */
        made = (uint8_t *)malloc(entries * (sizeof(uint16_t) + sizeof(uint8_t)));
        if (made == NULL) {
            free(xp);
            return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "cannot allocate %zu bytes of scale tables", entries * 3);
        }
        uint16_t *ts = (uint16_t *)(void *)made;
        uint8_t *tz = made + entries * sizeof(uint16_t);
        w8_fill_tile_tables(scales, zeros, N, ng, ts, tz);
        tile_scales = ts;
        tile_zeros = tz;
    }

    awq_w4a8_job job = {.xq = xq, .xp = xp, .x_scale = x_scale, .x_sum = x_sum, .qweight = qweight,
                        .scales = scales, .zeros = zeros, .y = y, .M = M, .K = K, .N = N, .G = G, .kh = kh,
                        .kp = kp, .ng = ng, .tile_scales = tile_scales, .tile_zeros = tile_zeros,
                        .rows8 = path == AWQ_W4A8_AVX2 ? rows8 : NULL}; /* only the AVX2 tile reads it */
    w8_plan plan = {.job = &job, .block = awq_w4a8_block_scalar};
#if AWQ_X86
    if (path == AWQ_W4A8_AVX512VNNI) plan.block = awq_w4a8_block_avx512vnni;
    else if (path == AWQ_W4A8_AVX512) plan.block = awq_w4a8_block_avx512;
    else if (path == AWQ_W4A8_AVX2) plan.block = awq_w4a8_block_avx2;
#endif
    const int64_t items = (N + W8_NB - 1) / W8_NB;
    const double item_work = (double)M * (double)(N < W8_NB ? N : W8_NB) * (double)K;
    const int64_t grain = item_work >= W8_INLINE_WORK ? 1 : (int64_t)(W8_INLINE_WORK / item_work) + 1;
    awq_parallel_for(items, grain, w8_run_items, &plan);
    free(made);
    free(xp);
    return AWQ_OK;
}

int awq_w4a8_gemm_path(awq_w4a8_path path, const int8_t *xq, const float *x_scale, const int32_t *x_sum,
                       int64_t M, int64_t K, const uint8_t *qweight, const uint16_t *scales,
                       const uint8_t *zeros, int64_t N, int64_t group_size, float *y) {
    AWQ_REQUIRE_PTR(FN_G, xq);
    AWQ_REQUIRE_PTR(FN_G, x_scale);
    AWQ_REQUIRE_PTR(FN_G, x_sum);
    AWQ_REQUIRE_PTR(FN_G, qweight);
    AWQ_REQUIRE_PTR(FN_G, scales);
    AWQ_REQUIRE_PTR(FN_G, zeros);
    AWQ_REQUIRE_PTR(FN_G, y);
    int st = w8_check_shape(FN_G, "xq", path, M, K, zeros, N, group_size);
    if (st != AWQ_OK) return st;
    return w8_gemm_run(FN_G, path, xq, x_scale, x_sum, M, K, qweight, scales, zeros, NULL, NULL, NULL, N, group_size,
                       y, 1);
}

int awq_w4a8_gemm(const int8_t *xq, const float *x_scale, const int32_t *x_sum, int64_t M, int64_t K,
                  const uint8_t *qweight, const uint16_t *scales, const uint8_t *zeros, int64_t N,
                  int64_t group_size, float *y) {
    return awq_w4a8_gemm_path(awq_w4a8_best_path(), xq, x_scale, x_sum, M, K, qweight, scales, zeros, N,
                              group_size, y);
}

/* awq_w4a8_gemm_f32 and its tiled and repacked forms (fn names the entry point; tiles, rows8 NULL: none) */
static int w8_gemm_f32(const char *fn, awq_w4a8_path path, const float *x, int64_t M, int64_t K,
                       const uint8_t *qweight, const uint16_t *scales, const uint8_t *zeros,
                       const uint16_t *tile_scales, const uint8_t *tile_zeros, const uint8_t *rows8, int64_t N,
                       int64_t group_size, float *y) {
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, qweight);
    AWQ_REQUIRE_PTR(fn, scales);
    AWQ_REQUIRE_PTR(fn, zeros);
    AWQ_REQUIRE_PTR(fn, y);
    int st = w8_check_shape(fn, "x", path, M, K, zeros, N, group_size);
    if (st != AWQ_OK) return st;
    const int64_t ng = awq_n_groups(K, group_size);
    /* xq [M, K] bytes, then x_scale and x_sum [M, ng] (sizes checked above; 4-byte aligned) */
    const size_t xq_bytes = ((size_t)(M * K) + 3) & ~(size_t)3;
    const size_t bytes = xq_bytes + (size_t)(M * ng) * (sizeof(float) + sizeof(int32_t));
    int8_t *xq = (int8_t *)malloc(bytes);
    if (xq == NULL) return awq_fail(AWQ_ERR_OUT_OF_MEMORY, fn, "cannot allocate %zu bytes of scratch", bytes);
    float *x_scale = (float *)(void *)(xq + xq_bytes);
    int32_t *x_sum = (int32_t *)(void *)(x_scale + M * ng);
    st = w8_quantize(fn, path, x, M, K, group_size, xq, x_scale, x_sum);
    if (st == AWQ_OK)
        st = w8_gemm_run(fn, path, xq, x_scale, x_sum, M, K, qweight, scales, zeros, tile_scales, tile_zeros, rows8,
                         N, group_size, y, 0);
    free(xq);
    return st;
}

int awq_w4a8_gemm_f32_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                           const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size,
                           float *y) {
    return w8_gemm_f32(FN_F, path, x, M, K, qweight, scales, zeros, NULL, NULL, NULL, N, group_size, y);
}

/* ---- prepared tile tables ------------------------------------------------------------------------- */
#define FN_T "awq_w4a8_tile_tables"
#define FN_FT "awq_w4a8_gemm_f32_tiled"

int awq_w4a8_tile_tables(const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t K, int64_t group_size,
                         uint16_t *tile_scales, uint8_t *tile_zeros) {
    AWQ_REQUIRE_PTR(FN_T, scales);
    AWQ_REQUIRE_PTR(FN_T, zeros);
    AWQ_REQUIRE_PTR(FN_T, tile_scales);
    AWQ_REQUIRE_PTR(FN_T, tile_zeros);
    AWQ_REQUIRE_POSITIVE(FN_T, N);
    AWQ_REQUIRE_POSITIVE(FN_T, K);
    AWQ_REQUIRE_GROUP_SIZE(FN_T, group_size);
    const int64_t ng = awq_n_groups(K, group_size);
    int64_t len;
    int st;
    if ((st = awq_mul_size(FN_T, "tile_scales", (N + 15) / 16 * 16, ng, &len)) != AWQ_OK) return st;
    w8_fill_tile_tables(scales, zeros, N, ng, tile_scales, tile_zeros);
    return AWQ_OK;
}

int awq_w4a8_gemm_f32_tiled_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                                 const uint16_t *scales, const uint8_t *zeros, const uint16_t *tile_scales,
                                 const uint8_t *tile_zeros, int64_t N, int64_t group_size, float *y) {
    AWQ_REQUIRE_PTR(FN_FT, tile_scales);
    AWQ_REQUIRE_PTR(FN_FT, tile_zeros);
    return w8_gemm_f32(FN_FT, path, x, M, K, qweight, scales, zeros, tile_scales, tile_zeros, NULL, N, group_size,
                       y);
}

int awq_w4a8_gemm_f32_tiled(const float *x, int64_t M, int64_t K, const uint8_t *qweight, const uint16_t *scales,
                            const uint8_t *zeros, const uint16_t *tile_scales, const uint8_t *tile_zeros, int64_t N,
                            int64_t group_size, float *y) {
    return awq_w4a8_gemm_f32_tiled_path(awq_w4a8_best_path(), x, M, K, qweight, scales, zeros, tile_scales,
                                        tile_zeros, N, group_size, y);
}

int awq_w4a8_gemm_f32(const float *x, int64_t M, int64_t K, const uint8_t *qweight, const uint16_t *scales,
                      const uint8_t *zeros, int64_t N, int64_t group_size, float *y) {
    return awq_w4a8_gemm_f32_path(awq_w4a8_best_path(), x, M, K, qweight, scales, zeros, N, group_size, y);
}

/* ---- repacked weights ("rows8", w4a8.h) --------------------------------------------------------------- */
#define FN_R "awq_w4a8_repack"
#define FN_FR "awq_w4a8_gemm_f32_repacked"

int awq_w4a8_repack_preferred(void) {
    /* AWQ_W4A8_REPACK=0: keep one copy of the weights (less memory, the row-gathering kernel) */
    const char *env = getenv("AWQ_W4A8_REPACK");
    if (env != NULL && strcmp(env, "0") == 0) return 0;
    return awq_w4a8_best_path() == AWQ_W4A8_AVX2;
}

/* ceil(N/8)·8 · ceil(kh/16)·16 bytes, or an AWQ_ERR_OVERFLOW status (fn names the caller). */
static int w8_repacked_size(const char *fn, int64_t N, int64_t K, int64_t *bytes) {
    const int64_t kh = K / 2 + (K & 1);
    if (N > INT64_MAX - 8) /* (N + 7) below must not overflow */
        return awq_fail(AWQ_ERR_OVERFLOW, fn, "argument 'N' = %lld is too large", (long long)N);
    return awq_mul_size(fn, "repacked", (N + 7) / 8 * 8, (kh + 15) / 16 * 16, bytes);
}

/* repacked_bytes must be what N x K weights take (fn names the caller). */
static int w8_check_repacked_bytes(const char *fn, int64_t N, int64_t K, int64_t repacked_bytes) {
    int64_t need;
    const int st = w8_repacked_size(fn, N, K, &need);
    if (st != AWQ_OK) return st;
    if (repacked_bytes != need)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn, "argument 'repacked_bytes' is %lld; %lld x %lld weights take %lld",
                        (long long)repacked_bytes, (long long)N, (long long)K, (long long)need);
    return AWQ_OK;
}

int64_t awq_w4a8_repacked_bytes(int64_t N, int64_t K) {
    int64_t bytes;
    if (N <= 0 || K <= 0 || w8_repacked_size(FN_R, N, K, &bytes) != AWQ_OK) return -1;
    return bytes;
}

int awq_w4a8_repack(const uint8_t *qweight, int64_t N, int64_t K, uint8_t *repacked, int64_t repacked_bytes) {
    AWQ_REQUIRE_PTR(FN_R, qweight);
    AWQ_REQUIRE_PTR(FN_R, repacked);
    AWQ_REQUIRE_POSITIVE(FN_R, N);
    AWQ_REQUIRE_POSITIVE(FN_R, K);
    int64_t tmp;
    int st;
    const int64_t kh = K / 2 + (K & 1), nsub = (kh + 15) / 16;
    if ((st = awq_mul_size(FN_R, "qweight", N, kh, &tmp)) != AWQ_OK) return st;
    if ((st = w8_check_repacked_bytes(FN_R, N, K, repacked_bytes)) != AWQ_OK) return st;
    for (int64_t t = 0; t < (N + 7) / 8; t++)
        for (int64_t s = 0; s < nsub; s++)
            for (int d = 0; d < 4; d++)
                for (int r = 0; r < 8; r++) {
                    uint8_t *dst = repacked + ((t * nsub + s) * 4 + d) * 32 + 4 * r;
                    const int64_t n = 8 * t + r, j = 16 * s + 4 * d;
                    for (int b = 0; b < 4; b++) dst[b] = n < N && j + b < kh ? qweight[n * kh + j + b] : 0;
                }
    return AWQ_OK;
}

int awq_w4a8_gemm_f32_repacked_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K,
                                    const uint8_t *qweight, const uint16_t *scales, const uint8_t *zeros,
                                    const uint16_t *tile_scales, const uint8_t *tile_zeros, const uint8_t *repacked,
                                    int64_t repacked_bytes, int64_t N, int64_t group_size, float *y) {
    AWQ_REQUIRE_PTR(FN_FR, tile_scales);
    AWQ_REQUIRE_PTR(FN_FR, tile_zeros);
    AWQ_REQUIRE_PTR(FN_FR, repacked);
    if (N > 0 && K > 0) { /* other shape errors are reported by the GEMM's own checks */
        const int st = w8_check_repacked_bytes(FN_FR, N, K, repacked_bytes);
        if (st != AWQ_OK) return st;
    }
    return w8_gemm_f32(FN_FR, path, x, M, K, qweight, scales, zeros, tile_scales, tile_zeros, repacked, N, group_size,
                       y);
}

int awq_w4a8_gemm_f32_repacked(const float *x, int64_t M, int64_t K, const uint8_t *qweight, const uint16_t *scales,
                               const uint8_t *zeros, const uint16_t *tile_scales, const uint8_t *tile_zeros,
                               const uint8_t *repacked, int64_t repacked_bytes, int64_t N, int64_t group_size,
                               float *y) {
    return awq_w4a8_gemm_f32_repacked_path(awq_w4a8_best_path(), x, M, K, qweight, scales, zeros, tile_scales,
                                           tile_zeros, repacked, repacked_bytes, N, group_size, y);
}
