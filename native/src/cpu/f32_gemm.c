/*
 * f32_gemm.c — y[M,N] = x[M,K] · w[N,K]ᵀ with fp32 weights: argument checks, the tiling and
 * threading shared with awq_f16_gemm, and the scalar reference block.
 *
 * Both operands are row-major along K, so every output is a dot product of two contiguous rows.
 * The work is cut into tiles of (MB rows of x) x (NB rows of w). A tile reads its NB weight rows
 * once and reuses them for all MB activation rows, which is what makes prefill (M up to 512)
 * cheaper than M separate GEMVs: the weights are streamed from memory ceil(M/MB) times instead of
 * M times. MB is chosen so the activation tile stays in L2 while the weights stream past it.
 */
#include "layers_internal.h"

/* Rows of w per task. A multiple of the SIMD tiles' 4 columns; small enough that GEMV (M = 1)
 * splits a 4096-row matrix into plenty of chunks for the pool to balance. */
#define GEMM_NB 16
/* Activation tile budget in bytes (MB * K * 4 <= this), and the bounds of MB. 512 KiB (one core's
 * L2 on a Zen 3 EPYC, half or a quarter of it on Zen 4 and Sapphire Rapids) measured 1.1-1.5x the
 * GFLOP/s of 256 KiB at M = 1024 on the AVX2 kernel; the blocking never changes an output's bits. */
#define GEMM_X_TILE_BYTES (512 * 1024)
#define GEMM_MB_MIN 4
#define GEMM_MB_MAX 512
/* A chunk handed to one thread does at least this many flops; below it the pool's hand-off costs
 * more than it saves (stories260K's 64x64 projections run on the caller's thread). */
#define GEMM_MIN_FLOPS_PER_CHUNK (256 * 1024)

typedef struct gemm_job {
    awq_gemm_block_fn block;
    const float *x;
    const void *w;
    float *y;
    int64_t M, K, N;
    int64_t mb, n_nb; /* rows per M tile, number of N blocks */
} gemm_job;

static void gemm_tasks(void *ctx, int64_t begin, int64_t end) {
    const gemm_job *j = (const gemm_job *)ctx;
    for (int64_t t = begin; t < end; t++) {
        int64_t mt = t / j->n_nb, nb = t % j->n_nb;
        int64_t m0 = mt * j->mb, m1 = m0 + j->mb < j->M ? m0 + j->mb : j->M;
        int64_t n0 = nb * GEMM_NB, n1 = n0 + GEMM_NB < j->N ? n0 + GEMM_NB : j->N;
        j->block(j->x, j->K, j->w, j->y, j->N, m0, m1, n0, n1);
    }
}

void awq_gemm_run(awq_gemm_block_fn block, const float *x, int64_t M, int64_t K, const void *w,
                  int64_t N, float *y) {
    int64_t mb = GEMM_X_TILE_BYTES / (K * (int64_t)sizeof(float));
    mb -= mb % GEMM_MB_MIN;
    if (mb < GEMM_MB_MIN) mb = GEMM_MB_MIN;
    if (mb > GEMM_MB_MAX) mb = GEMM_MB_MAX;
    if (mb > M) mb = M;
    gemm_job j = {block, x, w, y, M, K, N, mb, (N + GEMM_NB - 1) / GEMM_NB};
    int64_t n_tasks = ((M + mb - 1) / mb) * j.n_nb;
    /* flops of one full task, computed in double: M*K*N may exceed what a grain needs */
    double task_flops = 2.0 * (double)mb * (double)(N < GEMM_NB ? N : GEMM_NB) * (double)K;
    double g = (double)GEMM_MIN_FLOPS_PER_CHUNK / task_flops;
    int64_t grain = g >= (double)n_tasks ? n_tasks : (int64_t)g + 1;
    awq_parallel_for(n_tasks, grain, gemm_tasks, &j);
}

/* Scalar reference: one fp32 accumulator per output, k ascending — the plainest correct order. */
void awq_f32_gemm_block_scalar(const float *x, int64_t K, const void *wv, float *y, int64_t N,
                               int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const float *w = (const float *)wv;
    for (int64_t n = n0; n < n1; n++) {
        const float *wr = w + n * K;
        for (int64_t m = m0; m < m1; m++) {
            const float *xr = x + m * K;
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += xr[k] * wr[k];
            y[m * N + n] = acc;
        }
    }
}

void awq_f32_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const float *w, int64_t N,
                      float *y) {
    awq_gemm_block_fn block = awq_f32_gemm_block_scalar;
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) block = awq_f32_gemm_block_avx512;
    else if (isa == AWQ_ISA_AVX2) block = awq_f32_gemm_block_avx2;
#endif
    awq_gemm_run(block, x, M, K, w, N, y);
}

int awq_gemm_check_sizes(const char *fn, int64_t M, int64_t K, int64_t N, int64_t w_elem_bytes) {
    AWQ_REQUIRE_POSITIVE(fn, M);
    AWQ_REQUIRE_POSITIVE(fn, K);
    AWQ_REQUIRE_POSITIVE(fn, N);
    /* every buffer's byte size must be representable, or pointer arithmetic on it is undefined */
    int64_t elems, bytes;
    int st;
    if ((st = awq_mul_size(fn, "x", M, K, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "x", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "w", N, K, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "w", elems, w_elem_bytes, &bytes)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "y", M, N, &elems)) != AWQ_OK) return st;
    if ((st = awq_mul_size(fn, "y", elems, (int64_t)sizeof(float), &bytes)) != AWQ_OK) return st;
    return AWQ_OK;
}

int awq_f32_gemm(const float *x, int64_t M, int64_t K, const float *w, int64_t N, float *y) {
    static const char fn[] = "awq_f32_gemm";
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, w);
    AWQ_REQUIRE_PTR(fn, y);
    int st = awq_gemm_check_sizes(fn, M, K, N, (int64_t)sizeof(float));
    if (st != AWQ_OK) return st;
    awq_f32_gemm_isa(awq_isa_level(), x, M, K, w, N, y);
    return AWQ_OK;
}
