/*
 * wna16.h — internals of awq_wna16_gemm shared by the driver and scalar kernel (wna16.c) and the
 * AVX2 kernel (wna16_avx2.c). Not installed.
 *
 * Weights: compressed-tensors' pack_to_int32 layout (awq_kernels.h): pf = 32/bits codes per int32
 * word along K, column k in bits (k mod pf)·bits of word k/pf. Every path computes, per output,
 *     w[k]   = (float)(q[n,k] − z[n,k/G]) · s[n,k/G]          (exact in fp32: ≤ 9 + 11 bits)
 *     y[m,n] = Σ_k x[m,k] · w[k]
 * Row n of W is dequantized once into a per-range fp32 scratch row (`wrow`), then dotted with each
 * row of x in the M block: the group structure only enters the dequantization, so groups of any
 * size, a short last group and any K cost nothing extra in the dot products.
 *
 * SIMD unpacking by "cycles": lcm(8, pf) columns span CW = lcm(8, pf)/pf words and CV = lcm(8, pf)/8
 * vectors of 8 columns — 2 bits: 1 word / 2 vectors, 3 bits: 4 words / 5 vectors, 4 bits: 1 / 1,
 * 8 bits: 2 / 1. A cycle's words (at most 4) are loaded as one 128-bit value; vector v of the cycle
 * takes lane l from word perm[v][l] = (8v + l) / pf shifted right by shift[v][l] = ((8v + l) mod pf)·bits
 * (vpermd + vpsrlvd + vpand), which is exactly the scalar reference's extraction.
 */
#ifndef AWQ_WNA16_H
#define AWQ_WNA16_H

#include "awq_internal.h"
#include "awq_numerics.h" /* awq_fp16_to_fp32_1: the one fp16 decode */

#define AWQ_WNA16_MAX_CV 5 /* vectors per cycle, at most (3 bits) */

typedef struct awq_wna16_job {
    const float *x;          /* [M, K] */
    const int32_t *qweight;  /* [N, nw] */
    const uint16_t *scales;  /* [N, ng] fp16 bits */
    const uint8_t *zeros;    /* [N, ng] */
    float *y;                /* [M, N] */
    int64_t M, K, N, G, ng;
    int bits, pf;            /* bits per code, codes per word (32 / bits) */
    int64_t nw;              /* words per row: ceil(K / pf) */
    int cw, cv;              /* words and 8-column vectors per unpacking cycle */
    int64_t kcyc;            /* K rounded up to whole cycles: the length of a scratch row */
    int32_t perm[AWQ_WNA16_MAX_CV][8], shift[AWQ_WNA16_MAX_CV][8];
} awq_wna16_job;

/* Code of column k of a packed row: the one definition every path reproduces. */
static inline int awq_wna16_code(const int32_t *row, int64_t k, int bits, int pf) {
    return (int)(((uint32_t)row[k / pf] >> ((k % pf) * bits)) & ((1u << bits) - 1u));
}

/* Compute y[m0..m1, n0..n1). wrow: scratch of kcyc floats, 32-byte aligned. */
void awq_wna16_block_scalar(const awq_wna16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow);
#if AWQ_X86
void awq_wna16_block_avx2(const awq_wna16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *wrow);
#endif

/* awq_wna16_gemm on a chosen path (tests compare the paths). AVX-512 runs the AVX2 kernel; a
 * path above what this CPU runs returns AWQ_ERR_UNSUPPORTED. */
int awq_wna16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const int32_t *qweight, int bits,
                       const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size, float *y);

#endif /* AWQ_WNA16_H */
