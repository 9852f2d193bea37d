/*
 * w4a16.c — awq_w4a16_gemm: argument checks, the per-call preparation of x (group sums and the
 * even/odd split for the GEMV, the interleaved steps for the GEMM), the parallel driver, and the
 * scalar kernel. The AVX2 / AVX-512 tile kernels live in w4a16_avx2.c / w4a16_avx512.c; the math
 * and the layouts they share are described in w4a16.h.
 *
 * Parallel split: work items are (N block × M block) rectangles whose bounds depend only on the
 * shape, never on the thread count, so every y[m,n] is computed by the same instruction sequence
 * whatever the pool does — results are bit-identical for 1 and 4 threads.
 */
#include "w4a16.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define FN "awq_w4a16_gemm"

#define W4_NB AWQ_W4A16_NB
/* Multiply-adds below which a call runs on the calling thread (waking workers costs more). */
#define W4_INLINE_WORK 65536

void awq_w4a16_block_scalar(const awq_w4a16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *panel) {
    (void)panel;
    const int64_t K = job->K, G = job->G, ng = job->ng, kh = job->kh;
    for (int64_t m = m0; m < m1; m++) {
        const float *x = job->x + m * K;
        const float *xs = job->xs + m * job->ngp;
        for (int64_t n = n0; n < n1; n++) {
            const uint8_t *qw = job->qweight + n * kh;
            const uint16_t *sc = job->scales + n * ng;
            const uint8_t *zr = job->zeros + n * ng;
            float acc = 0.0f;
            for (int64_t g = 0; g < ng; g++) {
                int64_t k0 = g * G, k1 = k0 + G < K ? k0 + G : K;
                float dot = 0.0f;
                for (int64_t k = k0; k < k1; k++) {
                    int q = (qw[k >> 1] >> ((k & 1) * 4)) & 0xf;
                    dot += x[k] * (float)q;
                }
                float s = awq_fp16_to_fp32_1(sc[g]);
                acc += s * (dot - (float)zr[g] * xs[g]);
            }
            job->y[m * job->N + n] = acc;
        }
    }
}

typedef void (*w4_block_fn)(const awq_w4a16_job *, int64_t, int64_t, int64_t, int64_t, float *);

typedef struct w4_plan {
    const awq_w4a16_job *job;
    w4_block_fn block;
    int64_t mb;          /* rows of x per work item */
    int64_t n_nblocks;   /* work item i covers M block i / n_nblocks, N block i % n_nblocks */
    size_t panel_bytes;  /* scratch per range for the SIMD GEMM (0: none needed) */
    atomic_int failed;   /* a range could not allocate its panel */
} w4_plan;

/* Consecutive items share an M block, so a thread's chunk keeps the same rows of x hot in cache
 * while it streams different weight rows. One dequantization panel per range (a few per thread
 * and call). */
static void w4_run_items(void *ctx, int64_t begin, int64_t end) {
    w4_plan *p = (w4_plan *)ctx;
    const awq_w4a16_job *job = p->job;
    float *panel = NULL;
    if (p->panel_bytes) {
        panel = (float *)aligned_alloc(64, p->panel_bytes);
        if (panel == NULL) {
            atomic_store(&p->failed, 1);
            return;
        }
    }
    for (int64_t i = begin; i < end; i++) {
        int64_t mi = i / p->n_nblocks, ni = i % p->n_nblocks;
        int64_t m0 = mi * p->mb, m1 = m0 + p->mb < job->M ? m0 + p->mb : job->M;
        int64_t n0 = ni * W4_NB, n1 = n0 + W4_NB < job->N ? n0 + W4_NB : job->N;
        p->block(job, m0, m1, n0, n1, panel);
    }
    free(panel);
}

/* M block: a multiple of the register tile, at least one tile, at most max_rows; its rows of x
 * take about x_bytes. Each W row is dequantized once per M block. Measured on Zen 4: for the
 * AVX-512 tile (24 FMAs per 10 loads) that dequantization bounds the GEMM and big blocks whose x
 * comes from L3 win; the AVX2 tile (9 FMAs per 6 loads) needs its x in L2. */
static int64_t w4_m_block(int64_t K, int64_t mt, int64_t x_bytes, int64_t max_rows) {
    int64_t rows = x_bytes / 4 / K;
    rows -= rows % mt;
    if (rows < mt) rows = mt;
    if (rows > max_rows) rows = max_rows - max_rows % mt;
    return rows;
}


int awq_w4a16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                       const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size,
                       float *y) {
    AWQ_REQUIRE_PTR(FN, x);
    AWQ_REQUIRE_PTR(FN, qweight);
    AWQ_REQUIRE_PTR(FN, scales);
    AWQ_REQUIRE_PTR(FN, zeros);
    AWQ_REQUIRE_PTR(FN, y);
    AWQ_REQUIRE_POSITIVE(FN, M);
    AWQ_REQUIRE_POSITIVE(FN, K);
    AWQ_REQUIRE_POSITIVE(FN, N);
    AWQ_REQUIRE_GROUP_SIZE(FN, group_size);
    if (!awq_isa_detected(isa))
        return awq_fail(AWQ_ERR_UNSUPPORTED, FN, "SIMD path %d is not available on this CPU", (int)isa);

    const int64_t kh = K / 2 + (K & 1);
    const int64_t ng = awq_n_groups(K, group_size);
    int64_t tmp;
    int st;
    if ((st = awq_mul_size(FN, "x", M, K, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "qweight", N, kh, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "scales", N, ng, &tmp)) != AWQ_OK) return st;
    if ((st = awq_mul_size(FN, "y", M, N, &tmp)) != AWQ_OK) return st;

    if ((st = awq_check_int4_zeros(FN, zeros, N, ng)) != AWQ_OK) return st;

    /* Odd group sizes split a byte between two groups; only the scalar kernel handles that. */
    if (group_size & 1) isa = AWQ_ISA_SCALAR;
    const int gemv = isa != AWQ_ISA_SCALAR && M == 1, gemm = isa != AWQ_ISA_SCALAR && M > 1;
    const int64_t vw = isa == AWQ_ISA_AVX512 ? 16 : 8;

    const int64_t ngp = (ng + 15) & ~(int64_t)15;
    const int64_t khp = gemv ? ((kh + 15) & ~(int64_t)15) + 16 : 0;
    const int64_t kend = (kh + vw - 1) / vw * vw;
    /* scratch: xs [M, ngp] (scalar, GEMV), xe and xo [khp] (GEMV), xi [M, 2*kend] (GEMM) */
    int64_t floats;
    if ((st = awq_mul_size(FN, "scratch", M, gemm ? 2 * kend : ngp, &floats)) != AWQ_OK) return st;
    floats += 2 * khp;
    if ((uint64_t)floats > SIZE_MAX / sizeof(float) - 64)
        return awq_fail(AWQ_ERR_OVERFLOW, FN, "scratch for M=%lld, K=%lld does not fit in memory",
                        (long long)M, (long long)K);
    size_t bytes = ((size_t)floats * sizeof(float) + 63) & ~(size_t)63;
    float *scratch = (float *)aligned_alloc(64, bytes);
    if (scratch == NULL)
        return awq_fail(AWQ_ERR_OUT_OF_MEMORY, FN, "cannot allocate %zu bytes of scratch", bytes);

    float *xs = NULL, *xe = NULL, *xo = NULL, *xi = NULL;
    if (gemm) {
        xi = scratch;
        for (int64_t m = 0; m < M; m++) {
            const float *xr = x + m * K;
            float *step = xi + m * 2 * kend;
            for (int64_t j0 = 0; j0 < kend; j0 += vw, step += 2 * vw)
                for (int64_t l = 0; l < vw; l++) {
                    const int64_t k = 2 * (j0 + l);
                    step[l] = k < K ? xr[k] : 0.0f;
                    step[vw + l] = k + 1 < K ? xr[k + 1] : 0.0f;
                }
        }
    } else {
        xs = scratch;
        for (int64_t m = 0; m < M; m++) {
            const float *xr = x + m * K;
            float *xsr = xs + m * ngp;
            for (int64_t g = 0; g < ng; g++) {
                int64_t k0 = g * group_size, k1 = k0 + group_size < K ? k0 + group_size : K;
                double sum = 0.0; /* double: the zero-point term must not add error of its own */
                for (int64_t k = k0; k < k1; k++) sum += xr[k];
                xsr[g] = (float)sum;
            }
            for (int64_t g = ng; g < ngp; g++) xsr[g] = 0.0f;
        }
        if (gemv) {
            xe = scratch + M * ngp;
            xo = xe + khp;
            for (int64_t j = 0; j < khp; j++) {
                xe[j] = 2 * j < K ? x[2 * j] : 0.0f;
                xo[j] = 2 * j + 1 < K ? x[2 * j + 1] : 0.0f;
            }
        }
    }

    awq_w4a16_job job = {.x = x, .xs = xs, .xe = xe, .xo = xo, .xi = xi, .qweight = qweight,
                         .scales = scales, .zeros = zeros, .y = y, .M = M, .K = K, .N = N,
                         .G = group_size, .kh = kh, .khp = khp, .kend = kend, .ng = ng, .ngp = ngp};
    w4_plan plan = {.job = &job, .block = awq_w4a16_block_scalar, .mb = 8, .panel_bytes = 0};
    atomic_init(&plan.failed, 0);
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) {
        plan.block = awq_w4a16_block_avx512;
        plan.mb = w4_m_block(K, AWQ_W4A16_MT_AVX512, (int64_t)4 << 20, 128);
    } else if (isa == AWQ_ISA_AVX2) {
        plan.block = awq_w4a16_block_avx2;
        plan.mb = w4_m_block(K, AWQ_W4A16_MT_AVX2, (int64_t)512 << 10, 48);
    }
    if (gemm) plan.panel_bytes = sizeof(float) * (size_t)(AWQ_W4A16_PANEL_ROWS * 2 * kend + 16);
#endif
    plan.n_nblocks = (N + W4_NB - 1) / W4_NB;
    const int64_t n_mblocks = (M + plan.mb - 1) / plan.mb;
    const int64_t items = n_mblocks * plan.n_nblocks;
    /* work of one item in multiply-adds, then enough items per chunk to be worth a thread */
    const int64_t rows_m = M < plan.mb ? M : plan.mb, rows_n = N < W4_NB ? N : W4_NB;
    const double item_work = (double)rows_m * (double)rows_n * (double)K;
    int64_t grain = item_work >= W4_INLINE_WORK ? 1 : (int64_t)(W4_INLINE_WORK / item_work) + 1;
    awq_parallel_for(items, grain, w4_run_items, &plan);

    free(scratch);
    if (atomic_load(&plan.failed))
        return awq_fail(AWQ_ERR_OUT_OF_MEMORY, FN, "cannot allocate %zu bytes of dequantization scratch",
                        plan.panel_bytes);
    return AWQ_OK;
}

int awq_w4a16_gemm(const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                   const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size,
                   float *y) {
    return awq_w4a16_gemm_isa(awq_isa_level(), x, M, K, qweight, scales, zeros, N, group_size, y);
}

int awq_check_zeros(const char *fn, const uint8_t *zeros, int64_t n_rows, int64_t n_groups, int bits) {
    if (bits >= 8) return AWQ_OK; /* every byte is a valid 8-bit zero point */
    const int64_t nz = n_rows * n_groups;
    const uint8_t high = (uint8_t)(0xFFu << bits);
    uint64_t high8;
    memset(&high8, high, sizeof high8);
    /* One pass over the common case, eight bytes a step (this runs on every call, before the
     * parallel part: a byte loop cost ~4 % of a 2-thread decode), then find the culprit. */
    uint64_t any8 = 0;
    int64_t i0 = 0;
    for (; i0 + 8 <= nz; i0 += 8) {
        uint64_t w;
        memcpy(&w, zeros + i0, sizeof w);
        any8 |= w;
    }
    uint8_t any = 0;
    for (int64_t i = i0; i < nz; i++) any |= zeros[i];
    if (!((any8 & high8) | (any & high))) return AWQ_OK;
    for (int64_t i = 0; i < nz; i++)
        if (zeros[i] & high) {
            if (bits == 4)
                return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                                "argument 'zeros' must hold values 0..15 (row %lld, group %lld is %u)",
                                (long long)(i / n_groups), (long long)(i % n_groups), (unsigned)zeros[i]);
            return awq_fail(AWQ_ERR_INVALID_ARGUMENT, fn,
                            "argument 'zeros' must hold values 0..%u for %d-bit weights (row %lld, group %lld is %u)",
                            (1u << bits) - 1u, bits, (long long)(i / n_groups), (long long)(i % n_groups), (unsigned)zeros[i]);
        }
    return AWQ_OK;
}

int awq_check_int4_zeros(const char *fn, const uint8_t *zeros, int64_t n_rows, int64_t n_groups) {
    return awq_check_zeros(fn, zeros, n_rows, n_groups, 4);
}
