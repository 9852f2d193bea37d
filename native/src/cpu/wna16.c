/*
 * wna16.c — awq_wna16_gemm: argument checks, the unpacking tables, the parallel driver, and the
 * scalar reference kernel. The AVX2 kernel lives in wna16_avx2.c; the math and the layout they
 * share are described in wna16.h.
 *
 * Parallel split: work items are (N block × M block) rectangles whose bounds depend only on the
 * shape, never on the thread count, and each y[m,n] is one dot product computed by a fixed
 * instruction sequence — results are bit-identical for any number of threads.
 */
#include "wna16.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FN "awq_wna16_gemm"

#define WN_NB 16 /* weight rows per work item */
#define WN_MB 32 /* rows of x per work item: one dequantized W row serves all of them */
/* Multiply-adds below which a call runs on the calling thread (waking workers costs more). */
#define WN_INLINE_WORK 65536

void awq_wna16_block_scalar(const awq_wna16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow) {
    const int64_t K = job->K, G = job->G, ng = job->ng;
    for (int64_t n = n0; n < n1; n++) {
        const int32_t *qw = job->qweight + n * job->nw;
        const uint16_t *sc = job->scales + n * ng;
        const uint8_t *zr = job->zeros + n * ng;
        for (int64_t k = 0; k < K; k++) {
            const int64_t g = k / G;
            wrow[k] = (float)(awq_wna16_code(qw, k, job->bits, job->pl) - (int)zr[g]) * awq_fp16_to_fp32_1(sc[g]);
        }
        for (int64_t m = m0; m < m1; m++) {
            const float *x = job->x + m * K;
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += x[k] * wrow[k];
            job->y[m * job->N + n] = acc;
        }
    }
}

typedef void (*wn_block_fn)(const awq_wna16_job *, int64_t, int64_t, int64_t, int64_t, float *);

typedef struct wn_plan {
    const awq_wna16_job *job;
    wn_block_fn block;
    int64_t n_nblocks;  /* work item i covers M block i / n_nblocks, N block i % n_nblocks */
    size_t row_bytes;   /* scratch row per range */
    atomic_int failed;  /* a range could not allocate its scratch row */
} wn_plan;

static void wn_run_items(void *ctx, int64_t begin, int64_t end) {
    wn_plan *p = (wn_plan *)ctx;
    const awq_wna16_job *job = p->job;
    float *wrow = (float *)aligned_alloc(64, p->row_bytes);
    if (wrow == NULL) {
        atomic_store(&p->failed, 1);
        return;
    }
    for (int64_t i = begin; i < end; i++) {
        int64_t mi = i / p->n_nblocks, ni = i % p->n_nblocks;
        int64_t m0 = mi * WN_MB, m1 = m0 + WN_MB < job->M ? m0 + WN_MB : job->M;
        int64_t n0 = ni * WN_NB, n1 = n0 + WN_NB < job->N ? n0 + WN_NB : job->N;
        p->block(job, m0, m1, n0, n1, wrow);
    }
    free(wrow);
}



int awq_wna16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const int32_t *qweight, int bits,
                       const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size, float *y) {
    AWQ_REQUIRE_PTR(FN, x);
    AWQ_REQUIRE_PTR(FN, qweight);
    AWQ_REQUIRE_PTR(FN, scales);
    AWQ_REQUIRE_PTR(FN, zeros);
    AWQ_REQUIRE_PTR(FN, y);
    AWQ_REQUIRE_POSITIVE(FN, M);
    AWQ_REQUIRE_POSITIVE(FN, K);
    AWQ_REQUIRE_POSITIVE(FN, N);
    AWQ_REQUIRE_GROUP_SIZE(FN, group_size);
    if (bits != 2 && bits != 3 && bits != 4 && bits != 8)
        return awq_fail(AWQ_ERR_INVALID_ARGUMENT, FN, "argument 'bits' must be 2, 3, 4 or 8 (got %d)", bits);
    if (!awq_isa_detected(isa))
        return awq_fail(AWQ_ERR_UNSUPPORTED, FN, "SIMD path %d is not available on this CPU", (int)isa);

    const int pl = 32 / bits;
    const int64_t block = 8 * (int64_t)pl;
    const int64_t nblocks = K / block + (K % block != 0);
    const int64_t nw = 8 * nblocks;
    const int64_t ng = awq_n_groups(K, group_size);
    int64_t tmp;
    int st;
    if ((st = awq_mul_size(FN, "x", M, K, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "qweight", N, nw, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "scales", N, ng, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "y", M, N, &tmp)) != AWQ_OK) return st;

    if ((st = awq_check_zeros(FN, zeros, N, ng, bits)) != AWQ_OK) return st;

    awq_wna16_job job = {.x = x, .qweight = qweight, .scales = scales, .zeros = zeros, .y = y, .M = M, .K = K,
                         .N = N, .G = group_size, .ng = ng, .bits = bits, .pl = pl, .block = block, .nw = nw,
                         .kpad = nblocks * block};
    if ((uint64_t)job.kpad > SIZE_MAX / sizeof(float) - 64)
        return awq_fail(AWQ_ERR_OVERFLOW, FN, "a scratch row of K=%lld does not fit in memory", (long long)K);

    wn_plan plan = {.job = &job, .block = awq_wna16_block_scalar,
                    .row_bytes = ((size_t)job.kpad * sizeof(float) + 63) & ~(size_t)63};
    atomic_init(&plan.failed, 0);
#if AWQ_X86
    if (isa != AWQ_ISA_SCALAR) plan.block = awq_wna16_block_avx2;
#endif
    plan.n_nblocks = (N + WN_NB - 1) / WN_NB;
    const int64_t n_mblocks = (M + WN_MB - 1) / WN_MB;
    const int64_t items = n_mblocks * plan.n_nblocks;
    const int64_t rows_m = M < WN_MB ? M : WN_MB, rows_n = N < WN_NB ? N : WN_NB;
    const double item_work = (double)rows_m * (double)rows_n * (double)K;
    int64_t grain = item_work >= WN_INLINE_WORK ? 1 : (int64_t)(WN_INLINE_WORK / item_work) + 1;
    awq_parallel_for(items, grain, wn_run_items, &plan);

    if (atomic_load(&plan.failed))
        return awq_fail(AWQ_ERR_OUT_OF_MEMORY, FN, "cannot allocate %zu bytes of dequantization scratch", plan.row_bytes);
    return AWQ_OK;
}

int awq_wna16_gemm(const float *x, int64_t M, int64_t K, const int32_t *qweight, int bits, const uint16_t *scales,
                   const uint8_t *zeros, int64_t N, int64_t group_size, float *y) {
    return awq_wna16_gemm_isa(awq_isa_level(), x, M, K, qweight, bits, scales, zeros, N, group_size, y);
}
