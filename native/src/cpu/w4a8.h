/*
 * w4a8.h — internals of awq_quantize_act_q8 and awq_w4a8_gemm shared by the scalar reference and
 * driver (w4a8.c) and the SIMD kernels (w4a8_avx2.c, w4a8_avx512.c). Not installed.
 *
 * The definition (awq_kernels.h), per output (m, n):
 *     dot[g]  = Σ_{k∈g} xq[m,k]·q[n,k]                     exact int32
 *     corr[g] = dot[g] − zeros[n,g]·x_sum[m,g]              exact int32
 *     y[m,n]  = Σ_g (x_scale[m,g]·w_scale[n,g]) · (float)corr[g]
 * with the fp32 part evaluated as exactly these operations, in this order: s = x_scale·w_scale,
 * t = s·(float)corr, y = y + t, g = 0, 1, ..., starting from y = 0. No FMA (the w4a8 sources are
 * compiled with -ffp-contract=off), so every path produces the scalar reference's bits.
 *
 * SIMD layout ("lanes = rows of W"). The AWQ nibble layout puts columns 2j and 2j+1 of a row in
 * byte j, and dot products want 4 consecutive bytes per 32-bit lane (vpdpbusd, or vpmaddubsw +
 * vpmaddwd). Rather than unpack nibbles along K, the kernels transpose a tile of TR weight rows
 * (16 for AVX-512, 8 for AVX2) so that 32-bit lane r holds 4 packed bytes of row r:
 *     sub-step s = packed bytes [16s, 16s+16) of every row = columns [32s, 32s+32)
 *     T_d (d = 0..3), lane r   = bytes 16s+4d .. 16s+4d+3 of row r  (columns 32s+8d .. +7)
 *     lo_d = T_d & 0x0F        = q at columns 32s+8d + {0,2,4,6}
 *     hi_d = (T_d >> 4) & 0x0F = q at columns 32s+8d + {1,3,5,7}
 * and multiply each by a 4-byte broadcast of x, so one accumulator lane is one output (m, n):
 * no horizontal sums, and the per-group fp32 work is one vector op per 16 (or 8) outputs.
 * x is rearranged once per call to match ("permuted x", xp): block D (8 bytes) of a row holds
 *     xq[8D+0], xq[8D+2], xq[8D+4], xq[8D+6], xq[8D+1], xq[8D+3], xq[8D+5], xq[8D+7]
 * so lo_d meets bytes 0..3 and hi_d bytes 4..7 of block 4s+d. Rows of xp are kp bytes (K rounded
 * up to 32), zero past K, which also neutralises the unused high nibble of an odd K.
 *
 * A group of G columns (G a multiple of 32) is G/32 whole sub-steps, so the int32 accumulators
 * are reset per group and the group's correction and scales applied once. A short last group
 * ends at the last, partial sub-step, whose bytes past ceil(K/2) are loaded as zero.
 * Group sizes that 32 does not divide run the scalar kernel.
 *
 * Repacked weights ("rows8", awq_w4a8_repack): the AVX2 tile's T_d vectors stored in the order the
 * kernel consumes them, so a tile's weights are one sequential stream of 128 bytes per sub-step and
 * the 4x4 dword transpose disappears from the loop (the same idea as llama.cpp's interleaved
 * block_q4_0x8, ggml-cpu/repack.cpp; our blocks are AutoAWQ rows, not Q4_0 blocks). For tile
 * t = n / 8, sub-step s, vector d and row r:
 *     rows8[((t·nsub + s)·4 + d)·32 + 4r + b] = qweight[(8t + r)·kh + 16s + 4d + b],  b = 0..3
 * (nsub = ceil(kh / 16)), 0 for rows past N and bytes past kh. A pure permutation plus zero padding:
 * ceil(N/8)·8 · nsub·16 bytes.
 *
 * Integer ranges: |xq| <= 128, q <= 15 and z <= 15, so |dot| and |z·x_sum| are at most
 * 1920·Ge (Ge = min(G, K), the longest group) and |corr| <= 3840·Ge < 2^31 for Ge <= 559240 (the
 * driver refuses larger). One vpmaddubsw pair is at most 2·15·128 = 3840 in magnitude, so eight
 * of them add up in int16 without overflow (the AVX2 / AVX-512 BW kernels rely on that).
 */
#ifndef AWQ_W4A8_H
#define AWQ_W4A8_H

#include "awq_internal.h"
#include "awq_numerics.h" /* awq_fp16_to_fp32_1 */

typedef enum awq_w4a8_path {
    AWQ_W4A8_SCALAR = 0,
    AWQ_W4A8_AVX2 = 1,       /* 8-row tiles, vpmaddubsw + vpmaddwd */
    AWQ_W4A8_AVX512 = 2,     /* 16-row tiles, the same at 512 bits (AVX-512 BW) */
    AWQ_W4A8_AVX512VNNI = 3  /* 16-row tiles, vpdpbusd: u8 × s8 summed in fours into s32 */
} awq_w4a8_path;

typedef struct awq_w4a8_job {
    const int8_t *xq;        /* [M, K] as given (scalar kernel) */
    const int8_t *xp;        /* [M, kp] permuted x (SIMD kernels), see above */
    const float *x_scale;    /* [M, ng] */
    const int32_t *x_sum;    /* [M, ng] */
    const uint8_t *qweight;  /* [N, kh] */
    const uint16_t *scales;  /* [N, ng] fp16 bits */
    const uint8_t *zeros;    /* [N, ng] */
    float *y;                /* [M, N] */
    int64_t M, K, N, G;
    int64_t kh;              /* bytes per weight row: ceil(K/2) */
    int64_t kp;              /* bytes per row of xp: K rounded up to 32 */
    int64_t ng;              /* groups per row */
    /* The SIMD kernels' scale tables (awq_w4a8_tile_tables: prepared by the caller, or made by the
     * driver for this call; unused by the scalar kernel). Layout: [ceil(N/16) tiles][ng groups]
     * [16 rows], fp16 bits and bytes; entry (t, g, r) is row 16t + r's scale / zero point of group g
     * (0 for rows past N). */
    const uint16_t *tile_scales;
    const uint8_t *tile_zeros;
    /* The weights repacked for the AVX2 tile (see above), or NULL: read by the AVX2 kernel instead
     * of qweight when present; the other kernels read qweight. */
    const uint8_t *rows8;
} awq_w4a8_job;

/* Rows of W per work item: a multiple of both tile heights. */
#define AWQ_W4A8_NB 64
/* Rows of x a SIMD tile keeps accumulators for; larger M is processed in chunks of this many. */
#define AWQ_W4A8_MC 16

/* y[0..M, n0..n1) for n1 - n0 <= AWQ_W4A8_NB; n0 is a multiple of 16. */
void awq_w4a8_block_scalar(const awq_w4a8_job *J, int64_t n0, int64_t n1);
#if AWQ_X86
void awq_w4a8_block_avx2(const awq_w4a8_job *J, int64_t n0, int64_t n1);
void awq_w4a8_block_avx512(const awq_w4a8_job *J, int64_t n0, int64_t n1);
void awq_w4a8_block_avx512vnni(const awq_w4a8_job *J, int64_t n0, int64_t n1);
#endif

/* Quantize rows [0, M) of x, groups of G along K (no argument checks). Returns -1 when every
 * value is finite, else the index (m*K + k) of the first non-finite one; outputs are then
 * unspecified. Every variant produces the scalar one's bits. */
int64_t awq_quantize_act_q8_scalar(const float *x, int64_t M, int64_t K, int64_t G, int8_t *xq, float *x_scale,
                                   int32_t *x_sum);
#if AWQ_X86
int64_t awq_quantize_act_q8_avx2(const float *x, int64_t M, int64_t K, int64_t G, int8_t *xq, float *x_scale,
                                 int32_t *x_sum);
int64_t awq_quantize_act_q8_avx512(const float *x, int64_t M, int64_t K, int64_t G, int8_t *xq, float *x_scale,
                                   int32_t *x_sum);
#endif

/* The best path this CPU runs (and AWQ_SIMD allows): VNNI when AVX-512 and AVX512_VNNI are
 * detected, then AVX-512 BW, AVX2, scalar. */
awq_w4a8_path awq_w4a8_best_path(void);

/* awq_quantize_act_q8 / awq_w4a8_gemm / awq_w4a8_gemm_f32 on a chosen path, with all of their
 * argument checks (tests compare the paths through these). A path this CPU cannot run returns
 * AWQ_ERR_UNSUPPORTED. The quantizer has one SIMD variant per ISA: VNNI and BW share the
 * AVX-512 one. */
int awq_quantize_act_q8_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K, int64_t group_size,
                             int8_t *xq, float *x_scale, int32_t *x_sum);
int awq_w4a8_gemm_path(awq_w4a8_path path, const int8_t *xq, const float *x_scale, const int32_t *x_sum,
                       int64_t M, int64_t K, const uint8_t *qweight, const uint16_t *scales,
                       const uint8_t *zeros, int64_t N, int64_t group_size, float *y);
int awq_w4a8_gemm_f32_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                           const uint16_t *scales, const uint8_t *zeros, int64_t N, int64_t group_size,
                           float *y);
int awq_w4a8_gemm_f32_repacked_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K,
                                    const uint8_t *qweight, const uint16_t *scales, const uint8_t *zeros,
                                    const uint16_t *tile_scales, const uint8_t *tile_zeros, const uint8_t *repacked,
                                    int64_t repacked_bytes, int64_t N, int64_t group_size, float *y);
int awq_w4a8_gemm_f32_tiled_path(awq_w4a8_path path, const float *x, int64_t M, int64_t K, const uint8_t *qweight,
                                 const uint16_t *scales, const uint8_t *zeros, const uint16_t *tile_scales,
                                 const uint8_t *tile_zeros, int64_t N, int64_t group_size, float *y);

#endif /* AWQ_W4A8_H */
