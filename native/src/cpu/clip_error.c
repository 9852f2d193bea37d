/*
 * clip_error.c — awq_clip_error: the error of AWQ's weight-clipping search, argument checks, the
 * driver that transposes d per block and spreads the blocks over the thread pool, and the scalar
 * reference.
 *
 * AWQ (Lin et al., 2024, §3.2 and the reference code llm-awq awq/quantize/auto_clip.py; AutoAWQ
 * awq/quantize/quantizer.py _compute_best_clip) chooses each group's clipping threshold by how
 * well the group's partial outputs Σ_{k∈g} x_k·w_k on sampled calibration tokens survive
 * quantization: err = mean over tokens of (Σ_{k∈g} x_k·(q(w)_k − w_k))². That is a GEMM per group
 * (tokens × group × rows) whose outputs are squared and summed instead of stored; this file
 * computes it without materialising the [tokens, rows] product.
 */
#include "clip_error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void awq_clip_error_block_scalar(const awq_clip_error_job *j, int64_t n0) {
    int64_t n1 = n0 + CE_NB < j->N ? n0 + CE_NB : j->N;
    for (int64_t n = n0; n < n1; n++) {
        const float *dr = j->d + n * j->K;
        for (int64_t g = 0; g < j->ng; g++) {
            int64_t k0 = g * j->G, k1 = k0 + j->G < j->K ? k0 + j->G : j->K;
            double e = 0.0;
            for (int64_t m = 0; m < j->M; m++) {
                const float *xr = j->x + m * j->K;
                float p = 0.0f;
                for (int64_t k = k0; k < k1; k++) p = fmaf(xr[k], dr[k], p);
                e = fma((double)p, (double)p, e);
            }
            j->err[n * j->ng + g] = e / (double)j->M;
        }
    }
}

typedef struct clip_error_task {
    const awq_clip_error_job *job;
    awq_clip_error_block_fn block; /* NULL: scalar */
} clip_error_task;

/* Block b's rows of d, transposed into dt_b[k * CE_NB + r] = d[n0 + r, k] (0 past N). */
static void transpose_block(const awq_clip_error_job *j, float *dt_b, int64_t n0) {
    int64_t rows = j->N - n0 < CE_NB ? j->N - n0 : CE_NB;
    if (rows < CE_NB) memset(dt_b, 0, (size_t)j->K * CE_NB * sizeof(float));
    /* 16 columns at a time, so the block's destination lines stay in L1 while all rows visit them */
    for (int64_t k0 = 0; k0 < j->K; k0 += 16) {
        int64_t k1 = k0 + 16 < j->K ? k0 + 16 : j->K;
        for (int64_t r = 0; r < rows; r++) {
            const float *dr = j->d + (n0 + r) * j->K;
            for (int64_t k = k0; k < k1; k++) dt_b[k * CE_NB + r] = dr[k];
        }
    }
}

static void clip_error_tasks(void *ctx, int64_t begin, int64_t end) {
    const clip_error_task *t = (const clip_error_task *)ctx;
    const awq_clip_error_job *j = t->job;
    for (int64_t b = begin; b < end; b++) {
        if (t->block == NULL) {
            awq_clip_error_block_scalar(j, b * CE_NB);
            continue;
        }
        float *dt_b = j->dt + b * j->K * CE_NB;
        transpose_block(j, dt_b, b * CE_NB);
        t->block(j, dt_b, b * CE_NB);
    }
}

int awq_clip_error_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const float *d, int64_t N,
                       int64_t group_size, double *err) {
    awq_clip_error_job j = {x, d, NULL, err, M, K, N, group_size, awq_n_groups(K, group_size)};
    clip_error_task t = {&j, NULL};
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) t.block = awq_clip_error_block_avx512;
    else if (isa == AWQ_ISA_AVX2) t.block = awq_clip_error_block_avx2;
#endif
    int64_t n_blocks = (N + CE_NB - 1) / CE_NB;
    if (t.block != NULL) {
        /* one transposed copy of d, the size of d rounded up to whole blocks (sizes checked by the caller) */
        j.dt = (float *)malloc((size_t)n_blocks * (size_t)K * CE_NB * sizeof(float));
        if (j.dt == NULL)
            return awq_fail(AWQ_ERR_OUT_OF_MEMORY, "awq_clip_error", "cannot allocate %lld bytes of scratch",
                            (long long)(n_blocks * K * CE_NB * (int64_t)sizeof(float)));
    }
    awq_parallel_for(n_blocks, 1, clip_error_tasks, &t);
    free(j.dt);
    return AWQ_OK;
}

int awq_clip_error(const float *x, int64_t M, int64_t K, const float *d, int64_t N, int64_t group_size,
                   double *err) {
    static const char fn[] = "awq_clip_error";
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, d);
    AWQ_REQUIRE_PTR(fn, err);
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    AWQ_REQUIRE_GROUP_SIZE(fn, group_size);
    int64_t elems, bytes, blocks = (N + CE_NB - 1) / CE_NB;
    int st;
    if ((st = awq_mul_size(fn, "x", M, K, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "scratch", blocks * CE_NB, K, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "scratch", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "err", N, awq_n_groups(K, group_size), &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "err", elems, (int64_t)sizeof(double), &bytes)) != AWQ_OK) return st;
    return awq_clip_error_isa(awq_isa_level(), x, M, K, d, N, group_size, err);
}
