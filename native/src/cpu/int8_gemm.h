/*
 * int8_gemm.h — internals of awq_int8_gemm / awq_int8_gemm_f32 shared by the driver and scalar
 * kernel (int8_gemm.c) and the SIMD tile kernels (int8_gemm_avx2.c, int8_gemm_avx512.c).
 *
 * The SIMD kernels multiply the raw codes, u8 activations by s8 weights, and fix the zero points
 * up afterwards, exactly, in 64-bit integers:
 *   Σ_k (x - zx)(w - zw) = Σ xw - zw·Σx - zx·Σw + K·zx·zw
 * Σx per row of x is computed once per call; Σw per row of W once per work item, while that
 * item's weight rows are being pulled into cache anyway. |Σ xw| <= K·255·128 and the caller
 * guarantees K·255·255 < 2^31, so the int32 lane sums never overflow either.
 */
#ifndef AWQ_INT8_GEMM_H
#define AWQ_INT8_GEMM_H

#include "awq_internal.h"

typedef enum awq_int8_path {
    AWQ_INT8_SCALAR = 0,
    AWQ_INT8_AVX2 = 1,        /* u8/s8 widened to s16, vpmaddwd (vpmaddubsw would saturate) */
    AWQ_INT8_AVX512 = 2,      /* the same at 512 bits (AVX-512 BW) */
    AWQ_INT8_AVX512VNNI = 3   /* vpdpbusd: u8 × s8 summed in fours straight into s32, no saturation */
} awq_int8_path;

typedef struct awq_int8_job {
    const uint8_t *xq;        /* [M, K] */
    const int32_t *x_zero;    /* [M] */
    const float *x_scale;     /* [M], f32 output only */
    const int8_t *wq;         /* [N, K] */
    const int32_t *w_zero;    /* [N] or NULL */
    const float *w_scale;     /* [N], f32 output only */
    int32_t *acc;             /* [M, N] int32 output, or NULL */
    float *y;                 /* [M, N] f32 output, or NULL */
    const int32_t *xsum;      /* [M] Σ_k xq[m,k] */
    int64_t M, K, N;
} awq_int8_job;

/* Write output (m, n) from its exact zero-point-corrected integer sum. */
static inline void awq_int8_store(const awq_int8_job *J, int64_t m, int64_t n, int32_t value) {
    if (J->y != NULL)
        J->y[m * J->N + n] = (J->x_scale[m] * J->w_scale[n]) * (float)value;
    else
        J->acc[m * J->N + n] = value;
}

/* Raw Σxw and Σw of (m, n) -> the corrected value (exact; fits int32 by the K limit). */
static inline int32_t awq_int8_correct(const awq_int8_job *J, int64_t m, int64_t n, int64_t dot, int64_t wsum) {
    int64_t zx = J->x_zero[m], zw = J->w_zero != NULL ? J->w_zero[n] : 0;
    return (int32_t)(dot - zw * (int64_t)J->xsum[m] - zx * wsum + J->K * zx * zw);
}

/* Rows of W per work item (the driver's N block): bounds the SIMD kernels' per-block Σw array. */
#define AWQ_INT8_NB 16

/* Compute outputs [m0, m1) × [n0, n1), n1 - n0 <= AWQ_INT8_NB. */
void awq_int8_block_scalar(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#if AWQ_X86
void awq_int8_block_avx2(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void awq_int8_block_avx512(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
void awq_int8_block_avx512vnni(const awq_int8_job *J, int64_t m0, int64_t m1, int64_t n0, int64_t n1);
#endif

/* The best path this CPU runs (and AWQ_SIMD allows). */
awq_int8_path awq_int8_best_path(void);

/* awq_int8_gemm (f32_output = 0: writes acc; x_scale, w_scale, y unused) or awq_int8_gemm_f32
 * (f32_output = 1: writes y; acc unused) on a chosen path, with all of their argument checks.
 * Tests compare the paths through it. A path this CPU cannot run returns AWQ_ERR_UNSUPPORTED. */
int awq_int8_gemm_path(awq_int8_path path, int f32_output, const uint8_t *xq, const int32_t *x_zero,
                       const float *x_scale, int64_t M, int64_t K, const int8_t *wq, const int32_t *w_zero,
                       const float *w_scale, int64_t N, int32_t *acc, float *y);

#endif /* AWQ_INT8_GEMM_H */
