/*
 * f16_gemm.c — y[M,N] = x[M,K] · w[N,K]ᵀ with fp16 weights (bits) and fp32 accumulation.
 *
 * Weights are widened to fp32 as they are read (exactly: every fp16 is an fp32), so the result
 * equals awq_f32_gemm on the decoded weights. The SIMD blocks share the AVX2/AVX-512 tile code of
 * f32_gemm_*.c (VCVTPH2PS on load); tiling and threading are awq_gemm_run's.
 */
#include "layers_internal.h"

/* Scalar reference: one fp32 accumulator per output, k ascending. */
void awq_f16_gemm_block_scalar(const float *x, int64_t K, const void *wv, float *y, int64_t N,
                               int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
    const uint16_t *w = (const uint16_t *)wv;
    for (int64_t n = n0; n < n1; n++) {
        const uint16_t *wr = w + n * K;
        for (int64_t m = m0; m < m1; m++) {
            const float *xr = x + m * K;
            float acc = 0.0f;
            for (int64_t k = 0; k < K; k++) acc += xr[k] * awq_fp16_to_fp32_1(wr[k]);
            y[m * N + n] = acc;
        }
    }
}

void awq_f16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const uint16_t *w,
                      int64_t N, float *y) {
    awq_gemm_block_fn block = awq_f16_gemm_block_scalar;
#if AWQ_X86
    if (isa == AWQ_ISA_AVX512) block = awq_f16_gemm_block_avx512;
    else if (isa == AWQ_ISA_AVX2) block = awq_f16_gemm_block_avx2;
#endif
    awq_gemm_run(block, x, M, K, w, N, y);
}

int awq_f16_gemm(const float *x, int64_t M, int64_t K, const uint16_t *w, int64_t N, float *y) {
    static const char fn[] = "awq_f16_gemm";
    AWQ_REQUIRE_PTR(fn, x);
    AWQ_REQUIRE_PTR(fn, w);
    AWQ_REQUIRE_PTR(fn, y);
    int st = awq_gemm_check_sizes(fn, M, K, N, (int64_t)sizeof(uint16_t));
    if (st != AWQ_OK) return st;
    awq_f16_gemm_isa(awq_isa_level(), x, M, K, w, N, y);
    return AWQ_OK;
}
