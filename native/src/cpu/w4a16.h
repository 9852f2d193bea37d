/*
 * w4a16.h — internals of awq_w4a16_gemm shared by the scalar driver (w4a16.c) and the SIMD tile
 * kernels (w4a16_avx2.c, w4a16_avx512.c). Not installed.
 *
 * Every path computes, per output (m, n),
 *     y[m,n] = Σ_g s[n,g] · (Σ_{k∈g} x[m,k]·q[n,k]  −  z[n,g] · Σ_{k∈g} x[m,k])
 * so the zero point costs one multiply per group instead of one subtract per weight. The group
 * sums Σx (xs) are computed once per call. The SIMD GEMV (one row of x, decode) applies s once
 * per group and subtracts the whole zero-point term at the end as one short dot product along g:
 * corr[m,n] = Σ_g s[n,g]·z[n,g]·xs[m,g].
 *
 * With several rows of x (prefill) unpacking dominates if it is redone per row, so the SIMD GEMM
 * dequantizes a few rows of W once, exactly ((q - z)·s has at most 15 significant bits), into an
 * fp32 scratch panel in the same even/odd split, and runs a register tile of pure FMAs over it
 * for every row of x in the M block. An M block of only a few rows (small batches) skips the
 * panel: the dequantized step stays in registers and feeds all of its rows directly.
 *
 * The packed byte j of a row holds columns 2j (low nibble) and 2j+1 (high nibble). Rather than
 * interleave nibbles in registers, the SIMD paths de-interleave x once per call into xe (even
 * columns) and xo (odd columns), so byte j's low nibble pairs with xe[j] and its high nibble with
 * xo[j], lane for lane. xo's entry past an odd K is 0, which neutralises the unused high nibble.
 */
#ifndef AWQ_W4A16_H
#define AWQ_W4A16_H

#include "awq_internal.h"
#include "awq_numerics.h" /* awq_fp16_to_fp32_1: the one fp16 decode */

typedef struct awq_w4a16_job {
    const float *x;          /* [M, K] as given (scalar kernel) */
    const float *xs;         /* [M, ngp] Σx per group, zero padded (scalar kernel, SIMD GEMV) */
    const float *xe, *xo;    /* SIMD GEMV (M = 1): [khp] even / odd columns of x, zero padded */
    const float *xi;         /* SIMD GEMM (M > 1): [M, 2*kend] interleaved steps, see below */
    const uint8_t *qweight;  /* [N, kh] */
    const uint16_t *scales;  /* [N, ng] fp16 bits */
    const uint8_t *zeros;    /* [N, ng] */
    float *y;                /* [M, N] */
    int64_t M, K, N, G;
    int64_t kh;              /* bytes per weight row: ceil(K/2) */
    int64_t khp;             /* length of xe/xo: kh rounded up to 16, plus 16 for unaligned group tails */
    int64_t kend;            /* kh rounded up to the SIMD width VW (16 AVX-512, 8 AVX2) */
    int64_t ng, ngp;         /* groups per row, and ng rounded up to 16 (row stride of xs) */
} awq_w4a16_job;

/* GEMM operand layout ("interleaved steps"): a row of K columns is stored as kend/VW steps of
 * 2·VW floats, step t holding the even columns 2(t·VW + l) in its first VW entries and the odd
 * columns 2(t·VW + l) + 1 in its second VW, l = 0..VW-1, zero past K. Both the rows of x (xi)
 * and the dequantized rows of W (the panel) use it, so the tile kernel reads each operand
 * through one pointer and constant offsets, and one packed byte step lines up with one step. */

/* The panel holds AWQ_W4A16_PANEL_ROWS dequantized rows of W with their steps interleaved too:
 * step t of row r at panel + (t * PANEL_ROWS + r) * 2·VW, so one pointer walks all rows. */

/* Compute y[m0..m1, n0..n1). The SIMD kernels need an even group size (whole bytes per group).
 * panel: scratch for the SIMD GEMM (unused by the scalar kernel and the GEMV), 64-byte aligned,
 * AWQ_W4A16_PANEL_ROWS * 2 * kend floats. */
void awq_w4a16_block_scalar(const awq_w4a16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *panel);
#if AWQ_X86
void awq_w4a16_block_avx2(const awq_w4a16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *panel);
void awq_w4a16_block_avx512(const awq_w4a16_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1, float *panel);
#endif

/* GEMM register tiles (rows of x × rows of W). The driver's M blocks are multiples of MT; its N
 * blocks (AWQ_W4A16_NB rows) are multiples of every NT and of the GEMV's 4 rows. */
#define AWQ_W4A16_MT_AVX512 4
#define AWQ_W4A16_NT_AVX512 6
#define AWQ_W4A16_MT_AVX2 4
#define AWQ_W4A16_NT_AVX2 3
#define AWQ_W4A16_NB 24
#define AWQ_W4A16_PANEL_ROWS 6 /* max of the NTs */

/* awq_w4a16_gemm on a chosen path (tests compare the paths). A path above what this CPU runs
 * returns AWQ_ERR_UNSUPPORTED; an odd group size always runs the scalar kernel. */
int awq_w4a16_gemm_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                       const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size,
                       float *y);

#endif /* AWQ_W4A16_H */
