/*
 * clip_error.h — internals of awq_clip_error shared by the scalar reference and driver
 * (clip_error.c) and the SIMD kernels (clip_error_avx2.c, clip_error_avx512.c). Not installed.
 *
 * The definition (awq_kernels.h), per weight row n and quantization group g:
 *     p[m]       = Σ_{k∈g} x[m,k]·d[n,k]         fp32, one fused multiply-add per k, k ascending
 *     err[n,g]   = (Σ_m p[m]²) / M               double, one fused multiply-add per m, m ascending
 * Every path evaluates exactly these operations (the scalar kernel with fmaf and fma, the SIMD
 * kernels with the vector FMA), so all paths produce the same bits.
 *
 * SIMD layout ("lanes = rows of d"): the driver transposes each block of CE_NB = 64 rows of d into
 * [K][64] (rows past N are zero), so one vector load holds column k of 16 (or 8) consecutive rows
 * and one broadcast of x[m,k] feeds them all: no horizontal sums. A block's transposed rows stay in
 * L1 across the calibration rows of one group (64 × 4 bytes per column, 32 KB for a 128-group).
 */
#ifndef AWQ_CLIP_ERROR_H
#define AWQ_CLIP_ERROR_H

#include "awq_internal.h"

/* Rows of d per block (and per task). */
#define CE_NB 64

typedef struct awq_clip_error_job {
    const float *x;  /* [M, K] */
    const float *d;  /* [N, K] */
    float *dt;       /* [n_blocks][K][CE_NB] transposed d (SIMD paths; NULL for scalar) */
    double *err;     /* [N, ng] */
    int64_t M, K, N, G, ng;
} awq_clip_error_job;

/* err for rows [n0, n0 + CE_NB) ∩ [0, N) of block b, from the block's transposed rows dt_b [K][CE_NB]. */
typedef void (*awq_clip_error_block_fn)(const awq_clip_error_job *j, const float *dt_b, int64_t n0);

#if AWQ_X86
void awq_clip_error_block_avx2(const awq_clip_error_job *j, const float *dt_b, int64_t n0);
void awq_clip_error_block_avx512(const awq_clip_error_job *j, const float *dt_b, int64_t n0);
#endif

/* The scalar reference over the same rows (reads d directly). */
void awq_clip_error_block_scalar(const awq_clip_error_job *j, int64_t n0);

/* awq_clip_error on a chosen path (arguments already checked). AWQ_OK or AWQ_ERR_OUT_OF_MEMORY. */
int awq_clip_error_isa(awq_isa isa, const float *x, int64_t M, int64_t K, const float *d, int64_t N,
                       int64_t group_size, double *err);

#endif /* AWQ_CLIP_ERROR_H */
