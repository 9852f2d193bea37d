/*
 * wna16.h — internals of awq_wna16_gemm shared by the driver and scalar kernel (wna16.c) and the
 * AVX2 kernel (wna16_avx2.c). Not installed.
 *
 * Weights: the lane-interleaved layout of awq_kernels.h — pl = floor(32/bits) codes per int32,
 * blocks of B = 8·pl columns in 8 words, word 8t + l of a row holding columns t·B + 8j + l in bits
 * j·bits. Every path computes, per output,
 *     w[k]   = (float)(q[n,k] − z[n,k/G]) · s[n,k/G]          (exact in fp32: ≤ 9 + 11 bits)
 *     y[m,n] = Σ_k x[m,k] · w[k]
 * The group structure only enters the dequantization, so groups of any size, a short last group
 * and any K cost nothing extra in the dot products.
 *
 * SIMD: one 256-bit load per block and row of W; vector j of the block (8 consecutive columns) is
 * (words >> j·bits) & mask, lane for lane — no permutes — converted and dequantized by one fmsub
 * (q·s − z·s, exact). With few rows of x each vector goes straight into the FMAs; with many, a W
 * row is dequantized once per M block into a scratch row (`wrow`) that every row of x reuses.
 * Lanes own columns, so unpacking is shift-and-mask only (the INT4 kernels get the same from their
 * even/odd nibble split, w4a16.h).
 */
#ifndef AWQ_WNA16_H
#define AWQ_WNA16_H

#include "awq_internal.h"
#include "awq_numerics.h" /* awq_fp16_to_fp32_1: the one fp16 decode */

typedef struct awq_wna16_job {
    const float *x;          /* [M, K] */
    const int32_t *qweight;  /* [N, nw] */
    const uint16_t *scales;  /* [N, ng] fp16 bits */
    const uint8_t *zeros;    /* [N, ng] */
    float *y;                /* [M, N] */
    int64_t M, K, N, G, ng;
    int bits, pl;            /* bits per code, codes per word (floor(32 / bits)) */
    int64_t block;           /* columns per block: 8 · pl */
    int64_t nw;              /* words per row: 8 · ceil(K / block) */
    int64_t kpad;            /* K rounded up to whole blocks: the length of a scratch row */
} awq_wna16_job;

/* Code of column k of a row: the one definition every path reproduces. */
static inline int awq_wna16_code(const int32_t *row, int64_t k, int bits, int pl) {
    const int64_t block = 8 * (int64_t)pl, t = k / block, r = k % block;
    return (int)(((uint32_t)row[8 * t + r % 8] >> ((r / 8) * bits)) & ((1u << bits) - 1u));
}

/* Compute y[m0..m1, n0..n1). wrow: scratch of kpad floats, 32-byte aligned. */
void awq_wna16_block_scalar(const awq_wna16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow);
#if AWQ_X86
void awq_wna16_block_avx2(const awq_wna16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow);
#endif

/* awq_wna16_gemm on a chosen path (tests compare the paths). AVX-512 runs the AVX2 kernel; a
 * path above what this CPU runs returns AWQ_ERR_UNSUPPORTED. */
int awq_wna16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const int32_t *qweight, int bits,
                       const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size, float *y);

#endif /* AWQ_WNA16_H */
