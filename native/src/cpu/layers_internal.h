/*
 * layers_internal.h — the FP32 forward-pass kernels behind awq_f32_gemm, awq_f16_gemm,
 * awq_rmsnorm and awq_attention, with the SIMD path passed explicitly.
 *
 * The public entry points validate their arguments and call these with awq_isa_level(); the
 * ctest executables call them with each path the CPU supports and compare. These functions do
 * no argument checking: the caller has already done it.
 */
#ifndef AWQ_LAYERS_INTERNAL_H
#define AWQ_LAYERS_INTERNAL_H

#include "awq_internal.h"
#include "awq_numerics.h" /* awq_fp16_to_fp32_1: the one fp16 decode */

#include <stdint.h>

/* ---- GEMM: y[M,N] = x[M,K] · Wᵀ, W [N,K] fp32 or fp16 bits ------------------------------------
 * A block kernel computes y[m0..m1, n0..n1]. Every output element is computed by the same
 * sequence of operations whatever the tile it falls in (per-lane fp32 accumulation along K in
 * ascending order, a masked tail, one fixed horizontal reduction), so results do not depend on
 * the thread count, the tiling or M: row m of y is the same whether computed alone or in a batch. */
typedef void (*awq_gemm_block_fn)(const float *x, int64_t K, const void *w, float *y, int64_t N,
                                  int64_t m0, int64_t m1, int64_t n0, int64_t n1);

void awq_f32_gemm_block_scalar(const float *x, int64_t K, const void *w, float *y, int64_t N,
                               int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void awq_f16_gemm_block_scalar(const float *x, int64_t K, const void *w, float *y, int64_t N,
                               int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#if AWQ_X86
void awq_f32_gemm_block_avx2(const float *x, int64_t K, const void *w, float *y, int64_t N,
                             int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void awq_f16_gemm_block_avx2(const float *x, int64_t K, const void *w, float *y, int64_t N,
                             int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void awq_f32_gemm_block_avx512(const float *x, int64_t K, const void *w, float *y, int64_t N,
                               int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void awq_f16_gemm_block_avx512(const float *x, int64_t K, const void *w, float *y, int64_t N,
                               int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif

/* Tiles [M, N] (M tiles sized for L2, N blocks), spreads the tiles over the thread pool. */
void awq_gemm_run(awq_gemm_block_fn block, const float *x, int64_t M, int64_t K, const void *w,
                  int64_t N, float *y);

/* Positive M, K, N and byte sizes of x, w (w_elem_bytes per weight) and y that fit int64. */
int awq_gemm_check_sizes(const char *fn, int64_t M, int64_t K, int64_t N, int64_t w_elem_bytes);

void awq_f32_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const float *w, int64_t N,
                      float *y);
void awq_f16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const uint16_t *w,
                      int64_t N, float *y);

/* ---- RMSNorm ---------------------------------------------------------------------------------- */
void awq_rmsnorm_isa(awq_isa isa, const float *x, const float *weight, int64_t M, int64_t D, float eps,
                     float *y);
void awq_add_rmsnorm_isa(awq_isa isa, float *x, const float *delta, const float *weight, int64_t M, int64_t D,
                         float eps, float *y);

/* ---- softmax of one row in place: max subtraction, expf, double sum, one division per element.
 * Shared by awq_softmax and awq_attention so both normalise the same way. */
void awq_softmax_row(float *x, int64_t n);

/* ---- attention ---------------------------------------------------------------------------------
 * Returns AWQ_OK or AWQ_ERR_OUT_OF_MEMORY (score scratch); the caller names the failure. */
int awq_attention_isa(awq_isa isa, const float *q, const float *k_cache, const float *v_cache,
                      int64_t M, int64_t n_past, int64_t n_heads, int64_t n_kv_heads,
                      int64_t head_dim, int64_t window, float *out);

/* The same with every (row, head) its own task and no narrow-head path: the schedule the narrow
 * path (heads of <= 8 dims) must equal bit for bit; tests compare the two. */
int awq_attention_isa_per_task(awq_isa isa, const float *q, const float *k_cache,
                               const float *v_cache, int64_t M, int64_t n_past, int64_t n_heads,
                               int64_t n_kv_heads, int64_t head_dim, int64_t window, float *out);

#endif /* AWQ_LAYERS_INTERNAL_H */
