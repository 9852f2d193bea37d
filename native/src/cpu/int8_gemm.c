/*
 * int8_gemm.c — awq_int8_gemm and awq_int8_gemm_f32: argument checks, Σx per row, the parallel
 * driver and the scalar kernel. SIMD tiles: int8_gemm_avx2.c, int8_gemm_avx512.c (math: int8_gemm.h).
 *
 * Work items are (M block × N block) rectangles fixed by the shape alone, so results do not
 * depend on the thread count (they are exact integers anyway).
 */
#include "int8_gemm.h"

#include <stdlib.h>

#define I8_NB AWQ_INT8_NB /* a multiple of every kernel's N tile (4) */
/* Multiply-adds below which a call runs on the calling thread. */
#define I8_INLINE_WORK 131072
/* Largest K with K·255·255 < 2^31. */
#define I8_MAX_K 33025

/* The reference: the definition, term by term, in int32 (exact: every partial sum is bounded by
 * K·255·255 < 2^31). */
void awq_int8_block_scalar(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const int64_t K = J->K;
    for (int64_t m = m0; m < m1; m++) {
        const uint8_t *x = J->xq + m * K;
        const int32_t zx = J->x_zero[m];
        for (int64_t n = n0; n < n1; n++) {
            const int8_t *w = J->wq + n * K;
            const int32_t zw = J->w_zero != NULL ? J->w_zero[n] : 0;
            int32_t acc = 0;
            for (int64_t k = 0; k < K; k++) acc += ((int32_t)x[k] - zx) * ((int32_t)w[k] - zw);
            awq_int8_store(J, m, n, acc);
        }
    }
}

awq_int8_path awq_int8_best_path(void) {
#if AWQ_X86
    awq_isa isa = awq_isa_level();
    if (isa == AWQ_ISA_AVX512)
        return (awq_features() & AWQ_FEATURE_AVX512VNNI_DETECTED) ? AWQ_INT8_AVX512VNNI : AWQ_INT8_AVX512;
    if (isa == AWQ_ISA_AVX2) return AWQ_INT8_AVX2;
#endif
    return AWQ_INT8_SCALAR;
}

static int i8_path_supported(awq_int8_path path) {
    if (path == AWQ_INT8_SCALAR) return 1;
#if AWQ_X86
    uint32_t f = awq_features();
    switch (path) {
    case AWQ_INT8_AVX2: return (f & AWQ_FEATURE_AVX2_DETECTED) != 0;
    case AWQ_INT8_AVX512: return (f & AWQ_FEATURE_AVX512_DETECTED) != 0;
    case AWQ_INT8_AVX512VNNI: return (f & AWQ_FEATURE_AVX512VNNI_DETECTED) != 0;
    default: return 0;
    }
#else
    return 0;
#endif
}

typedef void (*i8_block_fn)(const awq_int8_job *, int64_t, int64_t, int64_t, int64_t);

typedef struct i8_plan {
    const awq_int8_job *job;
    i8_block_fn block;
    int64_t mb, n_nblocks;
} i8_plan;

static void i8_run_items(void *ctx, int64_t begin, int64_t end) {
    const i8_plan *p = (const i8_plan *)ctx;
    const awq_int8_job *J = p->job;
    for (int64_t i = begin; i < end; i++) {
        int64_t mi = i / p->n_nblocks, ni = i % p->n_nblocks;
        int64_t m0 = mi * p->mb, m1 = m0 + p->mb < J->M ? m0 + p->mb : J->M;
        int64_t n0 = ni * I8_NB, n1 = n0 + I8_NB < J->N ? n0 + I8_NB : J->N;
        p->block(J, m0, m1, n0, n1);
    }
}

int awq_int8_gemm_path(awq_int8_path path, int f32_output, const uint8_t *xq, const int32_t *x_zero,
                       const float *x_scale, int64_t M, int64_t K, const int8_t *wq, const int32_t *w_zero,
                       const float *w_scale, int64_t N, int32_t *acc, float *y) {
    const char *FN = f32_output ? "awq_int8_gemm_f32" : "awq_int8_gemm";
    AWQ_REQUIRE_PTR(FN, xq);
    AWQ_REQUIRE_PTR(FN, x_zero);
    if (f32_output) AWQ_REQUIRE_PTR(FN, x_scale);
    AWQ_REQUIRE_PTR(FN, wq);
    if (f32_output) {
        AWQ_REQUIRE_PTR(FN, w_scale);
        AWQ_REQUIRE_PTR(FN, y);
    } else {
        AWQ_REQUIRE_PTR(FN, acc);
    }
    AWQ_REQUIRE_POSITIVE(FN, M);
    AWQ_REQUIRE_POSITIVE(FN, K);
    AWQ_REQUIRE_POSITIVE(FN, N);
    if (K > I8_MAX_K)
        return awq_fail(AWQ_ERR_OVERFLOW, FN,
                        "argument 'K' = %lld lets the int32 accumulator overflow (K*255*255 must be < 2^31, K <= %d)",
                        (long long)K, I8_MAX_K);
    int64_t tmp;
    int st;
    if ((st = awq_mul_size(FN, "xq", M, K, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "wq", N, K, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, f32_output ? "y" : "acc", M, N, &tmp)) != AWQ_OK) return st;
    for (int64_t m = 0; m < M; m++)
        if (x_zero[m] < 0 || x_zero[m] > 255)
            return awq_fail(AWQ_ERR_INVALID_ARGUMENT, FN, "argument 'x_zero' must hold values 0..255 (x_zero[%lld] = %d)",
                            (long long)m, (int)x_zero[m]);
    if (w_zero != NULL)
        for (int64_t n = 0; n < N; n++)
            if (w_zero[n] < -128 || w_zero[n] > 127)
                return awq_fail(AWQ_ERR_INVALID_ARGUMENT, FN,
                                "argument 'w_zero' must hold values -128..127 (w_zero[%lld] = %d)", (long long)n,
                                (int)w_zero[n]);
    if (!i8_path_supported(path))
        return awq_fail(AWQ_ERR_UNSUPPORTED, FN, "SIMD path %d is not available on this CPU", (int)path);

    int32_t *xsum = (int32_t *)malloc(sizeof(int32_t) * (size_t)M);
    if (xsum == NULL)
        return awq_fail(AWQ_ERR_OUT_OF_MEMORY, FN, "cannot allocate %lld bytes of scratch", (long long)(4 * M));
    for (int64_t m = 0; m < M; m++) {
        const uint8_t *x = xq + m * K;
        int32_t s = 0;
        for (int64_t k = 0; k < K; k++) s += x[k];
        xsum[m] = s;
    }

    awq_int8_job job = {.xq = xq, .x_zero = x_zero, .x_scale = x_scale, .wq = wq, .w_zero = w_zero,
                        .w_scale = w_scale, .acc = f32_output ? NULL : acc, .y = f32_output ? y : NULL,
                        .xsum = xsum, .M = M, .K = K, .N = N};
    i8_plan plan = {.job = &job, .block = awq_int8_block_scalar};
#if AWQ_X86
    if (path == AWQ_INT8_AVX512VNNI) plan.block = awq_int8_block_avx512vnni;
    else if (path == AWQ_INT8_AVX512) plan.block = awq_int8_block_avx512;
    else if (path == AWQ_INT8_AVX2) plan.block = awq_int8_block_avx2;
#endif
    /* M block: its rows of x (K bytes each) stay in L2 while the item's weight rows stream by */
    int64_t mb = (256 * 1024) / K;
    mb -= mb % 4;
    plan.mb = mb < 4 ? 4 : (mb > 64 ? 64 : mb);
    plan.n_nblocks = (N + I8_NB - 1) / I8_NB;
    const int64_t items = ((M + plan.mb - 1) / plan.mb) * plan.n_nblocks;
    const double item_work = (double)(M < plan.mb ? M : plan.mb) * (double)(N < I8_NB ? N : I8_NB) * (double)K;
    const int64_t grain = item_work >= I8_INLINE_WORK ? 1 : (int64_t)(I8_INLINE_WORK / item_work) + 1;
    awq_parallel_for(items, grain, i8_run_items, &plan);
    free(xsum);
    return AWQ_OK;
}

int awq_int8_gemm(const uint8_t *xq, const int32_t *x_zero, int64_t M, int64_t K, const int8_t *wq,
                  const int32_t *w_zero, int64_t N, int32_t *acc) {
    return awq_int8_gemm_path(awq_int8_best_path(), 0, xq, x_zero, NULL, M, K, wq, w_zero, NULL, N, acc, NULL);
}

int awq_int8_gemm_f32(const uint8_t *xq, const int32_t *x_zero, const float *x_scale, int64_t M, int64_t K,
                      const int8_t *wq, const int32_t *w_zero, const float *w_scale, int64_t N, float *y) {
    return awq_int8_gemm_path(awq_int8_best_path(), 1, xq, x_zero, x_scale, M, K, wq, w_zero, w_scale, N, NULL, y);
}
